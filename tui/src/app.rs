//! The application state and its update function. No terminal types here:
//! tests drive it with actions and read the state.

use crate::action::Action;
use crate::fold::{PaneView, fold};
use crate::recording::Recording;
use std::collections::BTreeMap;
use txlab_sim::engine::SimTime;
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

/// Playback speeds, in events per second.
pub const SPEEDS: [u32; 8] = [1, 2, 5, 10, 20, 50, 100, 500];

/// A scenario the picker can open.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Shown name.
    pub name: String,
    /// The scenario, or why it cannot be loaded.
    pub scenario: Result<Scenario, String>,
}

/// What is inspected.
#[derive(Clone, Debug, PartialEq)]
pub enum Inspect {
    /// A node of the focused pane.
    Node(usize),
    /// An in-flight message of the focused pane (index in its list).
    Message(usize),
}

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

/// An overlay above the main screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// The keymap.
    Help,
    /// Details of a node or message.
    Inspect(Inspect),
    /// Choose a scenario.
    Picker {
        /// Highlighted entry.
        selected: usize,
    },
    /// Outcome distribution over seeds.
    Sweep {
        /// The results.
        result: SweepResult,
        /// Highlighted violating seed.
        selected: usize,
    },
}

/// A file the event loop should write (the update stays free of I/O).
#[derive(Clone, Debug, PartialEq)]
pub struct SaveRequest {
    /// Where.
    pub path: String,
    /// What.
    pub text: String,
}

/// The whole UI state.
pub struct App {
    /// Scenarios the picker offers.
    pub catalog: Vec<Entry>,
    /// The three runs.
    pub rec: Recording,
    /// Steps shown (0: the start).
    pub cursor: usize,
    /// Playing.
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// The focused pane (protocol index).
    pub focus: usize,
    /// The focused pane fills the screen.
    pub zoom: bool,
    /// Selected node per pane.
    pub node: usize,
    /// Selected in-flight message (index into the focused pane's list).
    pub message: Option<usize>,
    /// The overlay.
    pub overlay: Overlay,
    /// Injected faults go to all three protocols.
    pub mirror: bool,
    /// Only nodes whose name contains this are shown.
    pub filter: String,
    /// Typing into the filter.
    pub typing: bool,
    /// The last status message.
    pub status: String,
    /// Set when the user quits.
    pub quit: bool,
    /// A file to write.
    pub save: Option<SaveRequest>,
    /// Panes at the cursor (recomputed on every move).
    pub panes: Vec<PaneView>,
    pub(crate) next_partition: u32,
    /// The recording changed: no pane view can be reused.
    pub(crate) stale: bool,
}

impl App {
    /// An app on `scenario`, with `catalog` for the picker.
    pub fn new(scenario: Scenario, catalog: Vec<Entry>) -> Self {
        let rec = Recording::new(scenario, Vec::new());
        let mut app = App {
            catalog,
            rec,
            cursor: 0,
            playing: false,
            speed: 3,
            focus: 0,
            zoom: false,
            node: 0,
            message: None,
            overlay: Overlay::None,
            mirror: true,
            filter: String::new(),
            typing: false,
            status: String::new(),
            quit: false,
            save: None,
            panes: Vec::new(),
            next_partition: 1_000,
            stale: true,
        };
        app.refresh();
        app
    }

    /// The time at the cursor.
    pub fn now(&self) -> SimTime {
        self.rec.time_at(self.cursor)
    }

    /// Recompute the panes at the cursor. A step moves one pane only, so
    /// the others are kept as they are.
    fn refresh(&mut self) {
        let shown = self.rec.shown_at(self.cursor);
        let old = std::mem::take(&mut self.panes);
        self.panes = self
            .rec
            .panes
            .iter()
            .zip(shown)
            .enumerate()
            .map(|(i, (p, n))| match old.get(i) {
                Some(v) if v.shown == n as usize && !self.stale => v.clone(),
                _ => fold(p, n as usize),
            })
            .collect();
        self.stale = false;
        let flying = self.panes[self.focus].in_flight.len();
        self.message = self.message.filter(|m| *m < flying);
    }

    pub(crate) fn seek(&mut self, cursor: usize) {
        self.cursor = cursor.min(self.rec.steps.len());
        self.refresh();
    }

