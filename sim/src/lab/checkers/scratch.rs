//! The tables the checkers fill while they read a run, kept between runs
//! so that a sweep worker, judging thousands of runs, allocates them once
//! instead of building maps for every checker of every run. Each checker
//! empties its own tables before use: what one run left behind never
//! reaches the next run's verdict.

use super::grid::Grid;
use super::slots::ResourceSlots;
use crate::engine::NodeId;
use crate::protocols::workload::{StepId, Workflow};

/// Every checker's reusable tables.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// atomicity: the first commit and the first abort per transaction.
    pub(super) first_ends: Grid<Option<(u64, NodeId)>>,
    /// commit_validity: who voted yes, by (transaction, node).
    pub(super) voted_yes: Grid<bool>,
    /// commit_validity: transactions with a logged commit decision.
    pub(super) commit_logged: Grid<bool>,
    /// decision_stability: the first decision per transaction.
    pub(super) first_decision: Grid<Option<bool>>,
    /// agreement: each participant's last outcome, by (transaction, node).
    pub(super) last_ends: Grid<Option<(u64, bool)>>,
    /// agreement: the earliest claim of commit and of abort per
    /// transaction.
    pub(super) claims: Grid<Option<super::agreement::Claim>>,
    /// applied_matches_outcome: (times, net change, last index) per step.
    pub(super) applied: Grid<(u32, i64, u64)>,
    /// prepared_abort: who prepared, by (transaction, node).
    pub(super) prepared: Grid<bool>,
    /// saga_shape: per (transaction, step).
    pub(super) saga_steps: Grid<super::saga_shape::StepCell>,
    /// saga_shape: the last index of a local change per transaction.
    pub(super) saga_last: Grid<u64>,
    /// saga_shape: one transaction's compensated steps, by when.
    pub(super) saga_seq: Vec<(u32, StepId)>,
    /// saga_shape: one transaction's compensation order.
    pub(super) saga_order: Vec<StepId>,
    /// compensation_order: (applied, compensated) per step.
    pub(super) paired: Grid<(bool, bool)>,
    /// outbox: where each commit and each event first showed.
    pub(super) commits: Grid<Option<u64>>,
    /// outbox: the same for the events published.
    pub(super) events: Grid<Option<u64>>,
    /// event_delivery: events published per transaction.
    pub(super) published: Grid<usize>,
    /// at_most_once: applications per (transaction, step, operation).
    pub(super) applications: Grid<u32>,
    /// conservation: (net change, last index) per step.
    pub(super) net: Grid<(i64, u64)>,
    /// conservation and no_overdraw: the resources and their amounts.
    pub(super) resources: ResourceSlots,
}

impl Scratch {
    /// A scratch for runs of `workflow`.
    pub fn new(workflow: &Workflow) -> Self {
        let mut scratch = Scratch::default();
        scratch.prepare(workflow);
        scratch
    }

    /// Number what the checkers share of `workflow` (its resources),
    /// before any checker reads the scratch: once for all the runs of one
    /// workflow.
    pub fn prepare(&mut self, workflow: &Workflow) {
        self.resources.number(workflow);
    }
}
