//! Invariants a user adds: closures over a finished run's final state and
//! its observation log, judged beside the built-in checkers.

use crate::engine::Observation;
use crate::lab::{Run, Violation};
use crate::protocols::{Obs, Outcome};
use std::sync::Arc;

/// What a user invariant sees of a finished run.
pub struct Facts<'a> {
    /// The run's report: outcomes, final state, metrics, the built-in
    /// checkers' violations.
    pub report: &'a crate::lab::RunReport,
    /// Every observation, in trace order.
    pub obs: &'a [Observation<Obs>],
}

impl Facts<'_> {
    /// The final amount of `resource` at `service` (zero if unknown).
    pub fn amount(&self, service: &str, resource: &str) -> i64 {
        self.report
            .final_state
            .get(service)
            .and_then(|r| r.get(resource))
            .copied()
            .unwrap_or(0)
    }

    /// How many transactions ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> u32 {
        self.report.count(outcome)
    }
}

type Check = dyn Fn(&Facts<'_>) -> Result<(), String> + Send + Sync;

/// A named invariant: `Ok(())` when it holds, else what is wrong.
#[derive(Clone)]
pub struct Invariant {
    name: String,
    check: Arc<Check>,
}

impl std::fmt::Debug for Invariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Invariant({})", self.name)
    }
}

impl Invariant {
    /// An invariant called `name` (the name violations carry).
    pub fn new(
        name: &str,
        check: impl Fn(&Facts<'_>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Invariant {
            name: name.to_string(),
            check: Arc::new(check),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Judge `run`: a violation at the end of its trace, or none.
    pub fn judge(&self, run: &Run) -> Option<Violation> {
        let trace = run.world.trace();
        let facts = Facts {
            report: &run.report,
            obs: trace.observations(),
        };
        (self.check)(&facts).err().map(|message| Violation {
            invariant: self.name.clone(),
            tx: None,
            trace_index: trace.len(),
            message,
        })
    }
}

/// The built-in checkers' violations of `run` followed by those of the
/// user's `invariants`.
pub fn violations(run: &Run, invariants: &[Invariant]) -> Vec<Violation> {
    let mut out = run.report.violations.clone();
    out.extend(invariants.iter().filter_map(|i| i.judge(run)));
    out
}
