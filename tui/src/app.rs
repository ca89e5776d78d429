//! The application state and its update function. No terminal types here:
//! tests drive it with actions and read the state.

use crate::action::Action;
use crate::checkpoints::Checkpoints;
use crate::fold::{FoldOptions, PaneView};
use crate::recording::PaneRun;
use crate::recording::Recording;
use std::collections::BTreeMap;
use txlab_sim::engine::SimTime;
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;
use txlab_sim::protocols::workload::TxId;

/// Playback rates in simulated time: milliseconds of the run per second of
/// the room's time (at 5 ms/s a 500 ms block lasts 100 s on screen).
pub const SIM_RATES: [u32; 6] = [1, 5, 20, 100, 500, 2_000];
/// Playback rates in events per second (the other mode).
pub const EVENT_RATES: [u32; 8] = [1, 2, 5, 10, 20, 50, 100, 500];
/// The playback beat in simulated-time mode: each tick moves the clock by
/// the rate times this.
pub const FRAME: std::time::Duration = std::time::Duration::from_millis(40);

/// How play advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Milliseconds of simulated time per second: quiet stretches (a
    /// blocked participant waiting) take as long as they should.
    SimMs(u32),
    /// Events per second, whatever their times.
    Events(u32),
}

impl std::fmt::Display for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pace::SimMs(ms) => write!(f, "{ms} ms/s"),
            Pace::Events(n) => write!(f, "{n} ev/s"),
        }
    }
}

/// Colour themes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// The terminal's own colours.
    #[default]
    Default,
    /// White on black, bright states, for a projector in a bright room.
    HighContrast,
    /// Black on white.
    Light,
}

impl Theme {
    /// Every theme, in the order the theme key cycles through.
    pub const ALL: [Theme; 3] = [Theme::Default, Theme::HighContrast, Theme::Light];

    /// Its name (as `--theme` takes it).
    pub fn name(self) -> &'static str {
        match self {
            Theme::Default => "default",
            Theme::HighContrast => "high-contrast",
            Theme::Light => "light",
        }
    }

    /// The theme called `name`.
    pub fn from_name(name: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.name() == name)
    }
}

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
    /// The isolation anomalies found up to the cursor, per protocol.
    Anomalies,
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
    /// Play in simulated time ([`SIM_RATES`]) rather than events per
    /// second ([`EVENT_RATES`]).
    pub sim_pace: bool,
    /// Index into the current rate list.
    pub speed: usize,
    /// The play clock: where simulated time is while playing (it runs on
    /// through quiet stretches; the cursor follows the events it passes).
    pub clock: SimTime,
    /// Show background traffic (the auditor's reads).
    pub background: bool,
    /// Diagram rows scrolled back from the newest (0: follow the newest).
    pub scroll: usize,
    /// The colour theme.
    pub theme: Theme,
    /// Presenter mode: a status banner per protocol, the table hidden,
    /// three panes side by side from 120×30.
    pub present: bool,
    /// Help page (keys, then legend) when both do not fit; the view takes
    /// it modulo the number of pages the screen needs.
    pub help_page: usize,
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
    /// Node lines show this transaction only (`None`: each node's latest).
    pub tx_view: Option<TxId>,
    /// Export for slides: the file-name prompt and the pending request.
    pub export: crate::export::ExportState,
    /// The cursor at each branch (fault injection) and the fault in
    /// words, for undo.
    pub(crate) undo: Vec<(usize, String)>,
    /// Quiz mode: questions, answers (see [`crate::quiz`]).
    pub quiz: crate::quiz::Quiz,
    /// The recording changed: no pane view can be reused.
    pub(crate) stale: bool,
    /// Per pane, the isolation anomalies up to the cursor, found when the
    /// anomalies overlay opens (the cursor cannot move while it is open).
    pub anomalies: Vec<Vec<txlab_sim::lab::anomaly::Anomaly>>,
    /// Per pane, the fold's checkpoints for the current recording and
    /// options.
    pub(crate) folds: Vec<Checkpoints>,
}

impl App {
    /// An app on `scenario`, with `catalog` for the picker.
    pub fn new(scenario: Scenario, catalog: Vec<Entry>) -> Self {
        let rec = Recording::new(scenario, Vec::new());
        let quiz = crate::quiz::Quiz::new(rec.scenario.file.question.len());
        let mut app = App {
            quiz,
            catalog,
            rec,
            cursor: 0,
            playing: false,
            sim_pace: true,
            speed: 2,
            clock: SimTime::ZERO,
            background: false,
            scroll: 0,
            theme: Theme::Default,
            help_page: 0,
            present: false,
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
            tx_view: None,
            export: Default::default(),
            undo: Vec::new(),
            stale: true,
            anomalies: Vec::new(),
            folds: Vec::new(),
        };
        app.refresh();
        if let Some(s) = crate::counterexample::status(&app.rec.scenario) {
            app.status = s;
        }
        app
    }

