//! Details for the inspect overlay: a node's state at the cursor (rebuilt by
//! re-running the pane to that point) or an in-flight message's fields.

use crate::recording::PaneRun;
use txlab_sim::engine::NodeId;
use txlab_sim::lab::build_world;
use txlab_sim::protocols::LabNode;

/// Lines describing node `id` after the first `shown` events of `run`.
pub fn node_details(run: &PaneRun, shown: usize, id: NodeId) -> Vec<String> {
    let mut world = build_world(&run.spec);
    // Re-run to the cursor: the run is deterministic, so this is the state
    // the node had when the shown event happened.
    while (world.trace().len() as usize) < shown && world.step() {}
    let mut out = vec![format!(
        "{} ({}) at {}: {}",
        world.name(id),
        role(world.node(id)),
        world.now(),
        if world.is_up(id) { "up" } else { "CRASHED" }
    )];
    if let Some(s) = world.node(id).service() {
        let values: Vec<String> = s.values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        out.push(format!("resources: {}", values.join(", ")));
        let table: Vec<String> = s
            .table()
            .map(|(k, r)| format!("  {} step {} {:?} → {:?}", k.tx, k.step.0, k.op, r))
            .collect();
        out.push(format!(
            "idempotency table ({}, {} keys):",
            if s.idempotency { "on" } else { "OFF" },
            table.len()
        ));
        out.extend(table.into_iter().rev().take(8).rev());
    }
    match world.node(id) {
        LabNode::Client(c) => {
            out.push(format!(
                "waiting for an answer: {}; answered: {}",
                c.waiting.len(),
                c.answered.len()
            ));
        }
        LabNode::Participant(p) => {
            let locks: Vec<String> = p.locks.iter().map(|(r, t)| format!("{r} by {t}")).collect();
            out.push(format!(
                "locks: {}",
                if locks.is_empty() {
                    "none".into()
                } else {
                    locks.join(", ")
                }
            ));
            for (tx, phase) in &p.phases {
                out.push(format!("  {tx}: {phase:?}"));
            }
        }
        LabNode::Coordinator(c) => {
            for (tx, phase) in &c.txs {
                out.push(format!("  {tx}: {phase:?}"));
            }
        }
        LabNode::Orchestrator(o) => {
            for (tx, saga) in &o.sagas {
                out.push(format!(
                    "  {tx}: {:?}, attempt {}",
                    saga.phase, saga.attempt
                ));
            }
        }
        LabNode::Broker(b) => {
            out.push(format!(
                "topic: {} events, {} unacknowledged",
                b.log.len(),
                b.unacked()
            ));
            out.push("tracker (each saga rebuilt from its events):".into());
            for (tx, t) in txlab_sim::lab::tracker::track(world.trace().observations()) {
                let last = t
                    .events
                    .last()
                    .map_or(String::new(), |(_, e)| e.to_string());
                out.push(format!(
                    "  {tx}: {:?}, {} events, last {last}",
                    t.state,
                    t.events.len()
                ));
            }
        }
        LabNode::ChoreoService(c) => {
            out.push(format!(
                "inbox: {} deliveries; outbox: {} pending",
                c.inbox.len(),
                c.outbox.len()
            ));
        }
        LabNode::SagaService(_) | LabNode::Auditor(_) => {}
    }
    let log = world.durable_log(id);
    out.push(format!("durable log ({} records, last 6):", log.len()));
    out.extend(log.iter().rev().take(6).rev().map(|r| format!("  {r:?}")));
    out
}

fn role(n: &LabNode) -> &'static str {
    match n {
        LabNode::Coordinator(_) => "2PC coordinator",
        LabNode::Participant(_) => "2PC participant",
        LabNode::Orchestrator(_) => "saga orchestrator",
        LabNode::SagaService(_) => "saga service",
        LabNode::Broker(_) => "message broker",
        LabNode::ChoreoService(_) => "choreographed service",
        LabNode::Auditor(_) => "auditor (a concurrent reader)",
        LabNode::Client(_) => "client (sends every request, asks again on a timeout)",
    }
}

/// Lines describing in-flight message `id` of `run`.
pub fn message_details(run: &PaneRun, id: txlab_sim::engine::MsgId) -> Vec<String> {
    let trace = run.world.trace();
    let mut out = vec![format!("message #{}", id.0)];
    if let Some(m) = trace.message(id) {
        out.push(m.label());
        out.push(format!("{m:#?}"));
    }
    out.into_iter()
        .flat_map(|l| l.lines().map(String::from).collect::<Vec<_>>())
        .collect()
}
