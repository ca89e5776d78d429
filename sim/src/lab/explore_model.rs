//! The lab world as a [`Model`] for the explorer: the same protocol code
//! the simulator and the UI run, in chosen mode (the asynchronous model;
//! see the engine's `Choice`), so that every interleaving of deliveries,
//! timer firings and disk writes is visited, plus up to a budget of
//! faults: dropping or duplicating a message in flight, crashing or
//! restarting a node (every node but the client and the auditor). Each
//! fault costs one from the budget, a restart too: with one fault a
//! crashed node stays down, which is how blocking shows.
//!
//! Invariants: the checkers that judge a run in progress (atomicity,
//! decisions, agreement, at most once, ...) run in every state; the others
//! compare what a finished run did with its outcome, and run where no step
//! is left. Where the retry bound alone stopped an armed timer there (a
//! broker that would redeliver, an outbox relay), a violation counts only
//! if it survives letting the run go on without the bound. Termination, a
//! liveness property, is judged only where nothing at all is pending.
//!
//! End states, tallied by outcome: states where the protocol has no step
//! left (nothing on the wire or on its way to disk, no timer with firings
//! left), whether or not the fault budget would still allow a crash; each
//! distinct configuration of the world once (nodes, logs, what is armed),
//! however it was reached. A 2PC transaction left in doubt only at nodes
//! that are down is "down in doubt", not "blocked": nobody waits on it.
//! Doubt is read from the configuration (an up participant's phase, a down
//! one's log), not from what was observed on the way.

use super::checkers::CHECKERS;
use super::outcome::outcomes;
use super::run::{RunSpec, build_chosen_world, view};
use super::script::choice_words;
use crate::engine::{Choice, NodeId, TimerId, World, stable_hash};
use crate::explore::Model;
use crate::protocols::lab_node::Record;
use crate::protocols::workload::TxId;
use crate::protocols::{LabNode, Obs, Outcome, Protocol, two_pc};
use std::collections::BTreeMap;

/// Checkers whose invariant must hold at every step of a run, not only at
/// its end (the rest compare what a finished run applied with its outcome).
const EVERY_STATE: &[&str] = &[
    "atomicity",
    "commit_validity",
    "decision_stability",
    "agreement",
    "prepared_never_aborts_alone",
    "at_most_once",
    "no_overdraw",
    "compensation_without_action",
];

/// When a timer may fire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timers {
    /// At any point, before or after any message: the asynchronous model.
    Any,
    /// Only when nothing else can happen (no message in flight, no write
    /// pending): every timeout is longer than any message delay and disk
    /// write. Far fewer states; misses races between a timeout and a
    /// message still on its way. The default.
    #[default]
    WhenQuiet,
}

/// How many steps a run found broken where the retry bound stopped it is
/// let go on, to see whether what the bound held back repairs it.
const GOING_ON: usize = 500;

/// How many times each timer (per node and timer id) may fire on one path
/// unless told otherwise: a first timeout and two retries.
pub const RETRIES: u8 = 3;

/// One protocol's world of one scenario, with a fault budget.
pub struct WorldModel {
    spec: RunSpec,
    max_faults: u32,
    timers: Timers,
    /// Nodes that may crash: the protocol's own (not the client or auditor).
    crashable: Vec<NodeId>,
    /// How many times each timer may fire on one path.
    retries: u8,
    /// Whether drop and duplicate are fault choices (else only crash and
    /// restart).
    message_faults: bool,
}

/// A world in chosen mode and the faults spent to reach it.
#[derive(Clone)]
pub struct WorldState {
    /// The world.
    pub world: World<LabNode>,
    /// Fault choices taken so far.
    pub faults: u32,
    /// How many times each (node, timer) has fired on the way here. A
    /// retry counter in a protocol (a compensation retried until it
    /// succeeds) would otherwise make the space infinite.
    pub fired: BTreeMap<(NodeId, TimerId), u8>,
}

