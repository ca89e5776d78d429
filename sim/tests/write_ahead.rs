//! Write-ahead in the engine (THEORY.md): a node blocked on a forced write
//! handles no input until the write is durable; inputs queue behind it and
//! a crash loses them with the write. Each test pins one consequence; the
//! last shows the bug the rule prevents, with the rule switched off.

use txlab_sim::engine::{
    Ctx, DropReason, EventKind, Fault, Harness, Node, NodeId, SimTime, TimerId, World,
};

/// A one-register server (node 0) and a client (node 1). The client sends
/// `Set(v)` and `Get` at planned times; the server forces `v` to its log
/// before it answers `Set`, and answers `Get` with the value it holds.
#[derive(Clone, Debug)]
enum Reg {
    Server { value: u32, tick_ms: Option<u64> },
    Client { plan: Vec<(u64, Msg)>, next: usize },
}

#[derive(Clone, Debug, Hash, PartialEq)]
enum Msg {
    Set(u32),
    /// Like `Set`, but the handler sends its answer before it persists.
    SetEager(u32),
    Get,
    Stored(u32),
    Value(u32),
}

#[derive(Clone, Debug, Hash, PartialEq)]
enum Obs {
    /// The client learned the server holds this value.
    Saw(u32),
    /// The server recovered this value from its log.
    Recovered(u32),
}

const SERVER: NodeId = NodeId(0);
const CLIENT: NodeId = NodeId(1);
const NEXT: TimerId = TimerId(1);
const SERVER_TICK: TimerId = TimerId(2);

impl Node for Reg {
    type Msg = Msg;
    type Record = u32;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            Reg::Client { plan, .. } => ctx.set_timer(NEXT, SimTime::from_millis(plan[0].0)),
            Reg::Server {
                tick_ms: Some(t), ..
            } => ctx.set_timer(SERVER_TICK, SimTime::from_millis(*t)),
            Reg::Server { .. } => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Self>) {
        match (self, msg) {
            (Reg::Server { value, .. }, Msg::Set(v)) => {
                *value = v;
                ctx.persist(v);
                ctx.send(from, Msg::Stored(v));
            }
            (Reg::Server { value, .. }, Msg::SetEager(v)) => {
                *value = v;
                ctx.send(from, Msg::Stored(v));
                ctx.persist(v);
            }
            (Reg::Server { value, .. }, Msg::Get) => ctx.send(from, Msg::Value(*value)),
            (Reg::Client { .. }, Msg::Stored(v) | Msg::Value(v)) => ctx.record(Obs::Saw(v)),
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: TimerId, ctx: &mut Ctx<'_, Self>) {
        match self {
            Reg::Client { plan, next } if timer == NEXT => {
                let at = plan[*next].0;
                ctx.send(SERVER, plan[*next].1.clone());
                *next += 1;
                if let Some((later, _)) = plan.get(*next) {
                    ctx.set_timer(NEXT, SimTime::from_millis(later - at));
                }
            }
            Reg::Server { value, .. } if timer == SERVER_TICK => ctx.record(Obs::Saw(*value)),
            _ => {}
        }
    }

    fn on_recover(&mut self, log: &[u32], ctx: &mut Ctx<'_, Self>) {
        if let Reg::Server { value, .. } = self {
            *value = log.last().copied().unwrap_or(0);
            ctx.record(Obs::Recovered(*value));
        }
    }
}

/// Latency 1 ms on every link, forced writes of 10 ms, the client's plan,
/// and a server crash/restart if asked.
fn world(plan: Vec<(u64, Msg)>, crash_at_ms: Option<u64>) -> Harness<Reg> {
    world_with_tick(plan, crash_at_ms, None)
}

fn world_with_tick(
    plan: Vec<(u64, Msg)>,
    crash_at_ms: Option<u64>,
    tick_ms: Option<u64>,
) -> Harness<Reg> {
    let mut h = Harness::new(1)
        .latency(txlab_sim::engine::Latency::uniform_ms(1, 1))
        .write_latency(SimTime::from_millis(10))
        .node("server", Reg::Server { value: 0, tick_ms })
        .node("client", Reg::Client { plan, next: 0 });
    if let Some(t) = crash_at_ms {
        h = h
            .fault(SimTime::from_millis(t), Fault::Crash(SERVER))
            .fault(SimTime::from_millis(t + 20), Fault::Restart(SERVER));
    }
    h
}

