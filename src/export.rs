//! Writing a run's trace for other tools: JSON lines, a Mermaid sequence
//! diagram, and Chrome trace-event JSON (opens in Perfetto).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use txlab_sim::engine::{EventKind, MsgId, NodeId, SimTime, World};
use txlab_sim::protocols::LabNode;

/// One JSON object per trace event, in order.
pub fn jsonl(world: &World<LabNode>) -> String {
    let trace = world.trace();
    let name = |n: NodeId| world.name(n).to_string();
    let mut out = String::new();
    for (i, e) in trace.events().iter().enumerate() {
        let mut v = json!({ "index": i, "time_us": e.time.as_micros() });
        let obj = v.as_object_mut().expect("object");
        let kind = serde_json::to_value(e.kind).expect("events serialize");
        if let Value::Object(fields) = kind {
            for (k, val) in fields {
                obj.insert(k, val);
            }
        }
        match e.kind {
            EventKind::Send { msg, from, to }
            | EventKind::Deliver { msg, from, to }
            | EventKind::Drop { msg, from, to, .. } => {
                obj.insert("from_name".into(), json!(name(from)));
                obj.insert("to_name".into(), json!(name(to)));
                if let Some(m) = trace.message(msg) {
                    obj.insert(
                        "payload".into(),
                        serde_json::to_value(m).expect("messages serialize"),
                    );
                }
            }
            EventKind::Observe { node, obs } => {
                obj.insert("node_name".into(), json!(name(node)));
                let o = &trace.observations()[obs as usize].obs;
                obj.insert(
                    "observation".into(),
                    serde_json::to_value(o).expect("observations serialize"),
                );
            }
            EventKind::Start { node }
            | EventKind::Timer { node, .. }
            | EventKind::Crash { node }
            | EventKind::Restart { node }
            | EventKind::Persist { node, .. } => {
                obj.insert("node_name".into(), json!(name(node)));
            }
            _ => {}
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// A Mermaid sequence diagram of the whole run (shared with the UI's
/// export for slides).
pub use txlab_sim::lab::mermaid::mermaid;

fn label(world: &World<LabNode>, msg: MsgId) -> String {
    txlab_sim::lab::mermaid::safe_label(world, msg)
}

/// Chrome trace-event JSON: one track per node; each delivered message is a
/// slice on the receiver from send to arrival; faults and drops are
/// instants.
pub fn chrome(world: &World<LabNode>) -> String {
    let mut events = Vec::new();
    for id in world.node_ids() {
        events.push(json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": id.0, "args": {"name": world.name(id)}}));
    }
    let mut sent: BTreeMap<MsgId, SimTime> = BTreeMap::new();
    let instant = |name: String, t: SimTime, tid: u32| json!({"name": name, "ph": "i", "s": "t", "ts": t.as_micros(), "pid": 1, "tid": tid});
    for e in world.trace().events() {
        match e.kind {
            EventKind::Send { msg, .. } => {
                sent.insert(msg, e.time);
            }
            EventKind::Duplicate { copy, .. } => {
                sent.insert(copy, e.time);
            }
            EventKind::Deliver { msg, from, to } => {
                let start = sent.get(&msg).copied().unwrap_or(e.time);
                events.push(json!({
                    "name": label(world, msg), "cat": "message", "ph": "X",
                    "ts": start.as_micros(), "dur": (e.time - start).as_micros(),
                    "pid": 1, "tid": to.0, "args": {"from": world.name(from)}
                }));
            }
            EventKind::Drop {
                msg, to, reason, ..
            } => {
                events.push(instant(
                    format!("dropped {} ({})", label(world, msg), reason.label()),
                    e.time,
                    to.0,
                ));
            }
            EventKind::Crash { node } => events.push(instant("CRASH".into(), e.time, node.0)),
            EventKind::Restart { node } => events.push(instant("restart".into(), e.time, node.0)),
            EventKind::Observe { node, obs } => {
                let o = &world.trace().observations()[obs as usize].obs;
                let name = serde_json::to_value(o)
                    .ok()
                    .and_then(|v| v.get("obs").and_then(Value::as_str).map(String::from));
                events.push(instant(
                    name.unwrap_or_else(|| "observation".into()),
                    e.time,
                    node.0,
                ));
            }
            _ => {}
        }
    }
    json!({"traceEvents": events, "displayTimeUnit": "ms"}).to_string()
}
