//! The saga countermeasures for missing isolation (Richardson,
//! "Microservices Patterns", ch. 4), each a `[toggles]` switch, with what
//! it costs. Where each is implemented:
//!
//! | toggle | what it does | prevents | costs |
//! |---|---|---|---|
//! | `semantic_lock` | an action marks what it touched *pending*; other sagas' actions on it get "busy" and retry until the saga ends and releases its marks ([`super::saga_step`], [`super::service`]) | dirty reads, fuzzy reads, lost updates, overdraws on the marked resources | latency and retries (busy replies), release messages, sagas failing backward when they give up waiting |
//! | `commutative_updates` | registers are written by deltas: an action subtracts, a compensation adds back ([`super::register`]) | lost updates by compensation | nothing at run time; only operations that *are* commutative qualify (a status cannot be) |
//! | `pessimistic_view` | writing compensatable steps move after the pivot, as retriable steps ([`pessimistic_view`]) | dirty reads (and compensations' lost updates): what others read is never undone | the moved steps must eventually succeed (retried without limit); the pivot runs earlier, so more sagas reach it before a cheap check fails |
//! | `reread_value` | a step relying on an earlier read compares it with the current value and refuses when it changed, so the saga fails backward ([`super::register`]) | lost updates and overdraws from stale reads | more sagas compensated (aborts and their messages), the client retries |
//! | `by_value` | per request, by business risk: a request whose value (`[workload] values`) reaches the threshold runs under the semantic lock (its actions mark pending; it is told "busy" where another saga has a pending mark), the others run as the bare saga but are told "busy" against a risky request's marks, and readers (the auditor) are told a risky request's change is pending ([`ByValue`], [`flagged`]) | every class for the risky requests (no anomaly involves one); the low-value requests keep their anomalies among themselves — the business decision | latency and busy retries for the risky requests and for whoever touches what they hold; release messages for every saga (the risky ones wait on everyone's marks) |
//! | `version_file` | a service keeps every operation on a register and computes its value by replaying the live ones in order; an undone operation is dropped ([`super::register`]) | lost updates by compensation, for operations that do not commute | storage (every operation kept), a replay per compensation |
//!
//! Two-phase commit with strict two-phase locking needs none of these: its
//! participants read and write under locks held to the end, and pay in
//! lock-hold time and, when the coordinator fails, blocking.

use super::Config;
use super::service::Service;
use super::workload::{StepId, StepKind, TxId, Workflow, value_in};
use serde::{Deserialize, Serialize};

/// The by-value countermeasure (Richardson: choose the concurrency
/// mechanism by business risk). Requests of value at least `threshold` are
/// *risky*: they get what a distributed transaction's locks would give
/// them, realised here as the semantic lock applied to that request only,
/// in the same saga services (so one workload runs both kinds). Two
/// requests conflict on a resource when either is risky: a risky request's
/// marks keep others out, and a risky request does not act where another
/// saga has a change pending (it would read a value that may yet be
/// undone). Two low-value requests never wait for each other, so their
/// anomalies remain — the price the business accepts for cheap orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "by_value as a table: `by_value = { threshold = 2 }`"
)]
pub struct ByValue {
    /// The smallest value that counts as risky (at least 1).
    pub threshold: u32,
}

/// `by_value` as written: a table, or `false` for off (`true` says
/// nothing about the threshold, so it is refused with the table's form).
/// A table goes to [`ByValue`]'s own reading, so a misspelt key is named.
pub fn by_value_or_off<'de, D>(d: D) -> Result<Option<ByValue>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Written;
    impl<'de> serde::de::Visitor<'de> for Written {
        type Value = Option<ByValue>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("by_value as a table, `by_value = { threshold = 2 }`, or false for off")
        }
        fn visit_bool<E: serde::de::Error>(self, on: bool) -> Result<Self::Value, E> {
            if on {
                Err(E::invalid_value(serde::de::Unexpected::Bool(true), &self))
            } else {
                Ok(None)
            }
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            ByValue::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_any(Written)
}

impl ByValue {
    /// Whether request `tx` of `wf` is risky.
    pub fn risky(self, wf: &Workflow, tx: TxId) -> bool {
        self.risky_value(wf.value_of(tx))
    }

    /// Whether a request of `value` is risky.
    pub fn risky_value(self, value: i64) -> bool {
        value >= i64::from(self.threshold)
    }
}

/// Whether an action of `tx` on `resource` at `service` must wait ("busy")
/// for another saga's pending change: under the semantic lock, any other
/// saga's mark; under by value, a mark when either request is risky.
pub fn busy(cfg: &Config, service: &Service, resource: &str, tx: TxId) -> bool {
    let t = &cfg.toggles;
    if !t.releases_marks() {
        return false;
    }
    let others = service.pending_others(resource, tx);
    match t.by_value {
        _ if t.semantic_lock => !others.is_empty(),
        Some(b) => {
            let wf = &cfg.workflow;
            // Broken on purpose (negative controls): a risky request does
            // not wait for the others.
            let waits = b.risky(wf, tx) && !cfg.broken.risky_skip_wait;
            !others.is_empty() && (waits || others.iter().any(|o| b.risky(wf, *o)))
        }
        None => false,
    }
}