    /// Apply one action.
    pub fn update(&mut self, action: Action) {
        if self.typing {
            return self.update_filter(action);
        }
        match &self.overlay {
            Overlay::None => self.update_main(action),
            Overlay::Help | Overlay::Inspect(_) => match action {
                Action::Back | Action::Help | Action::Confirm => self.overlay = Overlay::None,
                Action::Quit => self.quit = true,
                _ => {}
            },
            Overlay::Picker { .. } => self.update_picker(action),
            Overlay::Sweep { .. } => self.update_sweep(action),
        }
    }

    fn update_main(&mut self, action: Action) {
        let len = self.rec.steps.len();
        match action {
            Action::Quit => self.quit = true,
            Action::TogglePlay => self.playing = !self.playing,
            Action::Tick => {
                if self.playing {
                    if self.cursor >= len {
                        self.playing = false;
                    } else {
                        self.seek(self.cursor + 1);
                    }
                }
            }
            Action::StepForward => self.seek(self.cursor + 1),
            Action::StepBack => self.seek(self.cursor.saturating_sub(1)),
            Action::TimeForward => {
                let t = self.now() + SimTime::from_millis(10);
                self.seek(self.rec.cursor_at_time(t + SimTime(1)).max(self.cursor + 1));
            }
            Action::TimeBack => {
                let t = self.now().saturating_sub(SimTime::from_millis(10));
                self.seek(
                    self.rec
                        .cursor_at_time(t + SimTime(1))
                        .min(self.cursor.saturating_sub(1)),
                );
            }
            Action::SpeedUp => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            Action::SpeedDown => self.speed = self.speed.saturating_sub(1),
            Action::JumpStart => self.seek(0),
            Action::JumpEnd => self.seek(len),
            Action::Seek(f) => self.seek((f.clamp(0.0, 1.0) * len as f64).round() as usize),
            Action::FocusNext => self.set_focus((self.focus + 1) % 3),
            Action::FocusPrev => self.set_focus((self.focus + 2) % 3),
            Action::ToggleZoom => self.zoom = !self.zoom,
            Action::NextNode | Action::Down => self.move_node(1),
            Action::PrevNode | Action::Up => self.move_node(-1),
            Action::NextMessage => {
                let n = self.panes[self.focus].in_flight.len();
                self.message = match (n, self.message) {
                    (0, _) => None,
                    (_, None) => Some(0),
                    (_, Some(m)) => Some((m + 1) % n),
                };
            }
            Action::Inspect | Action::Confirm => {
                self.overlay = Overlay::Inspect(match self.message {
                    Some(m) => Inspect::Message(m),
                    None => Inspect::Node(self.node),
                })
            }
            Action::CrashRestart => self.crash_restart(),
            Action::DropMessage => self.message_fault(true),
            Action::DuplicateMessage => self.message_fault(false),
            Action::PartitionHeal => self.partition_heal(),
            Action::ToggleMirror => {
                self.mirror = !self.mirror;
                self.status = format!(
                    "mirror faults to all protocols: {}",
                    if self.mirror { "on" } else { "off" }
                );
            }
            Action::SaveBranch => self.save_branch(),
            Action::Help => self.overlay = Overlay::Help,
            Action::Picker => self.overlay = Overlay::Picker { selected: 0 },
            Action::Sweep => self.sweep(),
            Action::Filter => {
                self.typing = true;
                self.filter.clear();
            }
            Action::Back => {
                self.filter.clear();
                self.message = None;
            }
            Action::Click { pane, node } => {
                if pane < self.panes.len() && pane != self.focus {
                    self.set_focus(pane);
                }
                // Only a node that exists (a stale click cannot select one).
                if let Some(n) = node.filter(|n| *n < self.panes[self.focus].nodes.len()) {
                    self.node = n;
                    self.message = None;
                }
            }
            Action::Char(_) | Action::Backspace => {}
        }
    }

    fn update_filter(&mut self, action: Action) {
        match action {
            Action::Char(c) => self.filter.push(c),
            Action::Backspace => {
                self.filter.pop();
            }
            Action::Confirm => self.typing = false,
            Action::Back => {
                self.typing = false;
                self.filter.clear();
            }
            Action::Quit => self.quit = true,
            _ => {}
        }
    }

    fn set_focus(&mut self, pane: usize) {
        self.focus = pane;
        self.message = None;
    }

