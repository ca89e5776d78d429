//! The application state: the recording, the cursor and the panes folded
//! at it, the overlays and the modes. No terminal types here: tests drive
//! it with actions and read the state. What changes it lives beside it,
//! one noun per file: key handling (`keys`), playback and the cursor's
//! moves (`playback`), the sweep overlay (`sweep`), fault injection and
//! branches (`branch`), the quiz (`quiz`).

use crate::checkpoints::Checkpoints;
use crate::fold::{FoldOptions, PaneView};
use crate::recording::PaneRun;
use crate::recording::Recording;
use txlab_sim::engine::SimTime;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::workload::TxId;

pub use crate::playback::{EVENT_RATES, FRAME, Pace, SIM_RATES};
pub use crate::sweep::SweepResult;
pub use crate::theme::Theme;

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
        app.focus_counterexample();
        app
    }

    /// On an explorer's repro, focus the pane of the protocol its path was
    /// found in: that is where the counterexample plays.
    fn focus_counterexample(&mut self) {
        if let Some(explore) = &self.rec.scenario.file.explore {
            let protocol = explore.protocol;
            if let Some(i) = self.panes.iter().position(|p| p.protocol == protocol) {
                self.focus = i;
            }
        }
    }

    /// Presenter mode on or off; on, the default theme becomes the
    /// high-contrast one (a projector washes out the terminal's colours).
    pub fn set_present(&mut self, on: bool) {
        self.present = on;
        if on && self.theme == Theme::Default {
            self.theme = Theme::HighContrast;
        }
    }

    pub(crate) fn fold_options(&self) -> FoldOptions {
        FoldOptions {
            background: self.background,
            tx: self.tx_view,
        }
    }

    /// Recompute the panes at the cursor. A step moves one pane only, so
    /// the others are kept as they are; a moved pane folds on from its
    /// nearest checkpoint ([`Checkpoints`]).
    pub(crate) fn refresh(&mut self) {
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
        self.focus_counterexample();
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
