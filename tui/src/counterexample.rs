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