impl WorldModel {
    /// Explore `spec` (its protocol, workflow, workload, toggles and write
    /// latency; its timed faults and random network are replaced by the
    /// explorer's choices) with at most `max_faults` faults.
    pub fn new(spec: &RunSpec, max_faults: u32) -> Self {
        let mut spec = spec.clone();
        spec.recording = false;
        spec.faults.clear();
        spec.script = None;
        let services = spec.workflow.services.len() as u32;
        WorldModel {
            crashable: (0..=services).map(NodeId).collect(),
            spec,
            max_faults,
            timers: Timers::default(),
            retries: RETRIES,
            message_faults: true,
        }
    }

    /// The same model with another timer policy.
    pub fn with_timers(mut self, timers: Timers) -> Self {
        self.timers = timers;
        self
    }

    /// The same model with another bound on each timer's firings per path
    /// (at least 1).
    pub fn with_retries(mut self, retries: u8) -> Self {
        self.retries = retries.max(1);
        self
    }

    /// The same model with crash and restart as the only faults (no drop or
    /// duplicate): "2PC with one crash".
    pub fn crashes_only(mut self) -> Self {
        self.message_faults = false;
        self
    }

    /// The spec explored.
    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }

    /// `path` in words, as a scenario's `[explore] path` holds it (each
    /// step named in the world it was taken from).
    pub fn words(&self, path: &[Choice]) -> Vec<String> {
        let mut state = self.init_states().remove(0);
        path.iter()
            .map(|c| {
                let words = choice_words(c, &state.world);
                assert!(
                    state.world.choose(*c),
                    "explorer path step {words} is enabled"
                );
                words
            })
            .collect()
    }

    /// Whether the client has sent every transaction of the workload.
    fn all_requested(&self, world: &World<LabNode>) -> bool {
        let requested: std::collections::BTreeSet<_> = world
            .trace()
            .observations()
            .iter()
            .filter_map(|o| match o.obs {
                Obs::Requested { tx } => Some(tx),
                _ => None,
            })
            .collect();
        requested.len() == self.spec.workflow.tx_ids().count()
    }

    fn outcome_words(&self, world: &World<LabNode>) -> String {
        let o = outcomes(
            self.spec.protocol,
            &self.spec.workflow,
            world.trace().observations(),
        );
        if o.is_empty() {
            return "nothing started".into();
        }
        let names: Vec<&str> = o
            .iter()
            .map(|(tx, outcome)| match (self.spec.protocol, outcome) {
                (_, Outcome::Inconsistent) => outcome.name(),
                (Protocol::TwoPc, _) => self.doubt_words(world, *tx).unwrap_or(outcome.name()),
                _ => outcome.name(),
            })
            .collect();
        names.join(", ")
    }

    /// A 2PC transaction someone is still in doubt about, in words read
    /// from the configuration: an up participant's doubt from its phase, a
    /// down one's from its log (its memory is gone with the crash). `None` when nobody is in doubt.
    /// THEORY.md: uncertainty blocks only when it cannot end, because the
    /// coordinator is down (and, with cooperative termination, no up peer
    /// knows the outcome or may still abort).
    fn doubt_words(&self, world: &World<LabNode>, tx: TxId) -> Option<&'static str> {
        let participants = 1..=self.spec.workflow.services.len() as u32;
        let in_doubt = |n: NodeId| {
            if world.is_up(n) {
                // Its phase now: a participant that restarted prepared is
                // in doubt again, whatever it observed before the crash.
                matches!(world.node(n), LabNode::Participant(p)
                    if matches!(p.phases.get(&tx), Some(two_pc::ParticipantPhase::Prepared { .. })))
            } else {
                let log = world.durable_log(n);
                let has = |f: &dyn Fn(&two_pc::Record) -> bool| {
                    log.iter().any(|r| matches!(r, Record::TwoPc(x) if f(x)))
                };
                has(&|r| matches!(r, two_pc::Record::Prepared { tx: t, .. } if *t == tx))
                    && !has(&|r| matches!(r, two_pc::Record::Outcome { tx: t, .. } if *t == tx))
            }
        };
        let doubting: Vec<NodeId> = participants
            .clone()
            .map(NodeId)
            .filter(|n| in_doubt(*n))
            .collect();
        if doubting.is_empty() {
            return None;
        }
        if doubting.iter().all(|n| !world.is_up(*n)) {
            // Nobody waits: each learns the decision when it restarts.
            return Some("down in doubt");
        }
        // The coordinator is node 0 in a 2PC world.
        let peer_helps = self.spec.toggles.cooperative_termination
            && participants
                .map(NodeId)
                .any(|n| world.is_up(n) && !in_doubt(n));
        if world.is_up(NodeId(0)) || peer_helps {
            // Someone up could end the doubt: only the retry bound stopped
            // the participant asking again. Not blocked; not an ending
            // either, but the explorer stops here.
            Some("in doubt at the retry bound")
        } else {
            Some("blocked")
        }
    }

    /// Keep of `broken` (end-of-run invariants broken in `s`) those still
    /// broken after the run goes on without the retry bound (no fault;
    /// messages and writes before timers, each in a fixed order) for up to
    /// [`GOING_ON`] steps.
    fn survive_going_on(&self, s: &WorldState, broken: &mut Vec<String>) {
        let mut world = s.world.clone();
        let mut next = Vec::new();
        for _ in 0..GOING_ON {
            next.clear();
            world.choices(&mut next);
            let pick = next
                .iter()
                .find(|c| !matches!(c, Choice::Timer { .. }))
                .or(next.first())
                .copied();
            match pick {
                Some(c) => {
                    world.choose(c);
                }
                None => break,
            }
        }
        let v = view(&self.spec, &world);
        broken.retain(|name| {
            CHECKERS
                .iter()
                .filter(|c| c.name == name.as_str())
                .any(|c| !c.run(&v).is_empty())
        });
    }

    fn protocol_steps(&self, s: &WorldState, out: &mut Vec<Choice>) {
        s.world.choices(out);
        // A timer that has fired its quota is off on this path.
        out.retain(|c| match c {
            Choice::Timer { node, timer } => {
                s.fired.get(&(*node, *timer)).copied().unwrap_or(0) < self.retries
            }
            _ => true,
        });
        let is_timer = |c: &Choice| matches!(c, Choice::Timer { .. });
        if self.timers == Timers::WhenQuiet && out.iter().any(|c| !is_timer(c)) {
            out.retain(|c| !is_timer(c));
        }
    }
}

