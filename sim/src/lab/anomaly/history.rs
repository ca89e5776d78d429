//! The access history the anomaly detectors read: every read and write the
//! services actually made, per resource, with the values around it,
//! rebuilt from the observations (the starting amounts plus each local
//! transaction's change, in trace order).
//!
//! - A saga action is a read of the value it found and, if it changed the
//!   resource, a write. A step that relies on an earlier read (`reads`)
//!   makes no read of its own: its write is *based* on that earlier read.
//! - A saga compensation is a write based on its action: a compensation
//!   that restores the before-image ignores whatever happened since.
//! - A 2PC participant reads when it prepares (under its locks) and writes
//!   at commit, based on that read.

use crate::lab::view::RunView;
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, ServiceId, StepId, TxId, Workflow};
use crate::protocols::{Obs, Protocol};
use std::collections::BTreeMap;

/// A resource: its service and name.
pub type Resource = (ServiceId, String);

/// One access to a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// Trace position.
    pub index: u64,
    /// The transaction.
    pub tx: TxId,
    /// The resource.
    pub resource: Resource,
    /// What it was.
    pub kind: AccessKind,
}

/// A read or a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessKind {
    /// The transaction saw `value`.
    Read {
        /// The value seen.
        value: i64,
    },
    /// The transaction changed the value from `before` to `after`.
    Write {
        /// Action or compensation.
        op: Op,
        /// The step.
        step: StepId,
        /// Value just before.
        before: i64,
        /// Value just after.
        after: i64,
        /// Trace index of the read (or action) this write is based on.
        basis: u64,
        /// The value the write leaves if it ignores every change made
        /// since its basis (a before-image restored, a stale read minus
        /// the amount).
        ignoring: i64,
    },
}

impl Access {
    /// Whether it is a write.
    pub fn is_write(&self) -> bool {
        matches!(self.kind, AccessKind::Write { .. })
    }

    /// The change a write made (zero for a read).
    pub fn delta(&self) -> i64 {
        match self.kind {
            AccessKind::Write { before, after, .. } => after - before,
            AccessKind::Read { .. } => 0,
        }
    }
}

/// Every access of a run, in trace order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// The accesses.
    pub accesses: Vec<Access>,
}

/// What the builder tracks while it walks the observations.
struct Builder<'a> {
    wf: &'a Workflow,
    values: BTreeMap<Resource, i64>,
    /// (tx, step) → (index, value before, value after) of its last action.
    acted: BTreeMap<(TxId, StepId), (u64, i64, i64)>,
    /// (tx, service) → (index, values) of its 2PC prepare read.
    prepared: BTreeMap<(TxId, ServiceId), (u64, BTreeMap<String, i64>)>,
    out: Vec<Access>,
}

impl History {
    /// Rebuild the history of `view`.
    pub fn of(view: &RunView<'_>) -> History {
        let wf = view.workflow;
        let mut b = Builder {
            wf,
            values: BTreeMap::new(),
            acted: BTreeMap::new(),
            prepared: BTreeMap::new(),
            out: Vec::new(),
        };
        for (i, s) in wf.services.iter().enumerate() {
            for (r, v) in &s.resources {
                b.values.insert((ServiceId(i as u16), r.clone()), *v);
            }
        }
        for o in view.obs {
            match &o.obs {
                Obs::Local {
                    tx,
                    step,
                    op,
                    delta,
                    reply,
                } => b.local(o.index, *tx, *step, *op, *delta, reply, view.protocol),
                Obs::Prepared { tx } | Obs::Refused { tx, .. } => {
                    if let Some(svc) = view.service_of(o.node) {
                        b.prepare(o.index, *tx, svc);
                    }
                }
                _ => {}
            }
        }
        History { accesses: b.out }
    }

    /// The accesses to `resource`, in order.
    pub fn on<'a>(&'a self, resource: &'a Resource) -> impl Iterator<Item = &'a Access> {
        self.accesses
            .iter()
            .filter(move |a| &a.resource == resource)
    }

    /// Every resource accessed, in order.
    pub fn resources(&self) -> Vec<Resource> {
        let mut r: Vec<Resource> = self.accesses.iter().map(|a| a.resource.clone()).collect();
        r.sort();
        r.dedup();
        r
    }
}

impl Builder<'_> {
    /// A 2PC participant read every resource of its steps.
    fn prepare(&mut self, index: u64, tx: TxId, svc: ServiceId) {
        let mut seen = BTreeMap::new();
        for s in self.wf.steps_at(svc) {
            let name = self.wf.step(s).resource.clone();
            let key = (svc, name.clone());
            let value = self.values.get(&key).copied().unwrap_or(0);
            if seen.insert(name, value).is_none() {
                self.push(index, tx, key, AccessKind::Read { value });
            }
        }
        self.prepared.insert((tx, svc), (index, seen));
    }

    #[allow(clippy::too_many_arguments)]
    fn local(
        &mut self,
        index: u64,
        tx: TxId,
        step: StepId,
        op: Op,
        delta: i64,
        reply: &Reply,
        protocol: Protocol,
    ) {
        // The request's own amounts (scaled by its value).
        let spec = self.wf.step_for(tx, step);
        let key: Resource = (spec.service, spec.resource.clone());
        let before = self.values.get(&key).copied().unwrap_or(0);
        let after = before + delta;
        self.values.insert(key.clone(), after);
        let planned_reject = self.wf.failures_for(tx, step).any(|f| f.reject);
        let basis = match (op, protocol) {
            (Op::Compensation, _) => {
                // Based on its action; it would restore what the action found.
                let Some(&(at, found, _)) = self.acted.get(&(tx, step)) else {
                    return;
                };
                Some((at, found))
            }
            (Op::Action, Protocol::TwoPc) => self
                .prepared
                .get(&(tx, spec.service))
                .and_then(|(at, vals)| vals.get(&spec.resource).map(|v| (*at, v - spec.amount))),
            (Op::Action, _) => spec
                .reads
                .and_then(|r| self.acted.get(&(tx, r)))
                .map(|&(at, _, left)| (at, left - spec.amount)),
        };
        let reads_itself = op == Op::Action
            && protocol != Protocol::TwoPc
            && spec.reads.is_none()
            && !planned_reject
            && matches!(reply, Reply::Done | Reply::Rejected(_));
        if reads_itself {
            self.push(index, tx, key.clone(), AccessKind::Read { value: before });
        }
        if op == Op::Action && *reply == Reply::Done {
            self.acted.insert((tx, step), (index, before, after));
        }
        // A register step sets a value even when it equals the old one (a
        // stale write can do exactly that); a counter's zero change is none.
        let sets = self.wf.is_register(step) && spec.amount != 0 && *reply == Reply::Done;
        if delta == 0 && !sets {
            return;
        }
        let (basis, ignoring) = basis.unwrap_or((index, after));
        let kind = AccessKind::Write {
            op,
            step,
            before,
            after,
            basis,
            ignoring,
        };
        self.push(index, tx, key, kind);
    }

    fn push(&mut self, index: u64, tx: TxId, resource: Resource, kind: AccessKind) {
        self.out.push(Access {
            index,
            tx,
            resource,
            kind,
        });
    }
}