    /// Presenter mode on or off; on, the default theme becomes the
    /// high-contrast one (a projector washes out the terminal's colours).
    pub fn set_present(&mut self, on: bool) {
        self.present = on;
        if on && self.theme == Theme::Default {
            self.theme = Theme::HighContrast;
        }
    }

    /// The time at the cursor.
    pub fn now(&self) -> SimTime {
        self.rec.time_at(self.cursor)
    }

    /// The time to show: the play clock while playing in simulated time
    /// (it runs through quiet stretches), else the cursor's.
    pub fn shown_time(&self) -> SimTime {
        if self.playing && self.sim_pace {
            self.clock.max(self.now())
        } else {
            self.now()
        }
    }

    /// The playback rate.
    pub fn pace(&self) -> Pace {
        if self.sim_pace {
            Pace::SimMs(SIM_RATES[self.speed.min(SIM_RATES.len() - 1)])
        } else {
            Pace::Events(EVENT_RATES[self.speed.min(EVENT_RATES.len() - 1)])
        }
    }

    fn rates(&self) -> usize {
        if self.sim_pace {
            SIM_RATES.len()
        } else {
            EVENT_RATES.len()
        }
    }

    fn fold_options(&self) -> FoldOptions {
        FoldOptions {
            background: self.background,
            tx: self.tx_view,
        }
    }

    /// Recompute the panes at the cursor. A step moves one pane only, so
    /// the others are kept as they are; a moved pane folds on from its
    /// nearest checkpoint ([`Checkpoints`]).
    fn refresh(&mut self) {
        let shown = self.rec.shown_at(self.cursor);
        let opts = self.fold_options();
        if self.stale || self.folds.iter().any(|f| f.options() != opts) {
            // New runs or new options: no state or checkpoint can be reused.
            self.folds = self
                .rec
                .panes
                .iter()
                .map(|p| Checkpoints::new(p, opts))
                .collect();
            self.panes.clear();
        }
        let old = std::mem::take(&mut self.panes);
        let moved: Vec<bool> = shown
            .iter()
            .enumerate()
            .map(|(i, n)| old.get(i).is_none_or(|v| v.shown != *n as usize))
            .collect();
        // One pane moved (a step): fold it here. Several (a jump): in
        // parallel, one thread each.
        let fold = |(i, (f, p)): (usize, (&mut Checkpoints, &PaneRun))| {
            moved[i].then(|| f.fold_to(p, shown[i] as usize).view(p))
        };
        let pairs = self.folds.iter_mut().zip(&self.rec.panes).enumerate();
        let fresh: Vec<Option<PaneView>> = if moved.iter().filter(|m| **m).count() > 1 {
            std::thread::scope(|scope| {
                let jobs: Vec<_> = pairs.map(|job| scope.spawn(move || fold(job))).collect();
                jobs.into_iter()
                    .map(|h| h.join().expect("a fold does not panic"))
                    .collect()
            })
        } else {
            pairs.map(fold).collect()
        };
        self.panes = fresh
            .into_iter()
            .zip(old.into_iter().map(Some).chain(std::iter::repeat(None)))
            .map(|(new, kept)| new.or(kept).expect("a pane not moved was kept"))
            .collect();
        self.stale = false;
        let flying = self.panes[self.focus].in_flight.len();
        self.message = self.message.filter(|m| *m < flying);
    }

    /// The fold's checkpoints: how many are held (over the three panes)
    /// and roughly how many heap bytes they take.
    pub fn checkpoint_memory(&self) -> (usize, usize) {
        self.folds
            .iter()
            .fold((0, 0), |(n, b), f| (n + f.len(), b + f.heap_bytes()))
    }

    /// Move the cursor by hand: the play clock follows it.
    pub(crate) fn seek(&mut self, cursor: usize) {
        self.jump(cursor);
        self.clock = self.now();
    }

    /// Move the cursor, leaving the play clock where it is.
    fn jump(&mut self, cursor: usize) {
        let to = cursor.min(self.rec.steps.len());
        // Quiz mode holds the cursor at an open question.
        let to = self.quiz.hold(self.cursor, to, &self.rec.question_at);
        if self.quiz.asking.is_some() {
            self.playing = false;
        }
        self.cursor = to;
        self.refresh();
    }

