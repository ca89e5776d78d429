//! Fuzzy (non-repeatable) read: a transaction comes back to a resource — a
//! second read, or a write based on its earlier read — and another
//! transaction has changed it since it last looked. One instance per
//! return. Compensations are not a look: they undo, whatever the value.

use super::history::{Access, AccessKind, History};
use super::lost_update::list;
use super::{Anomaly, AnomalyClass, others, raw};
use crate::protocols::workload::{Op, TxId};
use std::collections::BTreeMap;

/// Whether `a` is a look at the value: a read, or an action's write based
/// on an earlier read (not one made in the same local transaction).
fn looks(a: &Access) -> bool {
    match a.kind {
        AccessKind::Read { .. } => true,
        AccessKind::Write { op, basis, .. } => op == Op::Action && basis < a.index,
    }
}

/// Every fuzzy read.
pub fn detect(h: &History) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for res in h.resources() {
        let on: Vec<&Access> = h.on(&res).collect();
        // Per transaction: the trace index of its last look.
        let mut last: BTreeMap<TxId, u64> = BTreeMap::new();
        for a in &on {
            if !looks(a) {
                continue;
            }
            if let Some(prev) = last.get(&a.tx).copied() {
                let between: Vec<&&Access> = on
                    .iter()
                    .filter(|b| b.is_write() && b.tx != a.tx && b.index > prev && b.index < a.index)
                    .collect();
                let net: i64 = between.iter().map(|b| b.delta()).sum();
                if net != 0 {
                    let writers = others(a.tx, between.iter().map(|b| b.tx));
                    let mut txs = vec![a.tx.0];
                    txs.extend(&writers);
                    out.push(Anomaly {
                        class: AnomalyClass::FuzzyRead,
                        txs,
                        resource: raw(&res),
                        trace_index: a.index,
                        text: format!(
                            "{} came back to a value changed by {net:+} since it looked ({})",
                            a.tx,
                            list(&writers)
                        ),
                    });
                }
            }
            last.insert(a.tx, a.index);
        }
    }
    out
}