    /// Node ids of the focused pane that pass the filter.
    pub fn visible_nodes(&self, pane: usize) -> Vec<usize> {
        self.panes[pane]
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| self.filter.is_empty() || n.name.contains(&self.filter))
            .map(|(i, _)| i)
            .collect()
    }

    fn move_node(&mut self, by: isize) {
        let visible = self.visible_nodes(self.focus);
        if visible.is_empty() {
            return;
        }
        let at = visible.iter().position(|n| *n == self.node).unwrap_or(0) as isize;
        let next = (at + by).rem_euclid(visible.len() as isize) as usize;
        self.node = visible[next];
        self.message = None;
    }

    fn update_picker(&mut self, action: Action) {
        let Overlay::Picker { selected } = self.overlay.clone() else {
            return;
        };
        let n = self.catalog.len().max(1);
        match action {
            Action::Down => {
                self.overlay = Overlay::Picker {
                    selected: (selected + 1) % n,
                }
            }
            Action::Up => {
                self.overlay = Overlay::Picker {
                    selected: (selected + n - 1) % n,
                }
            }
            Action::Confirm => {
                if let Some(e) = self.catalog.get(selected) {
                    match &e.scenario {
                        Ok(s) => self.open(s.clone()),
                        Err(why) => self.status = format!("{}: {why}", e.name),
                    }
                }
                self.overlay = Overlay::None;
            }
            Action::Back | Action::Picker => self.overlay = Overlay::None,
            Action::Quit => self.quit = true,
            _ => {}
        }
    }

    /// Open another scenario at its start.
    pub fn open(&mut self, scenario: Scenario) {
        self.status = format!("opened {}", scenario.name());
        self.rec = Recording::new(scenario, Vec::new());
        self.stale = true;
        self.node = 0;
        self.message = None;
        self.playing = false;
        self.seek(0);
    }

    /// Seeds per sweep from the UI (kept small so the UI stays responsive).
    pub const SWEEP_SEEDS: u64 = 100;

    fn sweep(&mut self) {
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

    fn update_sweep(&mut self, action: Action) {
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

    /// Playback interval for the current speed.
    pub fn tick_interval(&self) -> std::time::Duration {
        std::time::Duration::from_micros(1_000_000 / u64::from(SPEEDS[self.speed]))
    }

    /// The narration to show at the cursor: the latest entry whose time or
    /// event has been reached.
    pub fn narration(&self) -> Option<String> {
        let now = self.now();
        let panes = &self.panes;
        let reached = |on: &str| -> bool {
            panes
                .iter()
                .zip(&self.rec.panes)
                .any(|(view, run)| event_reached(run, view.shown, on))
        };
        self.rec
            .scenario
            .file
            .narration
            .iter()
            .rfind(|n| match (&n.at_ms, &n.on) {
                (Some(ms), _) => SimTime::from_millis(*ms) <= now && self.cursor > 0,
                (None, Some(on)) => reached(on),
                _ => false,
            })
            .map(|n| n.text.clone())
    }
}

/// Whether `run` has shown an event of kind `on` within its first `shown`.
fn event_reached(run: &crate::recording::PaneRun, shown: usize, on: &str) -> bool {
    use txlab_sim::engine::EventKind as E;
    use txlab_sim::protocols::Obs;
    let trace = run.world.trace();
    let events = &trace.events()[..shown.min(trace.events().len())];
    events.iter().any(|e| match e.kind {
        E::Crash { .. } => on == "crash",
        E::Restart { .. } => on == "restart",
        E::Partition { .. } => on == "partition",
        E::Heal { .. } => on == "heal",
        E::Observe { obs, .. } => {
            let o = &trace.observations()[obs as usize].obs;
            matches!(
                (on, o),
                ("decision", Obs::Decided { .. })
                    | ("in_doubt", Obs::InDoubt { .. })
                    | ("retry", Obs::Retry { .. })
                    | (
                        "stuck",
                        Obs::TxFinished {
                            outcome: txlab_sim::protocols::Outcome::Stuck,
                            ..
                        }
                    )
            ) || (on == "compensation"
                && matches!(
                    o,
                    Obs::Local {
                        op: txlab_sim::protocols::workload::Op::Compensation,
                        ..
                    }
                ))
        }
        _ => false,
    })
}