/// What `who` saw, in order, with when it saw it.
fn seen_by(w: &World<Reg>, who: NodeId) -> Vec<(SimTime, u32)> {
    w.trace()
        .observations()
        .iter()
        .filter_map(|o| match o.obs {
            Obs::Saw(v) if o.node == who => Some((o.time, v)),
            _ => None,
        })
        .collect()
}

fn seen(w: &World<Reg>) -> Vec<(SimTime, u32)> {
    seen_by(w, CLIENT)
}

#[test]
fn an_input_that_arrives_during_a_forced_write_waits_for_it() {
    // Set arrives at 1 ms, its write is durable at 11 ms; Get arrives at
    // 4 ms and must not be answered before 11 ms.
    let w = world(vec![(0, Msg::Set(7)), (3, Msg::Get)], None).drive();
    assert_eq!(
        seen(&w),
        vec![(SimTime::from_millis(12), 7), (SimTime::from_millis(12), 7)],
        "both answers leave when the write is durable, in arrival order"
    );
}

#[test]
fn a_crash_during_a_forced_write_loses_the_write_and_the_queued_inputs() {
    // The crash at 6 ms takes the write (durable at 11 ms) and the Get that
    // waited behind it: the client sees nothing, and the restarted server
    // recovers the old value.
    let w = world(vec![(0, Msg::Set(7)), (3, Msg::Get)], Some(6)).drive();
    assert_eq!(seen(&w), vec![], "nothing the crash took back was revealed");
    assert!(w.durable_log(SERVER).is_empty());
    let lost: Vec<_> = w
        .trace()
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Drop {
                    reason: DropReason::LostInCrash,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(
        lost.len(),
        1,
        "the queued Get is reported lost in the crash"
    );
}

#[test]
fn a_timer_that_fires_during_a_forced_write_runs_after_it() {
    // The server's tick is due at 5 ms, inside the write (1 ms to 11 ms).
    let w = world_with_tick(vec![(0, Msg::Set(7))], None, Some(5)).drive();
    assert_eq!(seen_by(&w, SERVER), vec![(SimTime::from_millis(11), 7)]);
    let off = world_with_tick(vec![(0, Msg::Set(7))], None, Some(5))
        .answer_from_volatile_state(true)
        .drive();
    assert_eq!(
        seen_by(&off, SERVER),
        vec![(SimTime::from_millis(5), 7)],
        "without write-ahead the tick runs mid-write"
    );
}

#[test]
fn a_handler_that_sends_before_it_persists_is_held_back_too() {
    // The answer is pushed before the forced write, yet leaves only once
    // the write is durable (11 ms), and a crash at 6 ms takes it back.
    let w = world(vec![(0, Msg::SetEager(7))], None).drive();
    assert_eq!(seen(&w), vec![(SimTime::from_millis(12), 7)]);
    let crashed = world(vec![(0, Msg::SetEager(7))], Some(6)).drive();
    assert_eq!(seen(&crashed), vec![]);
}

#[test]
fn answering_from_volatile_state_reveals_what_a_crash_takes_back() {
    // Negative control: the same run with write-ahead switched off answers
    // Get with 7 at 5 ms, then the crash loses 7: the client was told a
    // value the server never had durably.
    let w = world(vec![(0, Msg::Set(7)), (3, Msg::Get)], Some(6))
        .answer_from_volatile_state(true)
        .drive();
    assert_eq!(seen(&w), vec![(SimTime::from_millis(5), 7)]);
    assert!(w.durable_log(SERVER).is_empty(), "and 7 was never durable");
}

#[test]
fn with_instant_writes_nothing_waits() {
    let w = world(vec![(0, Msg::Set(7)), (3, Msg::Get)], None)
        .write_latency(SimTime::ZERO)
        .drive();
    assert_eq!(
        seen(&w),
        vec![(SimTime::from_millis(2), 7), (SimTime::from_millis(5), 7)]
    );
}
