//! The layers point one way: the engine knows nothing of protocols or the
//! lab, protocols know nothing of the lab, and nothing in `sim` does I/O or
//! reads a clock. A source scan keeps it so.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

fn files(sub: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub),
        &mut out,
    );
    assert!(!out.is_empty(), "no sources under {sub}");
    out
}

/// The one file allowed to do I/O: the testkit's (test tooling behind the
/// `testkit` feature) writing and reading repro files.
const TESTKIT_FILES: &str = "testkit/files.rs";

/// The one hash set allowed: the explorer's visited set of fingerprints. It
/// uses a fixed identity hasher (no `RandomState`) and is only asked
/// `insert`/`contains`, never iterated, so nothing hash-ordered reaches a
/// result.
const VISITED_SET: &str = "explore/visited.rs";

fn assert_absent(sub: &str, forbidden: &[&str]) {
    for (path, text) in files(sub) {
        for f in forbidden {
            if *f == "std::fs" && path.ends_with(TESTKIT_FILES) {
                continue;
            }
            if *f == "HashSet" && path.ends_with(VISITED_SET) {
                continue;
            }
            assert!(!text.contains(f), "{path} mentions {f}");
        }
    }
}

#[test]
fn the_engine_knows_nothing_above_it() {
    assert_absent("engine", &["crate::protocols", "crate::lab"]);
}

#[test]
fn protocols_know_nothing_of_the_lab() {
    assert_absent("protocols", &["crate::lab"]);
}

#[test]
fn sim_does_no_io_and_reads_no_clock() {
    assert_absent(
        "",
        &[
            "std::fs",
            "std::net",
            "std::io::stdin",
            "Instant::now",
            "SystemTime",
            "thread_rng",
            "HashMap",
            "HashSet",
        ],
    );
}
