//! Registers and reads: what a service remembers about the values its
//! steps read, and how it computes the change a register step makes.
//!
//! A *counter* (stock, a balance changed by deltas) is updated
//! commutatively: an action subtracts its amount, a compensation adds it
//! back, whatever happened in between. A *register* (an order's status, a
//! balance written as "the value I read minus 100") is set to a value
//! computed from a read, and its compensation restores the value it had
//! before the action — the before-image. When another saga wrote the
//! register in between, that restore wipes its change: Richardson's lost
//! update. A step may also rely on an *earlier* step's read (`reads`): it
//! writes `that read − amount` without looking again.
//!
//! The countermeasures that change these rules (Richardson, ch. 4):
//! `commutative_updates` turns register writes into deltas; `version_file`
//! keeps every operation on a register and computes its value by replaying
//! the live ones in order, so an undone operation is simply dropped;
//! `reread_value` makes a step that relies on an earlier read compare it
//! with the current value first, and refuse (the saga fails backward) when
//! it changed.

use super::workload::{StepId, StepSpec, TxId};
use std::collections::BTreeMap;

/// The values around one applied action (or one read noted at a 2PC
/// prepare): what the step read and what it left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Memo {
    /// The value before the action (what it read).
    pub before: i64,
    /// The value after it (what the saga believes the value is now).
    pub after: i64,
}

/// How a service treats its registers (from the run's toggles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Register writes are deltas (the commutative-updates countermeasure).
    pub commutative_updates: bool,
    /// Register values are replayed from their live operations (the
    /// version-file countermeasure).
    pub version_file: bool,
    /// A step relying on an earlier read checks it first (the reread-value
    /// countermeasure).
    pub reread_value: bool,
}

/// A service's memory of reads and register operations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Memory {
    /// Per (transaction, step): the values around its action, or the read
    /// noted for it at a 2PC prepare.
    memo: BTreeMap<(TxId, StepId), Memo>,
    /// The version file: per register, the live operations in the order
    /// they were applied.
    ops: BTreeMap<String, Vec<(TxId, StepId, i64)>>,
}

impl Memory {
    /// What `tx` read (and left) at `step`, if it ran there.
    pub fn memo(&self, tx: TxId, step: StepId) -> Option<Memo> {
        self.memo.get(&(tx, step)).copied()
    }

    /// Note a read made for `step` ahead of its write (a 2PC participant
    /// reads at PREPARE and writes at COMMIT).
    pub fn note_read(&mut self, tx: TxId, step: StepId, value: i64) {
        self.memo.insert(
            (tx, step),
            Memo {
                before: value,
                after: value,
            },
        );
    }

    /// Remember an applied action (`register`: it is also an operation in
    /// the version file).
    pub fn acted(&mut self, tx: TxId, step: StepId, spec: &StepSpec, memo: Memo, register: bool) {
        self.memo.insert((tx, step), memo);
        if register {
            let ops = self.ops.entry(spec.resource.clone()).or_default();
            ops.push((tx, step, memo.after - memo.before));
        }
    }

    /// Remember an applied compensation: its operation leaves the file.
    pub fn compensated(&mut self, tx: TxId, step: StepId, spec: &StepSpec) {
        if let Some(ops) = self.ops.get_mut(&spec.resource) {
            ops.retain(|(t, s, _)| (*t, *s) != (tx, step));
        }
    }

    /// The value the step's write is based on: a read noted for it (2PC),
    /// else what the step it relies on left, else `current`.
    fn basis(&self, tx: TxId, step: StepId, spec: &StepSpec, current: i64) -> i64 {
        if let Some(m) = self.memo(tx, step) {
            return m.before;
        }
        spec.reads
            .and_then(|r| self.memo(tx, r))
            .map_or(current, |m| m.after)
    }

    /// Reread value: `Err` when the step relies on an earlier read and the
    /// value has changed since.
    pub fn reread(
        &self,
        rules: Rules,
        tx: TxId,
        spec: &StepSpec,
        current: i64,
    ) -> Result<(), String> {
        let Some(m) = spec.reads.and_then(|r| self.memo(tx, r)) else {
            return Ok(());
        };
        if rules.reread_value && m.after != current {
            return Err(format!(
                "{} changed since it was read ({} then, {current} now)",
                spec.resource, m.after
            ));
        }
        Ok(())
    }

