//! The three recorded runs of one scenario (plus any faults the user
//! injected), merged into one timeline the cursor moves along.

use txlab_sim::engine::{Fault, ScheduledFault, SimTime, World};
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::lab::{RunReport, RunSpec, run};
use txlab_sim::protocols::{LabNode, Protocol};

/// A fault the user injected from the UI.
#[derive(Clone, Debug, PartialEq)]
pub struct Injected {
    /// When it applies.
    pub at: SimTime,
    /// What.
    pub fault: Fault,
    /// The panes (protocol indices) it applies to.
    pub panes: Vec<usize>,
}

/// One protocol's recorded run.
pub struct PaneRun {
    /// The protocol.
    pub protocol: Protocol,
    /// The spec that produced it.
    pub spec: RunSpec,
    /// The world at the end, with its full trace.
    pub world: World<LabNode>,
    /// The final report.
    pub report: RunReport,
}

/// One step of the merged timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// When.
    pub time: SimTime,
    /// Which pane's event.
    pub pane: u8,
    /// Events shown per pane once this step is shown.
    pub shown: [u32; 3],
}

/// The three runs and their merged timeline.
pub struct Recording {
    /// The scenario.
    pub scenario: Scenario,
    /// Faults injected by the user, in order.
    pub injected: Vec<Injected>,
    /// One run per protocol, in [`Protocol::ALL`] order.
    pub panes: Vec<PaneRun>,
    /// Every event of the three traces, in (time, pane, index) order.
    pub steps: Vec<Step>,
    /// Per pane, per event: the cursor at which that event is shown.
    pub cursor_of: Vec<Vec<u32>>,
    /// Per narration line: the cursor at which it is first reached.
    pub narration_at: Vec<Option<usize>>,
    /// Per `[[question]]`: the cursor at which it is asked.
    pub question_at: Vec<Option<usize>>,
    /// The places worth stopping at, in order.
    pub moments: Vec<crate::moments::Moment>,
}

impl Recording {
    /// Run the scenario under all three protocols with `injected` faults.
    pub fn new(scenario: Scenario, injected: Vec<Injected>) -> Self {
        let panes: Vec<PaneRun> = Protocol::ALL
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut spec = scenario.spec_for(*p);
                spec.recording = true;
                for inj in injected.iter().filter(|x| x.panes.contains(&i)) {
                    spec.faults
                        .push(ScheduledFault::new(inj.at, inj.fault.clone()));
                }
                // Faults must stay sorted: the engine applies them in order.
                spec.faults.sort_by_key(|f| f.at);
                let r = run(&spec);
                PaneRun {
                    protocol: *p,
                    spec,
                    world: r.world,
                    report: r.report,
                }
            })
            .collect();
        let steps = merge(&panes);
        let mut cursor_of: Vec<Vec<u32>> = panes
            .iter()
            .map(|p| vec![0; p.world.trace().events().len()])
            .collect();
        for (k, s) in steps.iter().enumerate() {
            let p = s.pane as usize;
            cursor_of[p][s.shown[p] as usize - 1] = k as u32 + 1;
        }
        let times: Vec<SimTime> = steps.iter().map(|s| s.time).collect();
        let narration_at = crate::moments::narration_cursors(&scenario, &panes, &cursor_of, &times);
        let question_at = crate::quiz::question_cursors(&scenario, &panes, &cursor_of, &times);
        let moments = crate::moments::find(&scenario, &panes, &cursor_of, &times, &narration_at);
        Recording {
            scenario,
            injected,
            panes,
            steps,
            cursor_of,
            narration_at,
            question_at,
            moments,
        }
    }

    /// The time of the cursor (the last shown step), zero at the start.
    pub fn time_at(&self, cursor: usize) -> SimTime {
        cursor
            .checked_sub(1)
            .and_then(|i| self.steps.get(i))
            .map_or(SimTime::ZERO, |s| s.time)
    }

    /// Events shown per pane at `cursor`.
    pub fn shown_at(&self, cursor: usize) -> [u32; 3] {
        cursor
            .checked_sub(1)
            .and_then(|i| self.steps.get(i))
            .map_or([0; 3], |s| s.shown)
    }

    /// The end of the timeline.
    pub fn end_time(&self) -> SimTime {
        self.steps.last().map_or(SimTime::ZERO, |s| s.time)
    }

    /// The first cursor whose time is at least `t`.
    pub fn cursor_at_time(&self, t: SimTime) -> usize {
        self.steps.partition_point(|s| s.time < t)
    }
}

/// A k-way merge of the three traces by (time, pane, index): ties go to
/// the leftmost pane, so the order never depends on anything but the runs.
fn merge(panes: &[PaneRun]) -> Vec<Step> {
    let events: Vec<&[txlab_sim::engine::TraceEvent]> =
        panes.iter().map(|p| p.world.trace().events()).collect();
    let total: usize = events.iter().map(|e| e.len()).sum();
    let mut pos = [0usize; 3];
    let mut out = Vec::with_capacity(total);
    for _ in 0..total {
        let next = (0..events.len())
            .filter(|p| pos[*p] < events[*p].len())
            .min_by_key(|p| (events[*p][pos[*p]].time, *p))
            .expect("an event is left");
        let time = events[next][pos[next]].time;
        pos[next] += 1;
        out.push(Step {
            time,
            pane: next as u8,
            shown: [pos[0] as u32, pos[1] as u32, pos[2] as u32],
        });
    }
    out
}
