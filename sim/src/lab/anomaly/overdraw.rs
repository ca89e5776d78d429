//! Overdraw: a business rule broken at some moment — a write that takes a
//! resource (stock, a balance) below zero. One instance per crossing, not
//! per change made while below.

use super::history::{AccessKind, History};
use super::{Anomaly, AnomalyClass, raw};

/// Every overdraw.
pub fn detect(h: &History) -> Vec<Anomaly> {
    h.accesses
        .iter()
        .filter_map(|w| match w.kind {
            AccessKind::Write { before, after, .. } if before >= 0 && after < 0 => Some(Anomaly {
                class: AnomalyClass::Overdraw,
                txs: vec![w.tx.0],
                resource: raw(&w.resource),
                trace_index: w.index,
                text: format!("{} took it from {before} to {after}", w.tx),
            }),
            _ => None,
        })
        .collect()
}
