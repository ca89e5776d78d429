//! Liveness after healing: once every crashed node has restarted and every
//! partition healed, every transaction reaches an end (2PC may block while
//! its coordinator is down, but must resolve after it restarts).

use super::{RunView, Scratch, Violation, violation};

/// The invariant's name.
pub const NAME: &str = "termination";

/// Check it.
pub fn check(view: &RunView<'_>, _: &mut Scratch, out: &mut Vec<Violation>) {
    if !view.healed {
        return;
    }
    let stuck = view.outcomes.iter().filter(|(_, o)| !o.is_terminal());
    out.extend(stuck.map(|(tx, o)| {
        violation(
            NAME,
            Some(*tx),
            view.end_index,
            format!(
                "{tx}: still {} at {} with every fault healed",
                o.name(),
                view.end
            ),
        )
    }));
}
