//! A prepared 2PC participant never aborts on its own: once it voted yes,
//! only the decision may end the transaction, even across its crashes.

use super::{RunView, Scratch, Violation, node_cols, tx_rows, violation};
use crate::protocols::{AbortWhy, Obs};

/// The invariant's name.
pub const NAME: &str = "prepared_never_aborts_alone";

/// Check it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    let prepared = &mut scratch.prepared;
    prepared.reset(tx_rows(view), node_cols(view));
    for o in view.obs {
        match o.obs {
            Obs::Prepared { tx } => {
                *prepared.at(tx, o.node.0 as usize) = true;
            }
            Obs::Aborted { tx, why }
                if why != AbortWhy::Decision
                    && prepared.get(tx, o.node.0 as usize) == Some(&true) =>
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
}
