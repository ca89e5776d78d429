//! Running a workload under a protocol: build the world, drive it, judge it.

use super::checkers::check_all;
use super::metrics::metrics;
use super::outcome::outcomes;
use super::report::{RunReport, TxReport};
use super::script::Script;
use super::view::RunView;
use crate::engine::{
    Ctx, NetConfig, Node, NodeId, ScheduledFault, SimTime, World, WorldConfig, rng,
};
use crate::protocols::Config;
use crate::protocols::auditor::Auditor;
use crate::protocols::client::Client;
use crate::protocols::saga_choreographed::{Broker, ChoreoService};
use crate::protocols::saga_orchestrated::{Orchestrator, SagaService};
use crate::protocols::two_pc::{Coordinator, Participant, ParticipantBug};
use crate::protocols::workload::{ServiceId, Workflow};
use crate::protocols::{LabNode, Outcome, Protocol, Timing, Toggles};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Deliberately broken variants, for negative controls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// 2PC participants abort prepared transactions when they restart.
    pub participant_forgets_prepared: bool,
    /// The 2PC coordinator commits on the first yes vote.
    pub coordinator_commits_on_first_yes: bool,
    /// Saga services apply actions that arrive after their compensation.
    pub services_accept_late_actions: bool,
    /// 2PC participants ignore lock holders when they prepare.
    pub participants_ignore_locks: bool,
    /// The orchestrator undoes a parallel group's members in the order they
    /// completed instead of the reverse.
    pub orchestrator_undoes_group_forward: bool,
    /// Nodes keep answering while a forced write is outstanding, from state
    /// a crash can still take back (breaks write-ahead in every protocol).
    pub answer_from_volatile_state: bool,
    /// Under by value, risky requests act without waiting for other sagas'
    /// pending changes (breaks the promise `risky_isolated` judges).
    pub risky_requests_skip_the_wait: bool,
}

/// Everything that determines a run.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// Which protocol.
    pub protocol: Protocol,
    /// The seed.
    pub seed: u64,
    /// The business workflow.
    pub workflow: Arc<Workflow>,
    /// The network.
    pub net: NetConfig,
    /// Forced-write latency.
    pub write_latency: SimTime,
    /// Faults by time. Node 0 is the coordinator, orchestrator or broker;
    /// node `1 + i` is service `i`, in every protocol.
    pub faults: Vec<ScheduledFault>,
    /// Faults tied to events or messages, or meant for one protocol only.
    pub planned: Vec<super::PlannedFault>,
    /// Teaching toggles.
    pub toggles: Toggles,
    /// Timeouts and retries.
    pub timing: Timing,
    /// Store trace events (the hash is computed either way).
    pub recording: bool,
    /// Stop at this virtual time even if the world is not quiet.
    pub horizon: SimTime,
    /// Stop after this many steps.
    pub max_steps: u64,
    /// Broken variants.
    pub bugs: Bugs,
    /// Services running a user's logic in the sagas (see [`crate::custom`]).
    pub plugins: crate::custom::Plugins,
    /// A path the explorer found: the world of `script.protocol` follows
    /// it in chosen mode instead of the clock.
    pub script: Option<Arc<Script>>,
}

impl RunSpec {
    /// A spec with defaults: no faults, default network, a horizon of 30 s.
    pub fn new(protocol: Protocol, seed: u64, workflow: Workflow) -> Self {
        RunSpec {
            protocol,
            seed,
            workflow: Arc::new(workflow),
            net: NetConfig::default(),
            write_latency: SimTime::ZERO,
            faults: Vec::new(),
            planned: Vec::new(),
            toggles: Toggles::default(),
            timing: Timing::default(),
            recording: true,
            horizon: SimTime::from_secs(30),
            max_steps: 2_000_000,
            bugs: Bugs::default(),
            plugins: crate::custom::Plugins::default(),
            script: None,
        }
    }

    /// The same spec under another protocol.
    pub fn with_protocol(&self, protocol: Protocol) -> Self {
        RunSpec {
            protocol,
            ..self.clone()
        }
    }
}

/// The node names of a protocol's world, in id order.
pub fn node_names(protocol: Protocol, workflow: &Workflow) -> Vec<String> {
    let central = match protocol {
        Protocol::TwoPc => "coordinator",
        Protocol::Orchestrated => "orchestrator",
        Protocol::Choreographed => "broker",
    };
    std::iter::once(central.to_string())
        .chain(workflow.services.iter().map(|s| s.name.clone()))
        .chain(std::iter::once("client".to_string()))
        .collect()
}

/// Build the world for `spec`, not yet started: in chosen mode, following
/// the spec's script, when it has one for this protocol.
pub fn build_world(spec: &RunSpec) -> World<LabNode> {
    let (config, nodes) = world_parts(spec);
    match &spec.script {
        Some(script) if script.protocol == spec.protocol => {
            let mut world = World::new_chosen(config, nodes);
            world.set_script(script.choices.clone());
            world
        }
        _ => {
            let mut world = World::new(config, nodes, spec.faults.clone());
            super::PlannedFault::arm(&spec.planned, spec.protocol, &mut world);
            world
        }
    }
}

