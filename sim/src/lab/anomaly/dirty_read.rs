//! Dirty read: a read that saw a change another transaction made and later
//! compensated — a value that, in the end, never was. One instance per
//! read, whatever the number of such changes it saw. A 2PC participant
//! shows only committed changes, so a 2PC read is never dirty.

use super::history::{AccessKind, History};
use super::lost_update::list;
use super::{Anomaly, AnomalyClass, others, raw};
use crate::protocols::workload::{Op, StepId, TxId};
use std::collections::BTreeMap;

/// Every dirty read.
pub fn detect(h: &History) -> Vec<Anomaly> {
    // (tx, step, resource) → trace index of its action's and its
    // compensation's writes.
    let mut acted: BTreeMap<(TxId, StepId, &super::history::Resource), u64> = BTreeMap::new();
    let mut undone: BTreeMap<(TxId, StepId, &super::history::Resource), u64> = BTreeMap::new();
    for a in &h.accesses {
        if let AccessKind::Write { op, step, .. } = a.kind {
            let map = if op == Op::Action {
                &mut acted
            } else {
                &mut undone
            };
            map.entry((a.tx, step, &a.resource)).or_insert(a.index);
        }
    }
    let mut out = Vec::new();
    for r in &h.accesses {
        let AccessKind::Read { value } = r.kind else {
            continue;
        };
        let seen = acted.iter().filter(|((tx, step, res), at)| {
            *tx != r.tx
                && *res == &r.resource
                && **at < r.index
                && undone
                    .get(&(*tx, *step, *res))
                    .is_some_and(|u| *u > r.index)
        });
        let writers = others(r.tx, seen.map(|((tx, _, _), _)| *tx));
        if writers.is_empty() {
            continue;
        }
        let mut txs = vec![r.tx.0];
        txs.extend(&writers);
        out.push(Anomaly {
            class: AnomalyClass::DirtyRead,
            txs,
            resource: raw(&r.resource),
            trace_index: r.index,
            text: format!(
                "{} read {value}, including a change by {} compensated later",
                r.tx,
                list(&writers)
            ),
        });
    }
    out
}
