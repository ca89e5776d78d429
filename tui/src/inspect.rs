//! Details for the inspect overlay: a node's state at the cursor (rebuilt by
//! re-running the pane to that point) or an in-flight message, in words and
//! small tables, never Rust debug text: the room reads this.

use crate::recording::PaneRun;
use txlab_sim::engine::{EventKind, MsgId, NodeId, World};
use txlab_sim::lab::build_world;
use txlab_sim::lab::tracker::Tracked;
use txlab_sim::protocols::saga_choreographed::{self as choreo, Event};
use txlab_sim::protocols::saga_orchestrated::{self as orch, SagaPhase};
use txlab_sim::protocols::service::{LocalCommit, Reply};
use txlab_sim::protocols::two_pc::{self, CoordPhase, ParticipantPhase};
use txlab_sim::protocols::workload::{Op, StepId, Workflow};
use txlab_sim::protocols::{LabNode, Record};

/// Durable log records listed (the newest).
const LOG_LINES: usize = 10;

/// Lines describing node `id` after the first `shown` events of `run`.
/// They say no time: the box is titled with the screen's time
/// ([`App::shown_time`](crate::app::App::shown_time)), the one the title
/// shows, not the time of this pane's last event, which is earlier
/// whenever another pane's event is the newest on screen.
pub fn node_details(run: &PaneRun, shown: usize, id: NodeId) -> Vec<String> {
    let mut world = build_world(&run.spec);
    // Re-run to the cursor: the run is deterministic, so this is the state
    // the node had when the shown event happened.
    while (world.trace().len() as usize) < shown && world.step() {}
    let w = &run.spec.workflow;
    let names = |ids: &[NodeId]| -> String {
        ids.iter()
            .map(|n| world.name(*n).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = vec![format!(
        "{} ({}): {}",
        world.name(id),
        role(world.node(id)),
        if world.is_up(id) {
            "up"
        } else {
            "CRASHED (down)"
        }
    )];
    if let Some(s) = world.node(id).service() {
        let values: Vec<String> = s.values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        out.push(format!("resources: {}", values.join(", ")));
        let table: Vec<String> = s
            .table()
            .map(|(k, r)| {
                format!(
                    "  {} {} of {}: {}",
                    k.tx,
                    op(k.op),
                    step(w, k.step),
                    reply(r)
                )
            })
            .collect();
        out.push(format!(
            "idempotency table ({}, {} entries; a repeat gets the remembered answer):",
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
            let locks: Vec<String> = p
                .locks
                .iter()
                .map(|(r, t)| format!("{r} (held by {t})"))
                .collect();
            out.push(format!(
                "locks held: {}",
                if locks.is_empty() {
                    "none".into()
                } else {
                    locks.join(", ")
                }
            ));
            for (tx, phase) in &p.phases {
                let what = match phase {
                    ParticipantPhase::Waiting { coordinator, .. } => format!(
                        "working, has not voted; the coordinator is {}",
                        world.name(*coordinator)
                    ),
                    ParticipantPhase::Prepared { peers, in_doubt } => format!(
                        "prepared (voted yes){}; participants: {}",
                        if *in_doubt {
                            ", IN DOUBT: blocked, waiting for the decision"
                        } else {
                            ", waiting for the decision"
                        },
                        names(peers)
                    ),
                    ParticipantPhase::Committed => "committed".into(),
                    ParticipantPhase::Aborted => "aborted".into(),
                };
                out.push(format!("  {tx}: {what}"));
            }
        }
        LabNode::Coordinator(c) => {
            for (tx, phase) in &c.txs {
                let what = match phase {
                    CoordPhase::Collecting { yes } => {
                        let yes: Vec<NodeId> = yes.iter().copied().collect();
                        format!(
                            "collecting votes; yes so far from {}",
                            if yes.is_empty() {
                                "nobody".into()
                            } else {
                                names(&yes)
                            }
                        )
                    }
                    CoordPhase::Committing => "decided commit; waiting for acknowledgements".into(),
                    CoordPhase::Aborting => "decided abort; waiting for acknowledgements".into(),
                    CoordPhase::Done => "done (every participant acknowledged)".into(),
                };
                out.push(format!("  {tx}: {what}"));
            }
        }
        LabNode::Orchestrator(o) => {
            for (tx, saga) in &o.sagas {
                let what = match saga.phase {
                    SagaPhase::Running(_) if saga.inflight.len() > 1 => {
                        let names: Vec<String> =
                            saga.inflight.iter().map(|m| step(w, m.step)).collect();
                        format!("running in parallel: {}", names.join(", "))
                    }
                    SagaPhase::Running(s) => {
                        let s = saga.inflight.first().map_or(s, |m| m.step);
                        format!("running {}", step(w, s))
                    }
                    SagaPhase::Compensating(s) => format!("compensating {}", step(w, s)),
                    SagaPhase::Completed => "completed".into(),
                    SagaPhase::Compensated => "compensated (undone)".into(),
                    SagaPhase::Stuck => "STUCK: a compensation keeps failing".into(),
                };
                let attempt = saga.inflight.iter().map(|m| m.attempt).max().unwrap_or(0);
                out.push(format!("  {tx}: {what}, attempt {attempt}"));
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
                let w = &run.spec.workflow;
                let last = t.events.last().map_or(String::new(), |(_, e)| {
                    format!(", last: {}", bus_event(w, e))
                });
                out.push(format!(
                    "  {tx}: {}, {} events{last}",
                    tracked(t.state),
                    t.events.len()
                ));
                if let Some(missing) = awaited(w, &t) {
                    out.push(format!("    waiting for: {missing}"));
                }
            }
        }
        LabNode::ChoreoService(c) => {
            out.push(format!(
                "inbox: {} deliveries processed; outbox: {} events waiting to be relayed",
                c.inbox.len(),
                c.outbox.len()
            ));
        }
        LabNode::SagaService(_) | LabNode::Auditor(_) => {}
    }
    let log = world.durable_log(id);
    out.push(format!(
        "durable log ({} records, oldest first{}):",
        log.len(),
        if log.len() > LOG_LINES {
            format!("; the last {LOG_LINES}")
        } else {
            String::new()
        }
    ));
    let first = log.len().saturating_sub(LOG_LINES);
    out.extend(
        log.iter()
            .enumerate()
            .skip(first)
            .map(|(i, r)| format!("  {:>3}. {}", i + 1, record(&world, w, r))),
    );
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

fn op(o: Op) -> &'static str {
    match o {
        Op::Action => "action",
        Op::Compensation => "compensation",
    }
}

/// A bus event in the workload's words: "step 2 (welcome e-mail) done".
fn bus_event(w: &Workflow, e: &choreo::EventKind) -> String {
    use choreo::EventKind as K;
    match e {
        K::Requested => "requested".into(),
        K::StepDone(s) => format!("{} done", step(w, *s)),
        K::StepFailed(s) => format!("{} failed", step(w, *s)),
        K::Compensated(s) => format!("{} compensated", step(w, *s)),
        K::CompensationFailed(s) => format!("{} compensation failed", step(w, *s)),
        K::Ended(o) => format!("ended {}", o.name()),
    }
}

/// For a saga going forward, the steps of its first unfinished stage
/// whose "done" event has not come (what a tracker shows as the stall:
/// the choreography's only view of where a saga stands).
fn awaited(w: &Workflow, t: &txlab_sim::lab::tracker::SagaTrack) -> Option<String> {
    if !matches!(t.state, Tracked::Requested | Tracked::Forward(_)) {
        return None;
    }
    let done = |i: u16| {
        t.events
            .iter()
            .any(|(_, e)| *e == choreo::EventKind::StepDone(StepId(i)))
    };
    let stage = w
        .stages()
        .into_iter()
        .find(|st| st.clone().any(|i| !done(i)))?;
    let names: Vec<String> = stage
        .filter(|i| !done(*i))
        .map(|i| step(w, StepId(i)))
        .collect();
    Some(names.join(", "))
}

/// "step 1 (hotel)".
fn step(w: &Workflow, s: StepId) -> String {
    match w.steps.get(s.index()) {
        Some(spec) => format!("step {} ({})", s.0, spec.name),
        None => format!("step {}", s.0),
    }
}

fn reply(r: &Reply) -> String {
    match r {
        Reply::Done => "done".into(),
        Reply::Rejected(why) => format!("rejected: {why}"),
        Reply::NullCompensation => "null compensation (nothing to undo)".into(),
        Reply::RefusedLate => "refused (it came after its compensation)".into(),
    }
}

fn tracked(t: Tracked) -> String {
    match t {
        Tracked::Requested => "requested, no step done yet".into(),
        Tracked::Forward(n) => format!("going forward, {n} steps done"),
        Tracked::Backward(n) => format!("undoing, at step {n}"),
        Tracked::Completed => "completed".into(),
        Tracked::Compensated => "compensated (undone)".into(),
        Tracked::Stuck => "STUCK".into(),
    }
}

fn local(w: &Workflow, c: &LocalCommit) -> String {
    format!(
        "{} {} of {}: {} {:+} ({})",
        c.key.tx,
        op(c.key.op),
        step(w, c.key.step),
        c.resource,
        c.delta,
        reply(&c.reply)
    )
}

fn event(e: &Event) -> String {
    format!("{} {}", e.tx, e.kind)
}

/// One durable record in words.
fn record(world: &World<LabNode>, w: &Workflow, r: &Record) -> String {
    match r {
        Record::TwoPc(r) => match r {
            two_pc::Record::Decision { tx, commit } => format!(
                "decision for {tx}: {}",
                if *commit { "COMMIT" } else { "ABORT" }
            ),
            two_pc::Record::End { tx } => format!("{tx} ended (every acknowledgement in)"),
            two_pc::Record::Prepared { tx, peers } => {
                let peers: Vec<String> = peers.iter().map(|n| world.name(*n).to_string()).collect();
                format!(
                    "prepared {tx} (voted yes; participants: {})",
                    peers.join(", ")
                )
            }
            two_pc::Record::Outcome { tx, commit } => {
                format!("{tx} {}", if *commit { "committed" } else { "aborted" })
            }
        },
        Record::Saga(r) => match r {
            orch::Record::Started { tx } => format!("saga {tx} started"),
            orch::Record::Begin { tx, step: s, op: o } => {
                format!("{tx}: about to send the {} of {}", op(*o), step(w, *s))
            }
            orch::Record::Done { tx, step: s, op: o } => {
                format!("{tx}: {} of {} done", op(*o), step(w, *s))
            }
            orch::Record::Failed { tx, from } => match from {
                Some(s) => format!("{tx} failed: compensate from {} back", step(w, *s)),
                None => format!("{tx} failed: nothing to compensate"),
            },
            orch::Record::End { tx, outcome } => format!("{tx} ended: {}", outcome.name()),
            orch::Record::GaveUp { tx, step: s } => {
                format!(
                    "{tx}: gave up on {} (outcome unknown: it will be compensated)",
                    step(w, *s)
                )
            }
            orch::Record::Released { tx } => {
                format!("{tx}: every service acknowledged the release")
            }
        },
        Record::Choreo(r) => match r {
            choreo::Record::Appended { event: e } => format!("appended “{}”", event(e)),
            choreo::Record::Acked { consumer, seq } => format!(
                "{} acknowledged delivery {seq}",
                world.name(NodeId(*consumer))
            ),
            choreo::Record::Commit {
                seq,
                local: l,
                outbox,
            } => {
                let mut s = format!("processed delivery {seq}");
                if let Some(l) = l {
                    s.push_str(&format!("; {}", local(w, l)));
                }
                if let Some(e) = outbox {
                    s.push_str(&format!("; outbox: “{}”", event(e)));
                }
                s
            }
            choreo::Record::Relayed { event: e } => {
                format!("outbox entry “{}” reached the broker", event(e))
            }
            choreo::Record::Joined { seq, event: e } => {
                format!("delivery {seq}: “{}” kept for the group's join", event(e))
            }
        },
        Record::Local(c) => local(w, c),
        Record::Release { tx } => format!("{tx} released (pending marks cleared)"),
        Record::Custom(_) => "the user service's state after that local transaction".into(),
    }
}

/// Lines describing in-flight message `id` of `run`.
pub fn message_details(run: &PaneRun, id: MsgId) -> Vec<String> {
    let trace = run.world.trace();
    let mut out = vec![format!("message #{}", id.0)];
    let sent = trace.events().iter().find_map(|e| match e.kind {
        EventKind::Send { msg, from, to } if msg == id => Some((e.time, from, to)),
        _ => None,
    });
    if let Some((t, from, to)) = sent {
        out.push(format!(
            "from {} to {}, sent at {t}",
            run.world.name(from),
            run.world.name(to)
        ));
    }
    if let Some(m) = trace.message(id) {
        let words = crate::words::message(m, &run.spec.workflow);
        let raw = m.label();
        if words == raw {
            out.push(format!("says: {words}"));
        } else {
            out.push(format!("says: {words} (on the wire: {raw})"));
        }
    }
    out
}