/// A world in chosen mode for `spec` (the explorer's starting point): its
/// nodes and configuration, without the timed faults, which the explorer
/// replaces by its own fault choices.
pub fn build_chosen_world(spec: &RunSpec) -> World<LabNode> {
    let (config, nodes) = world_parts(spec);
    World::new_chosen(config, nodes)
}

/// The world's configuration and its named nodes, in id order.
fn world_parts(spec: &RunSpec) -> (WorldConfig, Vec<(String, LabNode)>) {
    let services: Vec<NodeId> = (0..spec.workflow.services.len())
        .map(|i| RunView::service_node(ServiceId(i as u16)))
        .collect();
    let names = node_names(spec.protocol, &spec.workflow);
    let cfg = Arc::new(Config {
        workflow: Arc::clone(&spec.workflow),
        central: NodeId(0),
        client: Some(NodeId(services.len() as u32 + 1)),
        services,
        toggles: spec.toggles.clone(),
        timing: spec.timing.clone(),
        broken: crate::protocols::Broken {
            commit_on_first_yes: spec.bugs.coordinator_commits_on_first_yes,
            accept_late_actions: spec.bugs.services_accept_late_actions,
            ignore_locks: spec.bugs.participants_ignore_locks,
            undo_group_forward: spec.bugs.orchestrator_undoes_group_forward,
            risky_skip_wait: spec.bugs.risky_requests_skip_the_wait,
        },
    });
    let ids = (0..spec.workflow.services.len()).map(|i| ServiceId(i as u16));
    let nodes: Vec<LabNode> = match spec.protocol {
        Protocol::TwoPc => {
            let bug = spec
                .bugs
                .participant_forgets_prepared
                .then_some(ParticipantBug::ForgetPreparedOnRecovery);
            std::iter::once(LabNode::Coordinator(Coordinator::new(Arc::clone(&cfg))))
                .chain(
                    ids.map(|i| LabNode::Participant(Participant::new(Arc::clone(&cfg), i, bug))),
                )
                .collect()
        }
        Protocol::Choreographed => std::iter::once(LabNode::Broker(Broker::new(Arc::clone(&cfg))))
            .chain(ids.map(|i| {
                let logic = spec.plugins.logic(i, &spec.workflow);
                LabNode::ChoreoService(ChoreoService::new(Arc::clone(&cfg), i).plugged(logic))
            }))
            .collect(),
        Protocol::Orchestrated => {
            std::iter::once(LabNode::Orchestrator(Orchestrator::new(Arc::clone(&cfg))))
                .chain(ids.map(|i| {
                    let logic = spec.plugins.logic(i, &spec.workflow);
                    LabNode::SagaService(SagaService::new(Arc::clone(&cfg), i).plugged(logic))
                }))
                .collect()
        }
    };
    let mut nodes = nodes;
    nodes.push(LabNode::Client(Client::new(Arc::clone(&cfg))));
    let mut names = names;
    if spec.toggles.auditor {
        nodes.push(LabNode::Auditor(Auditor::new(Arc::clone(&cfg))));
        names.push("auditor".into());
    }
    let config = WorldConfig {
        seed: spec.seed,
        net: spec.net.clone(),
        write_latency: spec.write_latency,
        recording: spec.recording,
        answer_from_volatile_state: spec.bugs.answer_from_volatile_state,
    };
    (config, names.into_iter().zip(nodes).collect())
}

/// A finished run: the world (with its trace) and the report.
pub struct Run {
    /// The world as the run left it.
    pub world: World<LabNode>,
    /// What happened.
    pub report: RunReport,
}

/// Run `spec` to quiescence (or its horizon) and judge it.
pub fn run(spec: &RunSpec) -> Run {
    let mut world = build_world(spec);
    drive(&mut world, spec);
    let report = judge(spec, &world);
    Run { world, report }
}

/// Step `world` until it is quiet, past the horizon or out of steps.
pub fn drive(world: &mut World<LabNode>, spec: &RunSpec) {
    let mut steps = 0;
    while steps < spec.max_steps && world.next_time().is_some_and(|t| t <= spec.horizon) {
        world.step();
        steps += 1;
    }
}

