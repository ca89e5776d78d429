//! 2PC agreement: every participant's final outcome equals the
//! coordinator's decision and what the client was told. Any answer to an
//! inquiry (the coordinator's or a peer's) is a decision too: a participant
//! acts on it, so it must agree with every other.

use super::{RunView, Violation, violation};
use crate::engine::NodeId;
use crate::protocols::workload::TxId;
use crate::protocols::{Obs, Outcome};
use std::collections::BTreeMap;

/// The invariant's name.
pub const NAME: &str = "agreement";

/// One party's word on a transaction: who, where in the trace, commit or
/// abort.
struct Claim {
    who: Who,
    index: u64,
    commit: bool,
}

/// Who made a claim; put in words only for a violation (a sweep judges
/// thousands of runs that agree).
#[derive(Clone, Copy)]
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

/// Check it.
pub fn check(view: &RunView<'_>) -> Vec<Violation> {
    let mut claims: BTreeMap<TxId, Vec<Claim>> = BTreeMap::new();
    // The last outcome each participant reached.
    let mut finals: BTreeMap<(TxId, u32), (u64, bool)> = BTreeMap::new();
    for o in view.obs {
        let mut claim = |who: Who, commit| {
            claims.entry(o.obs.tx()).or_default().push(Claim {
                who,
                index: o.index,
                commit,
            });
        };
        match o.obs {
            Obs::Decided { commit, .. } => claim(Who::Decided(o.node), commit),
            Obs::Answered { commit, .. } => claim(Who::Answered(o.node), commit),
            Obs::Committed { tx } => {
                finals.insert((tx, o.node.0), (o.index, true));
            }
            Obs::Aborted { tx, .. } => {
                finals.insert((tx, o.node.0), (o.index, false));
            }
            // What the client was told, and what the coordinator reported
            // to it, are claims too (blocked or unfinished claim nothing).
            Obs::ClientTold { outcome, .. } => {
                if let Some(commit) = commit_of(outcome) {
                    claim(Who::Client, commit);
                }
            }
            Obs::TxFinished { outcome, .. } => {
                if let Some(commit) = commit_of(outcome) {
                    claim(Who::Reported(o.node), commit);
                }
            }
            _ => {}
        }
    }
    for ((tx, node), (index, commit)) in finals {
        let who = Who::Ended(node);
        claims
            .entry(tx)
            .or_default()
            .push(Claim { who, index, commit });
    }
    claims
        .into_iter()
        .filter_map(|(tx, c)| disagreement(tx, &c))
        .collect()
}

fn commit_of(outcome: Outcome) -> Option<bool> {
    match outcome {
        Outcome::Committed => Some(true),
        Outcome::Aborted => Some(false),
        _ => None,
    }
}

/// The first claim that contradicts the earliest one, as a violation.
fn disagreement(tx: TxId, claims: &[Claim]) -> Option<Violation> {
    let first = claims.iter().min_by_key(|c| c.index)?;
    let other = claims
        .iter()
        .filter(|c| c.commit != first.commit)
        .min_by_key(|c| c.index)?;
    let word = |c: &Claim| if c.commit { "commit" } else { "abort" };
    Some(violation(
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
    ))
}