    /// One playback tick: in simulated-time mode the clock moves on by the
    /// rate times [`FRAME`] and the cursor shows every event it passed; in
    /// events mode one event.
    fn tick(&mut self) {
        let len = self.rec.steps.len();
        if self.cursor >= len {
            self.playing = false;
            return;
        }
        match self.pace() {
            Pace::SimMs(ms) => {
                let frame_us = FRAME.as_micros() as u64;
                self.clock = self.clock.max(self.now()) + SimTime(u64::from(ms) * frame_us / 1_000);
                let clock = self.clock;
                let to = self.rec.steps.partition_point(|s| s.time <= clock);
                if to > self.cursor {
                    self.jump(to);
                }
            }
            Pace::Events(_) => self.seek(self.cursor + 1),
        }
        if self.cursor >= len {
            self.playing = false;
        }
    }

    /// Play or pause. Play at the end starts again from the beginning.
    fn toggle_play(&mut self) {
        if self.playing {
            self.playing = false;
            return;
        }
        if self.cursor >= self.rec.steps.len() {
            self.seek(0);
        }
        // The clock resumes where it stopped (every cursor move by hand
        // has set it to the cursor's time).
        self.playing = true;
    }

    /// Step to the next (or previous) event that changes what is drawn:
    /// a step that only moves a timer or a background read is skipped.
    /// Back lands on the first event of the earlier picture, so → then ←
    /// returns where it started.
    fn step_visible(&mut self, forward: bool) {
        let len = self.rec.steps.len();
        let here = self.panes.clone();
        let differs =
            |a: &[PaneView], b: &[PaneView]| a.iter().zip(b).any(|(x, y)| !same_drawing(x, y));
        let mut c = self.cursor;
        if forward {
            while c < len {
                c += 1;
                self.jump(c);
                if differs(&self.panes, &here) || self.quiz.asking.is_some() {
                    break;
                }
            }
        } else {
            while c > 0 {
                c -= 1;
                self.jump(c);
                if differs(&self.panes, &here) {
                    break;
                }
            }
            let earlier = self.panes.clone();
            while c > 0 {
                self.jump(c - 1);
                if differs(&self.panes, &earlier) {
                    self.jump(c);
                    break;
                }
                c -= 1;
            }
        }
        self.clock = self.now();
    }

    /// Jump to the next (or previous) moment.
    fn jump_moment(&mut self, forward: bool) {
        let m = if forward {
            self.rec.moments.iter().find(|m| m.cursor > self.cursor)
        } else {
            self.rec.moments.iter().rfind(|m| m.cursor < self.cursor)
        };
        match m.cloned() {
            Some(m) => {
                self.seek(m.cursor);
                self.status = m.what;
            }
            None => {
                self.status = if forward {
                    "no more moments: this is the last".into()
                } else {
                    "no earlier moment".into()
                }
            }
        }
    }

    /// Apply one action.
    pub fn update(&mut self, action: Action) {
        if self.typing {
            return self.update_filter(action);
        }
        if self.export.prompt.is_some() {
            return self.update_export_prompt(action);
        }
        match &self.overlay {
            Overlay::None => self.update_main(action),
            // The help's pages (as many as the screen needs; the view
            // takes this modulo their count): ? or → on, ← back.
            Overlay::Help if matches!(action, Action::Help | Action::NextChange) => {
                self.help_page += 1
            }
            Overlay::Help if action == Action::PrevChange => {
                self.help_page = self.help_page.saturating_sub(1)
            }
            Overlay::Help | Overlay::Inspect(_) | Overlay::Anomalies => match action {
                Action::Back | Action::Help | Action::Confirm | Action::Anomalies => {
                    self.overlay = Overlay::None
                }
                Action::Quit => self.quit = true,
                _ => {}
            },
            Overlay::Picker { .. } => self.update_picker(action),
            Overlay::Sweep { .. } => self.update_sweep(action),
        }
    }