impl Model for WorldModel {
    type State = WorldState;
    type Action = Choice;

    fn init_states(&self) -> Vec<WorldState> {
        let mut world = build_chosen_world(&self.spec);
        world.start();
        vec![WorldState {
            world,
            faults: 0,
            fired: BTreeMap::new(),
        }]
    }

    fn actions(&self, s: &WorldState, out: &mut Vec<Choice>) {
        self.protocol_steps(s, out);
        if s.faults < self.max_faults {
            let mut faults = Vec::new();
            s.world.fault_choices(&mut faults);
            out.extend(faults.into_iter().filter(|c| match c {
                Choice::Crash(n) | Choice::Restart(n) => self.crashable.contains(n),
                _ => self.message_faults,
            }));
        }
    }

    fn next_state(&self, s: &WorldState, action: &Choice) -> Option<WorldState> {
        let mut next = s.clone();
        if !next.world.choose(*action) {
            return None;
        }
        next.faults += u32::from(action.is_fault());
        if let Choice::Timer { node, timer } = *action {
            *next.fired.entry((node, timer)).or_insert(0) += 1;
        }
        Some(next)
    }

    fn fingerprint(&self, s: &WorldState) -> u64 {
        stable_hash(&(s.world.fingerprint(), s.faults, &s.fired))
    }

