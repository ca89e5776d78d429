//! A prepared 2PC participant never aborts on its own: once it voted yes,
//! only the decision may end the transaction, even across its crashes.

use super::{RunView, Violation, violation};
use crate::engine::NodeId;
use crate::protocols::workload::TxId;
use crate::protocols::{AbortWhy, Obs};
use std::collections::BTreeSet;

/// The invariant's name.
pub const NAME: &str = "prepared_never_aborts_alone";

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let mut prepared: BTreeSet<(NodeId, TxId)> = BTreeSet::new();
    let mut out = Vec::new();
    for o in view.obs {
        match o.obs {
            Obs::Prepared { tx } => {
                prepared.insert((o.node, tx));
            }
            Obs::Aborted { tx, why }
                if why != AbortWhy::Decision && prepared.contains(&(o.node, tx)) =>
            {
                let why = match why {
                    AbortWhy::VotedNo => "as if it had voted no",
                    AbortWhy::BeforeVote => "as if it had not voted",
                    _ => "unilaterally",
                };
                let msg = format!(
                    "{tx}: {} aborted on its own ({why}) after voting yes",
                    o.node
                );
                out.push(violation(NAME, Some(tx), o.index, msg));
            }
            _ => {}
        }
    }
    out
}
