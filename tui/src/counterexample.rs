//! A scenario the explorer wrote (`[explore]`): what the status line says
//! when one is opened.

use txlab_sim::lab::scenario::Scenario;

/// "counterexample: shortest path to INVARIANT, N steps" for an explorer
/// repro; nothing for an ordinary scenario.
pub fn status(scenario: &Scenario) -> Option<String> {
    let e = scenario.file.explore.as_ref()?;
    let steps = e.path.len();
    let plural = if steps == 1 { "" } else { "s" };
    Some(if e.invariant.is_empty() {
        format!("explored path, {steps} step{plural}")
    } else {
        format!(
            "counterexample: shortest path to {}, {steps} step{plural}",
            e.invariant
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
name = "repro"
[[services]]
name = "payment"
resources = { sam = 500 }
[[steps]]
name = "charge card"
service = "payment"
resource = "sam"
amount = 100
"#;

    #[test]
    fn a_repro_says_what_it_breaks_and_a_lesson_says_nothing() {
        let plain = Scenario::parse(FILE.as_bytes(), "plain").unwrap();
        assert_eq!(status(&plain), None);
        let text = format!(
            "{FILE}[explore]\nprotocol = \"orchestrated\"\ninvariant = \"at_most_once\"\npath = [\"timer client 128849018880\", \"crash orchestrator\"]\n"
        );
        let repro = Scenario::parse(text.as_bytes(), "repro").unwrap();
        assert_eq!(
            status(&repro).as_deref(),
            Some("counterexample: shortest path to at_most_once, 2 steps")
        );
    }

    /// A repro opens on the pane of the protocol its path was found in,
    /// whether given at start or opened later; a lesson on the first.
    #[test]
    fn a_repro_opens_on_its_protocol_pane() {
        let text = format!(
            "{FILE}[explore]\nprotocol = \"choreographed\"\npath = [\"timer client 128849018880\"]\n"
        );
        let repro = || Scenario::parse(text.as_bytes(), "repro").unwrap();
        let plain = || Scenario::parse(FILE.as_bytes(), "plain").unwrap();
        let focused = |app: &crate::app::App| app.panes[app.focus].protocol;
        let app = crate::app::App::new(repro(), Vec::new());
        assert_eq!(focused(&app), txlab_sim::protocols::Protocol::Choreographed);
        let mut app = crate::app::App::new(plain(), Vec::new());
        assert_eq!(app.focus, 0);
        app.open(repro());
        assert_eq!(focused(&app), txlab_sim::protocols::Protocol::Choreographed);
    }
}
