//! Every rule a parallel group must follow (docs/scenarios.md, "Parallel
//! steps") is bad input with the group field's line and column, and a
//! well-formed group loads.

use txlab_sim::lab::scenario::Scenario;

/// Services a, b, c, d, then the given steps: `(name, service, kind,
/// group)`, each on resource `u`, amount 1.
fn file(steps: &[(&str, &str, &str, &str)], extra: &str) -> String {
    let mut t = String::from("name = \"g\"\nseed = 1\n");
    t += extra;
    for s in ["a", "b", "c", "d"] {
        t += &format!("[[services]]\nname = \"{s}\"\nresources = {{ u = 10 }}\n");
    }
    for (name, service, kind, group) in steps {
        t += &format!(
            "[[steps]]\nname = \"{name}\"\nservice = \"{service}\"\nresource = \"u\"\namount = 1\nkind = \"{kind}\"\n"
        );
        if !group.is_empty() {
            t += &format!("group = {group}\n");
        }
    }
    t
}

/// The error for `text`, which must not load.
fn error(text: &str) -> String {
    match Scenario::parse(text.as_bytes(), "g.toml") {
        Ok(_) => panic!("loaded:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// The 1-based line of the `n`th (0-based) `group =` line of `text`.
fn group_line(text: &str, n: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("group ="))
        .nth(n)
        .map(|(i, _)| i + 1)
        .expect("that many group lines")
}

const C: &str = "compensatable";

#[test]
fn a_well_formed_group_loads() {
    let text = file(
        &[
            ("r", "a", C, ""),
            ("x", "b", C, "\"g\""),
            ("y", "c", C, "\"g\""),
        ],
        "",
    );
    Scenario::parse(text.as_bytes(), "g.toml").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn each_broken_rule_names_the_group_field_and_why() {
    let q = "\"g\"";
    let cases: Vec<(String, usize, &str)> = vec![
        (
            file(&[("x", "a", C, q), ("r", "b", C, ""), ("y", "c", C, q)], ""),
            1,
            "must be consecutive",
        ),
        (
            file(&[("x", "a", C, q), ("y", "a", C, q)], ""),
            1,
            "same service",
        ),
        (
            file(&[("x", "a", C, q), ("y", "b", "retriable", q)], ""),
            1,
            "one kind",
        ),
        (
            file(&[("x", "a", "pivot", q), ("y", "b", "pivot", q)], ""),
            0,
            "pivot",
        ),
        // A group of one is harmless, but not for the pivot: the docs say
        // no group member may be the pivot.
        (file(&[("x", "a", "pivot", q)], ""), 0, "pivot"),
        (
            file(&[("r", "a", C, ""), ("x", "a", C, q), ("y", "b", C, q)], ""),
            0,
            "stage just before",
        ),
        (
            file(&[("x", "a", C, "\"\""), ("y", "b", C, "\"\"")], ""),
            0,
            "needs a name",
        ),
        (
            file(
                &[("x", "a", C, q), ("y", "b", C, q)],
                "[toggles]\npessimistic_view = true\n",
            ),
            0,
            "pessimistic_view",
        ),
    ];
    for (text, nth, why) in cases {
        let e = error(&text);
        let at = format!("g.toml:{}:", group_line(&text, nth));
        assert!(e.contains(&at), "expected {at} in: {e}\n{text}");
        assert!(e.contains(why), "expected \"{why}\" in: {e}\n{text}");
    }
}