/// The final business state of every service; a node that ended crashed is
/// rebuilt from its durable log, as its restart would.
pub fn final_values(world: &World<LabNode>) -> Vec<Cow<'_, BTreeMap<String, i64>>> {
    world
        .node_ids()
        .skip(1)
        .map(|id| {
            if world.is_up(id) {
                // Borrowed: a sweep judges thousands of runs, and most end
                // with every node up.
                return world
                    .node(id)
                    .service()
                    .map_or_else(Cow::default, |s| Cow::Borrowed(&s.values));
            }
            let mut node = world.node(id).clone();
            let mut out = Vec::new();
            let mut r = rng::stream(0, rng::Stream::Node(id.0));
            let mut ctx = Ctx::new(world.now(), id, &mut r, &mut out);
            node.on_recover(world.durable_log(id), &mut ctx);
            Cow::Owned(node.service().map(|s| s.values.clone()).unwrap_or_default())
        })
        .collect()
}

/// Messages sent per transaction, from the recorded trace (none when the
/// trace was not recorded).
fn messages_per_tx(
    world: &World<LabNode>,
) -> Option<BTreeMap<crate::protocols::workload::TxId, u64>> {
    let trace = world.trace();
    if !trace.is_recording() {
        return None;
    }
    let mut out = BTreeMap::new();
    for e in trace.events() {
        if let crate::engine::EventKind::Send { msg, .. } = e.kind {
            if let Some(tx) = trace.message(msg).and_then(|m| m.tx()) {
                *out.entry(tx).or_insert(0) += 1;
            }
        }
    }
    Some(out)
}

/// Choreography: events the broker has not seen acknowledged and outbox
/// entries the services have not seen confirmed.
fn undelivered(world: &World<LabNode>) -> usize {
    world
        .node_ids()
        .map(|id| match world.node(id) {
            LabNode::Broker(b) => b.unacked(),
            LabNode::ChoreoService(s) => s.outbox.len(),
            _ => 0,
        })
        .sum()
}

/// What the checkers see of `world` as it stands.
pub fn view<'a>(spec: &'a RunSpec, world: &'a World<LabNode>) -> RunView<'a> {
    let obs = world.trace().observations();
    let healed = world.node_ids().all(|n| world.is_up(n))
        && world.active_partitions().is_empty()
        && world.pending_faults().is_empty();
    RunView {
        protocol: spec.protocol,
        workflow: &spec.workflow,
        obs,
        faults: world.trace().faults(),
        final_values: final_values(world),
        outcomes: outcomes(spec.protocol, &spec.workflow, obs),
        healed,
        undelivered: undelivered(world),
        end: world.now(),
        end_index: world.trace().len(),
        by_value: spec.toggles.by_value,
    }
}

/// Whether `world` followed an explorer's path (`[explore]`) that ends
/// with steps still possible.
fn replays_a_path_that_stops_early(spec: &RunSpec, world: &World<LabNode>) -> bool {
    let scripted = spec
        .script
        .as_ref()
        .is_some_and(|s| s.protocol == spec.protocol);
    scripted && {
        let mut left = Vec::new();
        world.choices(&mut left);
        !left.is_empty()
    }
}

/// Judge a world that `spec` ran: outcomes, metrics, violations.
pub fn judge(spec: &RunSpec, world: &World<LabNode>) -> RunReport {
    let view = view(spec, world);
    let mut violations = check_all(&view);
    if replays_a_path_that_stops_early(spec, world) {
        // A repro ends where the explorer found its violation, not where
        // the run would end: liveness is judged, as the explorer judges
        // it, only where nothing at all can happen any more.
        violations.retain(|v| v.invariant != "termination");
    }
    let lat = super::outcome::latencies(&view);
    let metrics = metrics(&view, world.stats(), &lat);
    let mut counts: BTreeMap<String, u32> = Outcome::ALL
        .iter()
        .map(|o| (o.name().to_string(), 0))
        .collect();
    for o in view.outcomes.values() {
        *counts.entry(o.name().to_string()).or_insert(0) += 1;
    }
    let per_tx = messages_per_tx(world);
    let told = super::outcome::reported_to_client(view.obs);
    let transactions = view
        .outcomes
        .iter()
        .map(|(tx, o)| TxReport {
            tx: tx.0,
            outcome: *o,
            latency_ms: lat.get(tx).copied(),
            reported_to_client: told.get(tx).copied(),
            messages: per_tx.as_ref().map(|m| m.get(tx).copied().unwrap_or(0)),
        })
        .collect();
    let final_state = spec
        .workflow
        .services
        .iter()
        .zip(&view.final_values)
        .map(|(s, v)| (s.name.clone(), BTreeMap::clone(v)))
        .collect();
    RunReport {
        protocol: spec.protocol,
        seed: spec.seed,
        trace_hash: format!("{:016x}", world.trace().hash()),
        outcomes: counts,
        metrics,
        violations,
        transactions,
        final_state,
    }
}

/// Run the same workload and fault schedule under every protocol, side by
/// side (faults name node ids, which mean the same role in each world).
pub fn compare(spec: &RunSpec) -> Vec<Run> {
    Protocol::ALL
        .iter()
        .map(|p| run(&spec.with_protocol(*p)))
        .collect()
}
