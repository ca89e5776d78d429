//! 2PC agreement: every participant's final outcome equals the
//! coordinator's decision and what the client was told. Any answer to an
//! inquiry (the coordinator's or a peer's) is a decision too: a participant
//! acts on it, so it must agree with every other.

use super::{RunView, Scratch, Violation, node_cols, tx_rows, violation};
use crate::engine::NodeId;
use crate::protocols::workload::TxId;
use crate::protocols::{Obs, Outcome};

/// The invariant's name.
pub const NAME: &str = "agreement";

/// One party's word on a transaction: who, where in the trace, commit or
/// abort.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Claim {
    who: Who,
    index: u64,
    commit: bool,
}

/// Who made a claim; put in words only for a violation (a sweep judges
/// thousands of runs that agree).
#[derive(Clone, Copy, Debug)]
enum Who {
    Decided(NodeId),
    Answered(NodeId),
    Client,
    Reported(NodeId),
    Ended(u32),
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Decided(n) => write!(f, "{n} decided"),
            Who::Answered(n) => write!(f, "{n} answered"),
            Who::Client => write!(f, "the client was told"),
            Who::Reported(n) => write!(f, "{n} reported"),
            Who::Ended(n) => write!(f, "n{n} ended"),
        }
    }
}

/// Check it. Claims disagree exactly when a transaction has a claim of
/// commit and a claim of abort, so only the earliest of each is kept: the
/// earlier of the two is the first word, the other the first to
/// contradict it.
pub fn check(view: &RunView<'_>, scratch: &mut Scratch, out: &mut Vec<Violation>) {
    // Per transaction: the earliest claim of abort (column 0) and of
    // commit (column 1).
    let claims = &mut scratch.claims;
    claims.reset(tx_rows(view), 2);
    // The last outcome each participant reached.
    let finals = &mut scratch.last_ends;
    finals.reset(tx_rows(view), node_cols(view));
    let mut claim = |tx: TxId, who: Who, index: u64, commit: bool| {
        let slot = claims.at(tx, usize::from(commit));
        if slot.is_none_or(|c| index < c.index) {
            *slot = Some(Claim { who, index, commit });
        }
    };
    for o in view.obs {
        match o.obs {
            Obs::Decided { tx, commit, .. } => claim(tx, Who::Decided(o.node), o.index, commit),
            Obs::Answered { tx, commit, .. } => claim(tx, Who::Answered(o.node), o.index, commit),
            Obs::Committed { tx } => *finals.at(tx, o.node.0 as usize) = Some((o.index, true)),
            Obs::Aborted { tx, .. } => *finals.at(tx, o.node.0 as usize) = Some((o.index, false)),
            // What the client was told, and what the coordinator reported
            // to it, are claims too (blocked or unfinished claim nothing).
            Obs::ClientTold { tx, outcome } => {
                if let Some(commit) = commit_of(outcome) {
                    claim(tx, Who::Client, o.index, commit);
                }
            }
            Obs::TxFinished { tx, outcome } => {
                if let Some(commit) = commit_of(outcome) {
                    claim(tx, Who::Reported(o.node), o.index, commit);
                }
            }
            _ => {}
        }
    }
    for (tx, row) in finals.rows() {
        for (node, end) in row.iter().enumerate() {
            if let Some((index, commit)) = *end {
                claim(tx, Who::Ended(node as u32), index, commit);
            }
        }
    }
    for (tx, row) in claims.rows() {
        if let [Some(abort), Some(commit)] = row {
            let (first, other) = match abort.index < commit.index {
                true => (abort, commit),
                false => (commit, abort),
            };
            out.push(disagreement(tx, first, other));
        }
    }
}

fn commit_of(outcome: Outcome) -> Option<bool> {
    match outcome {
        Outcome::Committed => Some(true),
        Outcome::Aborted => Some(false),
        _ => None,
    }
}

/// `other` contradicts `first`, the earliest claim, as a violation.
fn disagreement(tx: TxId, first: &Claim, other: &Claim) -> Violation {
    let word = |c: &Claim| if c.commit { "commit" } else { "abort" };
    violation(
        NAME,
        Some(tx),
        first.index.max(other.index),
        format!(
            "{tx}: {} {} but {} {}",
            first.who,
            word(first),
            other.who,
            word(other)
        ),
    )
}
