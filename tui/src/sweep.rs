//! The sweep overlay: the scenario over a hundred seeds, the outcome
//! counts per protocol, and the seeds that break an invariant (enter opens
//! one).

use crate::action::Action;
use crate::app::{App, Overlay};
use std::collections::BTreeMap;
use txlab_sim::lab::run;
use txlab_sim::protocols::Protocol;

/// The sweep view's results.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepResult {
    /// Seeds run.
    pub seeds: std::ops::Range<u64>,
    /// Per protocol: outcome name → runs.
    pub outcomes: Vec<BTreeMap<String, u32>>,
    /// Seeds with a violation in any protocol.
    pub violating: Vec<u64>,
}

impl App {
    /// Seeds per sweep from the UI (kept small so the UI stays responsive).
    pub const SWEEP_SEEDS: u64 = 100;

    pub(crate) fn sweep(&mut self) {
        let base = self.rec.scenario.clone();
        let from = base.file.seed;
        let seeds = from..from + Self::SWEEP_SEEDS;
        let mut outcomes = vec![BTreeMap::new(); 3];
        let mut violating = Vec::new();
        for seed in seeds.clone() {
            let s = base.with_seed(seed);
            let mut bad = false;
            for (i, p) in Protocol::ALL.iter().enumerate() {
                let mut spec = s.spec_for(*p);
                spec.recording = false;
                let r = run(&spec).report;
                for (o, n) in r.outcomes.iter().filter(|(_, n)| **n > 0) {
                    *outcomes[i].entry(o.clone()).or_insert(0) += n;
                }
                bad |= !r.violations.is_empty();
            }
            if bad {
                violating.push(seed);
            }
        }
        self.overlay = Overlay::Sweep {
            result: SweepResult {
                seeds,
                outcomes,
                violating,
            },
            selected: 0,
        };
    }

    pub(crate) fn update_sweep(&mut self, action: Action) {
        let Overlay::Sweep { result, selected } = self.overlay.clone() else {
            return;
        };
        let n = result.violating.len().max(1);
        match action {
            Action::Down => {
                self.overlay = Overlay::Sweep {
                    result,
                    selected: (selected + 1) % n,
                }
            }
            Action::Up => {
                self.overlay = Overlay::Sweep {
                    result,
                    selected: (selected + n - 1) % n,
                }
            }
            Action::Confirm => {
                if let Some(seed) = result.violating.get(selected) {
                    let s = self.rec.scenario.with_seed(*seed);
                    self.open(s);
                    self.status = format!("opened seed {seed}, which violates an invariant");
                }
                self.overlay = Overlay::None;
            }
            Action::Back | Action::Sweep => self.overlay = Overlay::None,
            Action::Quit => self.quit = true,
            _ => {}
        }
    }
}
