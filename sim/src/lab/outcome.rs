//! How each transaction ended, read from the observations.

use super::view::RunView;
use crate::engine::{Observation, SimTime};
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
    // Only the workload's transactions get an outcome: a table with a row
    // per transaction and a column per node that observed anything (a
    // sweep classifies tens of thousands of runs; maps cost more than the
    // counting).
    let txs = workflow.transactions as usize;
    let nodes = obs.iter().map(|o| o.node.0 as usize + 1).max().unwrap_or(0);
    let row = |tx: TxId| (tx.0 as usize) < txs;
    // The last state each node reached, per transaction.
    let mut last: Vec<Option<Local>> = vec![None; txs * nodes];
    // Transactions the coordinator (or the client) knows anything of.
    let mut heard_of = vec![false; txs];
    for o in obs {
        if let Obs::TxStarted { tx }
        | Obs::TxFinished { tx, .. }
        | Obs::Decided { tx, .. }
        | Obs::ClientTold { tx, .. } = o.obs
        {
            if row(tx) {
                heard_of[tx.0 as usize] = true;
            }
        }
        let state = match o.obs {
            Obs::Prepared { .. } => Local::Prepared,
            Obs::Committed { .. } => Local::Committed,
            Obs::Aborted { .. } => Local::Aborted,
            _ => continue,
        };
        let tx = o.obs.tx();
        if row(tx) {
            last[tx.0 as usize * nodes + o.node.0 as usize] = Some(state);
        }
    }
    // Services with a step take part (`Workflow::participants`, counted
    // without building its list).
    let participants = (0..workflow.services.len())
        .filter(|i| workflow.steps.iter().any(|s| s.service.index() == *i))
        .count();
    workflow
        .tx_ids()
        .map(|tx| {
            let states = &last[tx.0 as usize * nodes..(tx.0 as usize + 1) * nodes];
            let n = |s| states.iter().filter(|x| **x == Some(s)).count();
            let (c, a, p) = (n(Local::Committed), n(Local::Aborted), n(Local::Prepared));
            let outcome = if c > 0 && (a > 0 || c + p < participants && p == 0) {
                Outcome::Inconsistent
            } else if p > 0 {
                Outcome::Blocked
            } else if c == participants {
                Outcome::Committed
            } else if states.iter().all(Option::is_none) && !heard_of[tx.0 as usize] {
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
    // When each transaction started, by transaction number (a vector, not
    // a map: a sweep measures tens of thousands of runs).
    let txs = view.obs.iter().filter_map(|o| match o.obs {
        Obs::Requested { tx } | Obs::TxStarted { tx } => Some(tx.0 as usize + 1),
        _ => None,
    });
    let mut start: Vec<Option<SimTime>> = vec![None; txs.max().unwrap_or(0)];
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
            start[tx.0 as usize].get_or_insert(o.time);
        }
        if let (true, Some(Some(s))) = (ends, start.get(tx.0 as usize)) {
            lat.entry(tx)
                .or_insert_with(|| (o.time - *s).as_millis_f64());
        }
    }
    lat
}