    fn update_main(&mut self, action: Action) {
        if self.update_quiz(action) {
            return;
        }
        let len = self.rec.steps.len();
        match action {
            Action::Quit => self.quit = true,
            Action::TogglePlay => self.toggle_play(),
            Action::Tick => {
                if self.playing {
                    self.tick();
                }
            }
            Action::StepForward => self.seek(self.cursor + 1),
            Action::StepBack => self.seek(self.cursor.saturating_sub(1)),
            Action::NextChange => self.step_visible(true),
            Action::PrevChange => self.step_visible(false),
            Action::NextMoment => self.jump_moment(true),
            Action::PrevMoment => self.jump_moment(false),
            Action::TogglePace => {
                self.sim_pace = !self.sim_pace;
                self.speed = self.speed.min(self.rates() - 1);
                self.clock = self.now();
                self.status = format!("playback: {}", self.pace());
            }
            Action::ToggleBackground => {
                self.background = !self.background;
                self.stale = true;
                self.refresh();
                self.status = format!(
                    "background traffic (auditor reads): {}",
                    if self.background { "shown" } else { "hidden" }
                );
            }
            Action::ScrollUp(n) => {
                let rows = self.panes[self.focus].rows.len();
                self.scroll = (self.scroll + n).min(rows.saturating_sub(1));
            }
            Action::ScrollDown(n) => self.scroll = self.scroll.saturating_sub(n),
            Action::TogglePresent => {
                self.set_present(!self.present);
                self.status = format!("presenter mode {}", if self.present { "on" } else { "off" });
            }
            Action::CycleTheme => {
                let i = Theme::ALL
                    .iter()
                    .position(|t| *t == self.theme)
                    .unwrap_or(0);
                self.theme = Theme::ALL[(i + 1) % Theme::ALL.len()];
                self.status = format!("theme: {}", self.theme.name());
            }
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
            Action::SpeedUp => self.speed = (self.speed + 1).min(self.rates() - 1),
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
            Action::UndoBranch => self.undo_branch(),
            Action::CycleTx => self.cycle_tx(),
            Action::Export => self.open_export_prompt(),
            Action::Help => {
                self.help_page = 0;
                self.overlay = Overlay::Help;
            }
            Action::Picker => self.overlay = Overlay::Picker { selected: 0 },
            Action::Sweep => self.sweep(),
            Action::Anomalies => {
                self.anomalies = self
                    .rec
                    .panes
                    .iter()
                    .zip(&self.panes)
                    .map(|(run, view)| crate::fold::anomalies(run, view.shown))
                    .collect();
                self.overlay = Overlay::Anomalies;
            }
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
            Action::ToggleQuiz | Action::Answer(_) => {}
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
        self.status = crate::counterexample::status(&scenario)
            .unwrap_or_else(|| format!("opened {}", scenario.name()));
        self.rec = Recording::new(scenario, Vec::new());
        self.quiz.reset(self.rec.scenario.file.question.len());
        self.stale = true;
        self.tx_view = None;
        self.undo.clear();
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

    /// Playback interval for the current rate.
    pub fn tick_interval(&self) -> std::time::Duration {
        match self.pace() {
            Pace::SimMs(_) => FRAME,
            Pace::Events(n) => std::time::Duration::from_micros(1_000_000 / u64::from(n)),
        }
    }

    /// The narration to show at the cursor: the latest line reached and
    /// every other line reached at the same simulated time (two lines that
    /// fire together both show), the focused pane's protocol first, then
    /// in file order.
    pub fn narration(&self) -> Option<String> {
        let lines = &self.rec.scenario.file.narration;
        let reached: Vec<(usize, usize)> = self
            .rec
            .narration_at
            .iter()
            .enumerate()
            .filter_map(|(i, at)| at.filter(|c| *c <= self.cursor).map(|c| (i, c)))
            .collect();
        let latest = reached.iter().map(|(_, c)| *c).max()?;
        let time = self.rec.time_at(latest);
        let focused = self.panes.get(self.focus).map(|p| p.protocol);
        let mut now: Vec<usize> = reached
            .iter()
            .filter(|(_, c)| self.rec.time_at(*c) == time)
            .map(|(i, _)| *i)
            .collect();
        // Stable: file order within each group.
        now.sort_by_key(|i| lines[*i].protocol.is_none() || lines[*i].protocol != focused);
        let text: Vec<String> = now
            .iter()
            .map(|i| crate::moments::narration_text(&lines[*i]))
            .collect();
        Some(text.join("  ·  "))
    }
}

/// Whether two views of a pane draw the same picture (the event count and
/// the running metrics aside: they move with every step).
fn same_drawing(a: &PaneView, b: &PaneView) -> bool {
    a.nodes == b.nodes
        && a.rows == b.rows
        && a.in_flight_count == b.in_flight_count
        && a.outcomes == b.outcomes
        && a.violations == b.violations
}
