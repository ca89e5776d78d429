//! The resources of a workflow numbered in one flat list (service by
//! service, each service's resources in name order), with every step's
//! place in it, so a checker can keep an amount per resource in a vector
//! instead of a map keyed by names.

use crate::protocols::workload::{StepId, Workflow};

/// The flat list, rebuilt for each run into kept memory.
#[derive(Clone, Debug, Default)]
pub struct ResourceSlots {
    /// Each step's slot.
    step_slot: Vec<usize>,
    /// Each service's first slot.
    service_first: Vec<usize>,
    /// Per slot: the starting amount (0 for a resource a step names but
    /// its service does not have) and the amount now.
    pub(super) amounts: Vec<(i64, i64)>,
    /// How many slots are the services' own resources (they come first).
    pub(super) declared: usize,
}

impl ResourceSlots {
    /// Number `wf`'s resources and place its steps (once per run: the
    /// checkers that keep amounts share the numbering); every amount starts
    /// at its starting value.
    pub fn number(&mut self, wf: &Workflow) {
        self.amounts.clear();
        self.step_slot.clear();
        self.service_first.clear();
        for s in &wf.services {
            self.service_first.push(self.amounts.len());
            self.amounts.extend(s.resources.values().map(|v| (*v, *v)));
        }
        self.declared = self.amounts.len();
        for (i, spec) in wf.steps.iter().enumerate() {
            let svc = &wf.services[spec.service.index()];
            let slot = match svc.resources.keys().position(|r| *r == spec.resource) {
                Some(p) => self.service_first[spec.service.index()] + p,
                // A resource the service does not declare: one slot per
                // (service, name), shared by the steps that name it.
                None => (0..i)
                    .find(|j| {
                        let other = &wf.steps[*j];
                        other.service == spec.service && other.resource == spec.resource
                    })
                    .map(|j| self.step_slot[j])
                    .unwrap_or_else(|| {
                        self.amounts.push((0, 0));
                        self.amounts.len() - 1
                    }),
            };
            self.step_slot.push(slot);
        }
    }

    /// Every amount back to its starting value, for the next checker.
    pub fn restart(&mut self) {
        for (start, now) in &mut self.amounts {
            *now = *start;
        }
    }

    /// The slot of `step`'s resource.
    pub fn of(&self, step: StepId) -> usize {
        self.step_slot[step.index()]
    }
}
