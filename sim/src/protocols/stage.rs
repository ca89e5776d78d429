//! Stages: the workflow cut into the units that run one after another.
//!
//! A stage is one step, or a *parallel group*: consecutive steps that name
//! the same `group`. The sagas run a group's members at once and move on
//! when all of them are done (the orchestrator sends every command of the
//! group, the choreography fans one event out to every member and the next
//! stage joins on all their events). 2PC needs nothing: it prepares every
//! participant in parallel anyway. A workflow without groups has one stage
//! per step, and every protocol behaves exactly as a sequential saga.

use super::workload::{StepId, Workflow};
use std::ops::Range;

impl Workflow {
    /// The stage `step` belongs to, as a range of step indexes.
    pub fn stage_of(&self, step: StepId) -> Range<u16> {
        let i = step.index();
        let group = &self.steps[i].group;
        if group.is_none() {
            return step.0..step.0 + 1;
        }
        let same = |j: &usize| &self.steps[*j].group == group;
        let first = (0..i).rev().take_while(same).last().unwrap_or(i);
        let end = (i..self.steps.len()).take_while(same).last().unwrap_or(i) + 1;
        first as u16..end as u16
    }

    /// Every stage, in order.
    pub fn stages(&self) -> Vec<Range<u16>> {
        let mut out = Vec::new();
        let mut i = 0u16;
        while usize::from(i) < self.steps.len() {
            let stage = self.stage_of(StepId(i));
            i = stage.end;
            out.push(stage);
        }
        out
    }

    /// The stage before `step`'s, if any.
    pub fn stage_before(&self, step: StepId) -> Option<Range<u16>> {
        let first = self.stage_of(step).start;
        first.checked_sub(1).map(|p| self.stage_of(StepId(p)))
    }

    /// The stage after `step`'s, if any.
    pub fn stage_after(&self, step: StepId) -> Option<Range<u16>> {
        let end = self.stage_of(step).end;
        (usize::from(end) < self.steps.len()).then(|| self.stage_of(StepId(end)))
    }

    /// Whether any stage has more than one step.
    pub fn has_groups(&self) -> bool {
        self.stages().iter().any(|s| s.len() > 1)
    }
}

/// The steps of a stage.
pub fn members(stage: &Range<u16>) -> impl Iterator<Item = StepId> + use<> {
    stage.clone().map(StepId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_steps_of_one_group_form_a_stage() {
        let mut wf = Workflow::holiday();
        assert_eq!(wf.stages(), vec![0..1, 1..2, 2..3, 3..4]);
        assert!(!wf.has_groups());
        wf.steps[1].group = Some("trip".into());
        wf.steps[2].group = Some("trip".into());
        assert_eq!(wf.stages(), vec![0..1, 1..3, 3..4]);
        assert_eq!(wf.stage_of(StepId(2)), 1..3);
        assert_eq!(wf.stage_before(StepId(2)), Some(0..1));
        assert_eq!(wf.stage_after(StepId(1)), Some(3..4));
        assert_eq!(wf.stage_after(StepId(3)), None);
        assert!(wf.has_groups());
    }
}