/// Whether `service` flags `tx`'s changes to readers as pending (the
/// reader discounts them): `tx` holds a mark there and either every saga
/// locks (the semantic lock) or `tx` is a risky request (by value). A
/// low-value request's pending change is not flagged: a reader sees it,
/// the accepted risk of cheap orders. The auditor is such a reader: were a
/// risky request's pending change shown to it, the auditor would count
/// what the risky request's later compensation undoes, the dirty read by
/// value promises to prevent.
pub fn flagged(service: &Service, tx: TxId) -> bool {
    let locks = service.semantic_lock
        || service
            .by_value
            .is_some_and(|b| b.risky_value(value_in(&service.regs.values, tx)));
    locks && service.holds_marks(tx)
}

/// The pessimistic view: every compensatable step before the pivot that
/// changes something (amount above zero) moves after the pivot, in its
/// order, as a retriable step; read-only steps and the pivot keep their
/// place. Planned failures and `reads` follow their steps. A workflow
/// without a pivot is returned unchanged (there is no point of no return
/// to reorder around).
pub fn pessimistic_view(wf: &Workflow) -> Workflow {
    let Some(pivot) = wf.pivot() else {
        return wf.clone();
    };
    let moves = |s: StepId| {
        s < pivot && wf.step(s).amount > 0 && wf.step(s).kind == StepKind::Compensatable
    };
    let order: Vec<StepId> = wf
        .step_ids()
        .filter(|s| !moves(*s) && *s <= pivot)
        .chain(wf.step_ids().filter(|s| moves(*s)))
        .chain(wf.step_ids().filter(|s| *s > pivot))
        .collect();
    // Old id → new id.
    let mut new_id = vec![StepId(0); order.len()];
    for (i, old) in order.iter().enumerate() {
        new_id[old.index()] = StepId(i as u16);
    }
    let mut out = wf.clone();
    out.steps = order
        .iter()
        .map(|old| {
            let mut s = wf.step(*old).clone();
            if moves(*old) {
                s.kind = StepKind::Retriable;
            }
            s.reads = s.reads.map(|r| new_id[r.index()]);
            s
        })
        .collect();
    for f in &mut out.failures {
        f.step = f.step.map(|s| new_id[s.index()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `by_value` reads a table or `false` (off, so `--set
    /// toggles.by_value=false` compares a lesson with its switch off), and
    /// refuses `true` and other types.
    #[test]
    fn by_value_is_a_table_or_false() {
        let read =
            |v: &str| toml::from_str::<crate::protocols::Toggles>(&format!("by_value = {v}"));
        assert_eq!(read("false").unwrap().by_value, None);
        assert_eq!(
            read("{ threshold = 3 }").unwrap().by_value,
            Some(ByValue { threshold: 3 })
        );
        assert!(read("true").is_err());
        assert!(read("2").is_err());
        let typo = read("{ treshold = 3 }").unwrap_err().to_string();
        assert!(typo.contains("treshold"), "{typo}");
        assert_eq!(
            toml::from_str::<crate::protocols::Toggles>("")
                .unwrap()
                .by_value,
            None
        );
    }

    /// Under by value a reader is told a risky request's change is
    /// pending (and discounts it) until the saga is released; a low-value
    /// request's pending change is shown. Without any lock nothing is
    /// flagged.
    #[test]
    fn by_value_flags_only_the_risky_requests_pending_changes() {
        use super::super::workload::{Op, ServiceId};
        let wf = Workflow::holiday();
        let (pay, step) = (ServiceId(3), StepId(3));
        let mut s = Service::new(pay, &wf.services[3], true);
        s.regs.values = std::sync::Arc::new(vec![1, 2]);
        s.marks_until_release = true;
        for tx in [TxId(0), TxId(1)] {
            let act = s.plan(tx, step, &wf.steps[3], Op::Action, false);
            s.apply(&act);
        }
        assert_eq!(s.visible_to_readers(), [TxId(0), TxId(1)], "no lock");
        s.by_value = Some(ByValue { threshold: 2 });
        assert_eq!(s.visible_to_readers(), [TxId(0)], "T1 (value 2) pending");
        s.release(TxId(1));
        assert_eq!(s.visible_to_readers(), [TxId(0), TxId(1)], "T1 ended");
    }

    #[test]
    fn writing_steps_move_after_the_pivot_and_become_retriable() {
        let mut wf = Workflow::holiday();
        wf.steps[2].kind = StepKind::Pivot;
        wf.steps[1].amount = 0;
        let v = pessimistic_view(&wf);
        let names: Vec<&str> = v.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["book hotel", "book flight", "book car", "charge card"]
        );
        assert_eq!(v.steps[1].kind, StepKind::Pivot);
        assert_eq!(v.steps[2].kind, StepKind::Retriable);
        assert_eq!(v.steps[0].kind, StepKind::Compensatable, "read-only stays");
        assert_eq!(pessimistic_view(&Workflow::holiday()), Workflow::holiday());
    }
}