    /// The change an action of `step` makes to a resource now at
    /// `current`.
    pub fn action_delta(
        &self,
        rules: Rules,
        register: bool,
        tx: TxId,
        step: StepId,
        spec: &StepSpec,
        current: i64,
    ) -> i64 {
        if !register || rules.commutative_updates || rules.version_file {
            return -spec.amount;
        }
        (self.basis(tx, step, spec, current) - spec.amount) - current
    }

    /// The change a compensation of `step` makes (its action having been
    /// applied) to a resource now at `current`, starting from `initial`.
    pub fn compensation_delta(
        &self,
        rules: Rules,
        register: bool,
        key: (TxId, StepId),
        spec: &StepSpec,
        current: i64,
        initial: i64,
    ) -> i64 {
        if !register || rules.commutative_updates {
            return spec.compensation_amount;
        }
        if rules.version_file {
            let live: i64 = self
                .ops
                .get(&spec.resource)
                .map(|ops| {
                    ops.iter()
                        .filter(|(t, s, _)| (*t, *s) != key)
                        .map(|(_, _, d)| d)
                        .sum()
                })
                .unwrap_or(0);
            return initial + live - current;
        }
        // Restore the before-image, whatever happened since.
        match self.memo(key.0, key.1) {
            Some(m) => m.before - current,
            None => spec.amount,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::workload::{ServiceId, StepKind};

    fn charge() -> StepSpec {
        StepSpec {
            name: "charge".into(),
            service: ServiceId(0),
            resource: "balance".into(),
            amount: 100,
            kind: StepKind::Compensatable,
            action: "charge".into(),
            compensation: "refund".into(),
            compensation_amount: 100,
            reads: None,
            group: None,
        }
    }

    /// A charges 100 (300 → 200), B charges 100 (200 → 100), A is undone.
    fn interleaved(rules: Rules) -> i64 {
        let mut m = Memory::default();
        let spec = charge();
        let (a, b, s) = (TxId(0), TxId(1), StepId(0));
        let mut v = 300;
        for tx in [a, b] {
            let d = m.action_delta(rules, true, tx, s, &spec, v);
            let memo = Memo {
                before: v,
                after: v + d,
            };
            m.acted(tx, s, &spec, memo, true);
            v += d;
        }
        v += m.compensation_delta(rules, true, (a, s), &spec, v, 300);
        m.compensated(a, s, &spec);
        v
    }

    #[test]
    fn restoring_the_before_image_loses_the_other_sagas_charge() {
        assert_eq!(interleaved(Rules::default()), 300, "B's charge is gone");
    }

    #[test]
    fn commutative_updates_and_the_version_file_keep_it() {
        let commutative = Rules {
            commutative_updates: true,
            ..Rules::default()
        };
        let version = Rules {
            version_file: true,
            ..Rules::default()
        };
        assert_eq!(interleaved(commutative), 200);
        assert_eq!(interleaved(version), 200);
    }

    #[test]
    fn reread_refuses_a_value_that_changed_since_it_was_read() {
        let mut m = Memory::default();
        let mut later = charge();
        later.reads = Some(StepId(0));
        let memo = Memo {
            before: 300,
            after: 300,
        };
        m.acted(TxId(0), StepId(0), &charge(), memo, false);
        let on = Rules {
            reread_value: true,
            ..Rules::default()
        };
        assert!(m.reread(on, TxId(0), &later, 300).is_ok());
        assert!(m.reread(on, TxId(0), &later, 200).is_err());
        assert!(m.reread(Rules::default(), TxId(0), &later, 200).is_ok());
        // Without the check the stale read is the basis of the write.
        let d = m.action_delta(Rules::default(), true, TxId(0), StepId(1), &later, 200);
        assert_eq!(200 + d, 200, "300 − 100 written over 200");
    }
}
