//! Checkpoints for the fold, so that any jump (`n`/`N`, a step back, a
//! click on the timeline, `G`) costs the events from the nearest
//! checkpoint at or before the target, not the whole trace.
//!
//! A checkpoint is a clone of the [`Folder`] after a multiple of
//! [`Checkpoints::EVERY`] events. They are taken the first time the fold
//! passes each multiple (so the first trip to the end of a trace folds it
//! once, and every trip after that is short), and they are exact because
//! the folder is a running summary of its prefix: restoring one and
//! folding on is the same computation as folding from the start.

use crate::fold::FoldOptions;
use crate::folder::Folder;
use crate::recording::PaneRun;

/// One pane's checkpoints and the state it was last folded to.
#[derive(Clone, Debug)]
pub struct Checkpoints {
    every: usize,
    /// `saved[k]`: the state after `k * every` events.
    saved: Vec<Folder>,
    /// The state last folded to: a step forward from it costs that step.
    current: Folder,
}

impl Checkpoints {
    /// Events between checkpoints: at most this many are folded per jump
    /// (plus building the view: labels for the rows on screen).
    pub const EVERY: usize = 2048;

    /// No checkpoint yet but the start, for `run` drawn with `opts`.
    pub fn new(run: &PaneRun, opts: FoldOptions) -> Self {
        Self::with_interval(run, opts, Self::EVERY)
    }

    /// As [`Checkpoints::new`], one checkpoint every `every` events.
    pub fn with_interval(run: &PaneRun, opts: FoldOptions, every: usize) -> Self {
        let start = Folder::new(run, opts);
        Checkpoints {
            every: every.max(1),
            saved: vec![start.clone()],
            current: start,
        }
    }

    /// The options the states are folded with.
    pub fn options(&self) -> FoldOptions {
        self.current.options()
    }

    /// The state after the first `n` events of `run` (clamped to the
    /// trace).
    pub fn fold_to(&mut self, run: &PaneRun, n: usize) -> &Folder {
        let n = n.min(run.world.trace().events().len());
        let here = self.current.shown();
        // Forward by less than the interval: go on from where we are.
        // Anything else restarts from the last checkpoint at or before n.
        if !(here <= n && n - here < self.every) {
            let k = (n / self.every).min(self.saved.len() - 1);
            if k * self.every > here || here > n {
                self.current = self.saved[k].clone();
            }
        }
        while self.current.shown() < n {
            let mark = (self.current.shown() / self.every + 1) * self.every;
            self.current.advance(run, n.min(mark));
            if self.current.shown() == mark && self.saved.len() == mark / self.every {
                self.saved.push(self.current.clone());
            }
        }
        &self.current
    }

    /// Checkpoints taken so far (the start included).
    pub fn len(&self) -> usize {
        self.saved.len()
    }

    /// Never empty: the start is always kept.
    pub fn is_empty(&self) -> bool {
        self.saved.is_empty()
    }

    /// A rough count of the heap bytes the checkpoints hold.
    pub fn heap_bytes(&self) -> usize {
        self.saved
            .iter()
            .map(|f| f.heap_bytes() + std::mem::size_of::<Folder>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::Recording;
    use txlab_sim::lab::scenario::Scenario;
    use txlab_sim::protocols::workload::TxId;

    fn recording(name: &str) -> Recording {
        let path = format!("{}/../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).expect("lesson file");
        Recording::new(Scenario::parse(text.as_bytes(), name).unwrap(), Vec::new())
    }

    /// A small deterministic generator (no ambient randomness in tests).
    fn positions(len: usize, count: usize) -> Vec<usize> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..count)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % (len as u64 + 1)) as usize
            })
            .collect()
    }

    /// Jump to each position in a scrambled order; the first position
    /// where the state differs from folding from the start.
    fn first_mismatch(cp: &mut Checkpoints, run: &PaneRun, at: &[usize]) -> Option<usize> {
        let opts = cp.options();
        at.iter().copied().find(|&n| {
            let jumped = cp.fold_to(run, n).clone();
            let mut direct = Folder::new(run, opts);
            direct.advance(run, n);
            jumped != direct || jumped.view(run) != direct.view(run)
        })
    }

    /// Every jump (back, forward, far, near, past a checkpoint not taken
    /// yet) lands on the state the fold from the start reaches, for every
    /// pane and with each option the UI can set.
    #[test]
    fn a_jump_reaches_the_same_state_as_folding_from_the_start() {
        let rec = recording("long-lived-contention");
        let options = [
            FoldOptions::default(),
            FoldOptions {
                background: true,
                tx: None,
            },
            FoldOptions {
                background: false,
                tx: Some(TxId(1)),
            },
        ];
        for run in &rec.panes {
            let len = run.world.trace().events().len();
            assert!(len > 500, "a trace long enough to have checkpoints");
            for opts in options {
                let mut cp = Checkpoints::with_interval(run, opts, 37);
                let mut at = positions(len, 60);
                at.extend([len, 0, len - 1, 37, 36, 38, 74, 1]);
                assert_eq!(
                    first_mismatch(&mut cp, run, &at),
                    None,
                    "{:?}",
                    run.protocol
                );
                assert!(cp.len() > len / 37, "checkpoints were taken");
            }
        }
    }

    /// Negative control: a checkpoint taken one event off is caught.
    #[test]
    fn a_checkpoint_one_event_off_is_caught() {
        let rec = recording("long-lived-contention");
        let run = &rec.panes[0];
        let len = run.world.trace().events().len();
        let mut cp = Checkpoints::with_interval(run, FoldOptions::default(), 37);
        cp.fold_to(run, len);
        // Checkpoint 5 says it holds 185 events but was taken after 184
        // (one event would be skipped on the way on).
        let mut off = Folder::new(run, FoldOptions::default());
        off.advance(run, 5 * 37 - 1);
        off.mislabel(5 * 37);
        cp.saved[5] = off;
        cp.current = cp.saved[0].clone();
        let at: Vec<usize> = (5 * 37..6 * 37).collect();
        assert!(first_mismatch(&mut cp, run, &at).is_some());
    }
}
