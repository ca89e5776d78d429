//! How each transaction ended, read from the observations.

use super::view::RunView;
use crate::engine::{NodeId, Observation};
use crate::protocols::workload::{TxId, Workflow};
use crate::protocols::{Obs, Outcome, Protocol};
use std::collections::BTreeMap;

/// The outcome of every transaction of the run.
pub fn outcomes(
    protocol: Protocol,
    workflow: &Workflow,
    obs: &[Observation<Obs>],
) -> BTreeMap<TxId, Outcome> {
    match protocol {
        Protocol::TwoPc => two_pc_outcomes(workflow, obs),
        Protocol::Orchestrated | Protocol::Choreographed => saga_outcomes(workflow, obs),
    }
}

/// Where a 2PC participant left a transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Local {
    Prepared,
    Committed,
    Aborted,
}

fn two_pc_outcomes(workflow: &Workflow, obs: &[Observation<Obs>]) -> BTreeMap<TxId, Outcome> {
    let mut last: BTreeMap<(TxId, NodeId), Local> = BTreeMap::new();
    // Transactions the coordinator (or the client) knows anything of.
    let mut heard_of = std::collections::BTreeSet::new();
    for o in obs {
        if let Obs::TxStarted { tx }
        | Obs::TxFinished { tx, .. }
        | Obs::Decided { tx, .. }
        | Obs::ClientTold { tx, .. } = o.obs
        {
            heard_of.insert(tx);
        }
        let state = match o.obs {
            Obs::Prepared { .. } => Local::Prepared,
            Obs::Committed { .. } => Local::Committed,
            Obs::Aborted { .. } => Local::Aborted,
            _ => continue,
        };
        last.insert((o.obs.tx(), o.node), state);
    }
    let participants = workflow.participants().len();
    workflow
        .tx_ids()
        .map(|tx| {
            let states: Vec<Local> = last
                .range((tx, NodeId(0))..=(tx, NodeId(u32::MAX)))
                .map(|(_, s)| *s)
                .collect();
            let n = |s| states.iter().filter(|x| **x == s).count();
            let (c, a, p) = (n(Local::Committed), n(Local::Aborted), n(Local::Prepared));
            let outcome = if c > 0 && (a > 0 || c + p < participants && p == 0) {
                Outcome::Inconsistent
            } else if p > 0 {
                Outcome::Blocked
            } else if c == participants {
                Outcome::Committed
            } else if states.is_empty() && !heard_of.contains(&tx) {
                // The request never reached the coordinator and nobody
                // answered: not aborted, just not done (as the sagas say).
                Outcome::Unfinished
            } else {
                // Nobody committed and nobody is in doubt: aborted, by
                // decision or by presumption.
                Outcome::Aborted
            };
            (tx, outcome)
        })
        .collect()
}

fn saga_outcomes(workflow: &Workflow, obs: &[Observation<Obs>]) -> BTreeMap<TxId, Outcome> {
    let mut out: BTreeMap<TxId, Outcome> = workflow
        .tx_ids()
        .map(|t| (t, Outcome::Unfinished))
        .collect();
    for o in obs {
        if let Obs::TxFinished { tx, outcome } = o.obs {
            out.insert(tx, outcome);
        }
    }
    out
}

/// What each client was told (its first answer).
pub fn reported_to_client(obs: &[Observation<Obs>]) -> BTreeMap<TxId, Outcome> {
    let mut told = BTreeMap::new();
    for o in obs {
        if let Obs::ClientTold { tx, outcome } = o.obs {
            told.entry(tx).or_insert(outcome);
        }
    }
    told
}

/// End-to-end latency per transaction, from the client's view (THEORY.md):
/// from its first request to the first answer it got. A run without a
/// client node (a hand-made log, a unit test) measures from the central
/// node's start to its finish instead.
pub fn latencies(view: &RunView<'_>) -> BTreeMap<TxId, f64> {
    let has_client = view
        .obs
        .iter()
        .any(|o| matches!(o.obs, Obs::Requested { .. }));
    let mut start = BTreeMap::new();
    let mut lat = BTreeMap::new();
    for o in view.obs {
        let (starts, ends) = match o.obs {
            Obs::Requested { .. } => (has_client, false),
            Obs::TxStarted { .. } => (!has_client, false),
            Obs::ClientTold { .. } => (false, has_client),
            Obs::TxFinished { .. } => (false, !has_client),
            _ => continue,
        };
        let tx = o.obs.tx();
        if starts {
            start.entry(tx).or_insert(o.time);
        }
        if let (true, Some(s)) = (ends, start.get(&tx)) {
            lat.entry(tx)
                .or_insert_with(|| (o.time - *s).as_millis_f64());
        }
    }
    lat
}
