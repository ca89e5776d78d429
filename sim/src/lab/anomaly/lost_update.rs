//! Lost update: a write that ignores a change another transaction made
//! since the read it is based on. The classic saga case is a compensation
//! that restores the value it found (the before-image) over another saga's
//! change; the other is a write computed from a stale read (a step relying
//! on an earlier step's read, or a 2PC participant whose prepare read was
//! not protected by locks). A write "ignores" the changes in between when
//! it leaves exactly the value it would have left without them: a
//! commutative write (a delta) keeps them and is not a lost update.

use super::history::{AccessKind, History};
use super::{Anomaly, AnomalyClass, others, raw};

/// Every lost update, one per write that wiped at least one change.
pub fn detect(h: &History) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for w in &h.accesses {
        let AccessKind::Write {
            op,
            basis,
            ignoring,
            after,
            ..
        } = w.kind
        else {
            continue;
        };
        let between: Vec<_> = h
            .on(&w.resource)
            .filter(|a| a.is_write() && a.tx != w.tx && a.index > basis && a.index < w.index)
            .collect();
        let net: i64 = between.iter().map(|a| a.delta()).sum();
        if between.is_empty() || net == 0 || after != ignoring {
            continue;
        }
        let victims = others(w.tx, between.iter().map(|a| a.tx));
        let what = match op {
            crate::protocols::workload::Op::Compensation => "compensation restored",
            crate::protocols::workload::Op::Action => "write, computed from a stale read, set",
        };
        let mut txs = vec![w.tx.0];
        txs.extend(&victims);
        out.push(Anomaly {
            class: AnomalyClass::LostUpdate,
            txs,
            resource: raw(&w.resource),
            trace_index: w.index,
            text: format!(
                "{}'s {what} {after}, wiping a change of {net:+} by {}",
                w.tx,
                list(&victims)
            ),
        });
    }
    out
}

/// `T1, T2` for transaction numbers.
pub(crate) fn list(txs: &[u32]) -> String {
    txs.iter()
        .map(|t| format!("T{t}"))
        .collect::<Vec<_>>()
        .join(", ")
}
