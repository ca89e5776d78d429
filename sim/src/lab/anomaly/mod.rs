//! Isolation anomalies, by class, detected from what the services actually
//! did (the [`History`] of reads and writes), one detector per file:
//!
//! - [`lost_update`]: a write that ignores a change another transaction
//!   made since the read it is based on (a compensation restoring an old
//!   value, a write computed from a stale read).
//! - [`dirty_read`]: a read that saw a change later compensated.
//! - [`fuzzy_read`]: a transaction that comes back to a resource finds it
//!   changed by another since it last looked.
//! - [`overdraw`]: a write that takes a resource below zero.
//!
//! [`risky_isolated`] turns them into an invariant where `by_value` is on:
//! no anomaly may name a risky request.
//!
//! Each finding is one instance (one read or one write), not a pair of
//! transactions, and names the transactions, the resource and the trace
//! index. Under strict two-phase locking none of them can happen: a 2PC
//! participant reads under its locks and writes before releasing them.

pub mod dirty_read;
pub mod fuzzy_read;
pub mod history;
pub mod lost_update;
pub mod overdraw;
pub mod risky_isolated;

pub use history::{Access, AccessKind, History};

use crate::lab::view::RunView;
use serde::{Deserialize, Serialize};

/// The anomaly classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyClass {
    /// A change wiped by a write that ignored it.
    LostUpdate,
    /// A read of a change later compensated.
    DirtyRead,
    /// A resource changed by another between two looks of one transaction.
    FuzzyRead,
    /// A resource taken below zero.
    Overdraw,
}

impl AnomalyClass {
    /// Every class, in report order.
    pub const ALL: [AnomalyClass; 4] = [
        AnomalyClass::LostUpdate,
        AnomalyClass::DirtyRead,
        AnomalyClass::FuzzyRead,
        AnomalyClass::Overdraw,
    ];

    /// The name used in reports and expectations.
    pub fn name(self) -> &'static str {
        match self {
            AnomalyClass::LostUpdate => "lost_update",
            AnomalyClass::DirtyRead => "dirty_read",
            AnomalyClass::FuzzyRead => "fuzzy_read",
            AnomalyClass::Overdraw => "overdraw",
        }
    }
}

/// One anomaly instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Its class.
    pub class: AnomalyClass,
    /// The transaction that read or wrote, then the others involved.
    pub txs: Vec<u32>,
    /// `service.resource`.
    pub resource: String,
    /// Where it shows in the trace.
    pub trace_index: u64,
    /// What happened, in words.
    pub text: String,
}

/// Counts per class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnomalyClasses {
    /// Lost updates.
    pub lost_update: u64,
    /// Dirty reads.
    pub dirty_read: u64,
    /// Fuzzy reads.
    pub fuzzy_read: u64,
    /// Overdraws.
    pub overdraw: u64,
}

impl AnomalyClasses {
    /// Count `found` by class.
    pub fn of(found: &[Anomaly]) -> Self {
        let mut c = AnomalyClasses::default();
        for a in found {
            *c.get_mut(a.class) += 1;
        }
        c
    }

    /// The count of `class`.
    pub fn get(&self, class: AnomalyClass) -> u64 {
        match class {
            AnomalyClass::LostUpdate => self.lost_update,
            AnomalyClass::DirtyRead => self.dirty_read,
            AnomalyClass::FuzzyRead => self.fuzzy_read,
            AnomalyClass::Overdraw => self.overdraw,
        }
    }

    /// The count of `class`, to add to.
    pub fn get_mut(&mut self, class: AnomalyClass) -> &mut u64 {
        match class {
            AnomalyClass::LostUpdate => &mut self.lost_update,
            AnomalyClass::DirtyRead => &mut self.dirty_read,
            AnomalyClass::FuzzyRead => &mut self.fuzzy_read,
            AnomalyClass::Overdraw => &mut self.overdraw,
        }
    }

    /// All classes together.
    pub fn total(&self) -> u64 {
        AnomalyClass::ALL.iter().map(|c| self.get(*c)).sum()
    }
}

/// Every anomaly of a run, in trace order.
pub fn detect(view: &RunView<'_>) -> Vec<Anomaly> {
    let h = History::of(view);
    let mut found = lost_update::detect(&h);
    found.extend(dirty_read::detect(&h));
    found.extend(fuzzy_read::detect(&h));
    found.extend(overdraw::detect(&h));
    let names = |a: &mut Anomaly| a.resource = label(view, &a.resource);
    found.iter_mut().for_each(names);
    found.sort_by_key(|a| (a.trace_index, a.class));
    found
}

/// Detectors name a resource `service-index.resource`; turn the index into
/// the service's name.
fn label(view: &RunView<'_>, raw: &str) -> String {
    let (svc, res) = raw.split_once('.').unwrap_or(("", raw));
    let name = svc
        .parse::<usize>()
        .ok()
        .and_then(|i| view.workflow.services.get(i))
        .map_or(svc, |s| s.name.as_str());
    format!("{name}.{res}")
}

/// The raw label of a resource, for [`Anomaly::resource`].
pub(crate) fn raw(resource: &history::Resource) -> String {
    format!("{}.{}", resource.0.0, resource.1)
}

/// Transactions other than `me`, sorted and without repeats.
pub(crate) fn others(
    me: crate::protocols::workload::TxId,
    txs: impl Iterator<Item = crate::protocols::workload::TxId>,
) -> Vec<u32> {
    let mut v: Vec<u32> = txs.filter(|t| *t != me).map(|t| t.0).collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests;