    fn violations(&self, s: &WorldState, terminal: bool, out: &mut Vec<String>) {
        // Termination is judged only where nothing at all is pending: not
        // where the retry bound alone switched the last timers off (a
        // participant that would ask again may yet learn the outcome).
        let quiet = terminal && {
            let mut left = Vec::new();
            s.world.choices(&mut left);
            left.is_empty()
        };
        let v = view(&self.spec, &s.world);
        let mut at_end = Vec::new();
        for checker in CHECKERS {
            let every_state = EVERY_STATE.contains(&checker.name);
            // The other end-of-run properties once no step is left.
            let now = every_state || terminal && (checker.name != "termination" || quiet);
            if !now || !checker.protocols.contains(&self.spec.protocol) {
                continue;
            }
            let list = if every_state { &mut *out } else { &mut at_end };
            for found in checker.run(&v) {
                if !list.contains(&found.invariant) {
                    list.push(found.invariant);
                }
            }
        }
        if !at_end.is_empty() && !quiet {
            // Where the retry bound stopped an armed timer, what it would
            // still do may repair the run (a broker that redelivers a
            // dropped event): keep only what survives letting the run go
            // on without the bound.
            self.survive_going_on(s, &mut at_end);
        }
        for name in at_end {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }

    fn outcome(&self, s: &WorldState, _terminal: bool) -> Option<String> {
        // A run has ended where the protocol has no step left: nothing on
        // the wire or on its way to disk, no timer with firings left. A
        // fault may still be possible there (the budget is the
        // environment's, not the protocol's), so this counts the
        // fault-free ending too. Before the client has sent every request
        // (the start, or a pause between arrivals) the world may be at
        // rest without having ended.
        let ended = s.world.at_rest()
            && {
                let mut left = Vec::new();
                self.protocol_steps(s, &mut left);
                left.is_empty()
            }
            && self.all_requested(&s.world);
        ended.then(|| self.outcome_words(&s.world))
    }

    fn end_key(&self, s: &WorldState) -> u64 {
        // What the nodes hold, their logs, what is armed: not the history
        // (what was observed on the way, the clock) nor the explorer's
        // bookkeeping (faults spent, how often each timer fired), which
        // would count one ending once per path to it.
        s.world.configuration()
    }
}

/// Replay `spec`'s `[explore]` path in the chosen world it was found in,
/// and name the first step that is not possible where it stands: its index
/// in `explore.path` and what it expected. A repro edited by hand, or made
/// for another version of the scenario, would otherwise lose steps without
/// a word, and replay something else than the counterexample.
pub fn check_path(spec: &RunSpec) -> Result<(), (usize, String)> {
    let Some(script) = &spec.script else {
        return Ok(());
    };
    let mut spec = spec.with_protocol(script.protocol);
    spec.script = None;
    let mut world = build_chosen_world(&spec);
    world.start();
    for (i, choice) in script.choices.iter().enumerate() {
        let words = choice_words(choice, &world);
        if !world.choose(*choice) {
            let why = not_possible(choice, &world);
            return Err((
                i,
                format!("step {} (\"{words}\") is not possible there: {why}", i + 1),
            ));
        }
    }
    Ok(())
}

/// Why `choice` is not enabled in `world`, in words.
fn not_possible(choice: &Choice, world: &World<LabNode>) -> String {
    let name = |n: NodeId| world.name(n).to_string();
    match *choice {
        Choice::Deliver(id) | Choice::Drop(id) | Choice::Duplicate(id) => {
            let wire: Vec<String> = world
                .in_flight()
                .iter()
                .map(|m| format!("#{} {}→{}", m.id.0, name(m.from), name(m.to)))
                .collect();
            let wire = if wire.is_empty() {
                "nothing".to_string()
            } else {
                wire.join(", ")
            };
            format!("message #{} is not in flight (in flight: {wire})", id.0)
        }
        Choice::Timer { node, timer } => {
            format!("{} has no timer {} armed", name(node), timer.0)
        }
        Choice::Write(node) => format!("{} has no log write pending", name(node)),
        Choice::Crash(node) => format!("{} is already down", name(node)),
        Choice::Restart(node) => format!("{} is running", name(node)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_names_real_checkers() {
        for name in EVERY_STATE {
            assert!(CHECKERS.iter().any(|c| c.name == *name), "{name}");
        }
    }
}
