//! `risky_isolated`: the by-value countermeasure's promise, judged as an
//! invariant. A request whose value reaches the threshold runs as if under
//! a distributed transaction's locks (THEORY.md, Isolation: 2PC with strict
//! two-phase locking shows none of the anomalies), so no anomaly of any
//! class may name it, as the reader, the writer or the victim. Low-value
//! requests keep their anomalies among themselves: that is the business's
//! choice, not a violation.
//!
//! Off (no violation possible) when `by_value` is not in force. The
//! promise assumes idempotent consumers: with idempotency off, a risky
//! request's own duplicated action can overdraw, and is named here too
//! (`at_most_once` reports the cause).

use super::{Anomaly, detect};
use crate::lab::report::Violation;
use crate::lab::view::RunView;
use crate::protocols::workload::TxId;

/// The invariant's name.
pub const NAME: &str = "risky_isolated";

/// One violation per anomaly that names a risky request.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let Some(by_value) = view.by_value else {
        return Vec::new();
    };
    let wf = view.workflow;
    let risky = |t: &u32| by_value.risky(wf, TxId(*t));
    detect(view)
        .into_iter()
        .filter_map(|a| {
            let tx = *a.txs.iter().find(|t| risky(t))?;
            Some(Violation {
                invariant: NAME.to_string(),
                tx: Some(tx),
                trace_index: a.trace_index,
                message: words(&a, tx, wf.value_of(TxId(tx)), by_value.threshold),
            })
        })
        .collect()
}

/// The violation in words: which risky request, which anomaly.
fn words(a: &Anomaly, tx: u32, value: i64, threshold: u32) -> String {
    let class = a.class.name().replace('_', " ");
    let article = if class.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!(
        "T{tx} (value {value}, risky at threshold {threshold}) is named in {article} {class} on {}: {}",
        a.resource, a.text
    )
}
