//! Parallel groups: a group's latency is its slowest member's, a failure
//! compensates exactly the members that completed (in reverse order of
//! completion, for the orchestrator), recovery resumes a group, a
//! choreographed member crashing between its step and its event still
//! joins exactly once, groups of user services (`txlab_sim::custom`)
//! compensate like the built-in ones, and the order checker catches an
//! orchestrator that undoes a group forward.
//!
//! The numbers come from THEORY.md's latency section: with every hop d =
//! 10 ms, a sequential stage costs 2d + its work, a parallel group 2d + its
//! slowest member's work.

mod common;

use common::{assert_caught, assert_clean, ms};
use std::collections::BTreeMap;
use txlab_sim::engine::{Fault, Latency, NodeId, ScheduledFault};
use txlab_sim::lab::{RunSpec, run};
use txlab_sim::protocols::workload::{
    Arrival, Op, ServiceId, ServiceSpec, StepFailure, StepId, StepKind, StepSpec, Workflow,
};
use txlab_sim::protocols::{Obs, Outcome, Protocol};

const SAGAS: [Protocol; 2] = [Protocol::Orchestrated, Protocol::Choreographed];
const RESERVE: StepId = StepId(0);
const A: StepId = StepId(1);
const B: StepId = StepId(2);
const C: StepId = StepId(3);

/// "reserve" at shop, then a, b and c in one parallel group; `work` is
/// each group member's processing time in ms.
fn workflow(work: [u64; 3]) -> Workflow {
    let names = ["shop", "a", "b", "c"];
    let services = names
        .iter()
        .map(|n| ServiceSpec {
            name: n.to_string(),
            resources: BTreeMap::from([("units".to_string(), 10)]),
            registers: Default::default(),
        })
        .collect();
    let steps = (0..4)
        .map(|i| StepSpec {
            name: format!("step {}", names[i]),
            service: ServiceId(i as u16),
            resource: "units".into(),
            amount: 1,
            compensation_amount: 1,
            kind: StepKind::Compensatable,
            action: "take".into(),
            compensation: "give back".into(),
            reads: None,
            group: (i > 0).then(|| "g".to_string()),
        })
        .collect();
    let failures = work
        .iter()
        .enumerate()
        .map(|(i, w)| StepFailure {
            step: Some(StepId(i as u16 + 1)),
            reply_delay: ms(*w),
            ..StepFailure::default()
        })
        .collect();
    Workflow {
        services,
        steps,
        transactions: 1,
        arrival: Arrival::default(),
        failures,
        values: Vec::new(),
    }
}

fn spec(protocol: Protocol, wf: Workflow, seed: u64) -> RunSpec {
    let mut s = RunSpec::new(protocol, seed, wf);
    s.net.default.latency = Latency::uniform_ms(10, 10);
    s.timing.step_timeout = ms(200);
    s.timing.vote_timeout = ms(200);
    s
}

fn latency(s: &RunSpec) -> f64 {
    let r = run(s).report;
    assert_clean(&r);
    r.transactions[0].latency_ms.expect("answered")
}

/// The compensations run, in trace order.
fn compensations(s: &RunSpec) -> Vec<StepId> {
    let r = run(s);
    assert_clean(&r.report);
    assert_eq!(
        r.report.count(Outcome::Compensated),
        1,
        "{:?}",
        r.report.outcomes
    );
    r.world
        .trace()
        .observations()
        .iter()
        .filter_map(|o| match &o.obs {
            Obs::Local {
                step,
                op: Op::Compensation,
                delta,
                ..
            } if *delta != 0 => Some(*step),
            _ => None,
        })
        .collect()
}

fn rejecting(mut wf: Workflow, step: StepId) -> Workflow {
    let f = wf
        .failures
        .iter_mut()
        .find(|f| f.step == Some(step))
        .unwrap();
    f.reject = true;
    wf
}

#[test]
fn a_groups_latency_is_its_slowest_member() {
    // Request d, reserve 2d, the group 2d + max(5, 40, 20), answer d:
    // 6d + 40 = 100 ms. In sequence it would be 10d + 65 = 165 ms.
    for p in SAGAS {
        assert_eq!(latency(&spec(p, workflow([5, 40, 20]), 1)), 100.0, "{p:?}");
        assert_eq!(latency(&spec(p, workflow([40, 5, 20]), 1)), 100.0, "{p:?}");
    }
    // 2PC prepares all four at once anyway: d + (2d + 40) + d = 80 ms.
    assert_eq!(
        latency(&spec(Protocol::TwoPc, workflow([5, 40, 20]), 1)),
        80.0
    );
}

#[test]
fn with_jitter_a_groups_latency_stays_within_one_message_delay() {
    // Hops of 9..=11 ms: the slowest member still sets the pace, so the
    // latency stays within one message delay (10 ms) of 100 ms, far from
    // the sequential 165 ms.
    for p in SAGAS {
        for seed in 0..10 {
            let mut s = spec(p, workflow([5, 40, 20]), seed);
            s.net.default.latency = Latency::uniform_ms(9, 11);
            let l = latency(&s);
            assert!((l - 100.0).abs() <= 10.0, "{p:?} seed {seed}: {l} ms");
        }
    }
}

#[test]
fn a_failure_undoes_exactly_the_completed_members_in_reverse_order_of_completion() {
    // b is rejected at 40 ms of work; a completes first (5 ms), c last
    // (60 ms): the orchestrator undoes c, then a, then reserve; never b.
    let wf = rejecting(workflow([5, 40, 60]), B);
    let s = spec(Protocol::Orchestrated, wf, 1);
    assert_eq!(compensations(&s), vec![C, A, RESERVE]);
    // The same group with a and c's speeds swapped: the order follows
    // completion, not the order of the steps in the file.
    let wf = rejecting(workflow([60, 40, 5]), B);
    let s = spec(Protocol::Orchestrated, wf, 1);
    assert_eq!(compensations(&s), vec![A, C, RESERVE]);
}

#[test]
fn the_choreography_undoes_the_done_members_then_the_stage_before() {
    // a and c each undo their own action on hearing b failed (in any
    // order); reserve is undone only once all three are back.
    let wf = rejecting(workflow([5, 40, 60]), B);
    let got = compensations(&spec(Protocol::Choreographed, wf, 1));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2], RESERVE, "{got:?}");
    assert!(got.contains(&A) && got.contains(&C), "{got:?}");
}

#[test]
fn two_failures_in_a_group_undo_each_done_member_once() {
    // a and b are both rejected; only c (done) is undone, once, then
    // reserve.
    let wf = rejecting(rejecting(workflow([5, 40, 60]), B), A);
    for p in SAGAS {
        assert_eq!(
            compensations(&spec(p, wf.clone(), 1)),
            vec![C, RESERVE],
            "{p:?}"
        );
    }
}

#[test]
fn an_orchestrator_that_undoes_a_group_forward_is_caught() {
    let wf = rejecting(workflow([5, 40, 60]), B);
    let mut s = spec(Protocol::Orchestrated, wf, 1);
    s.bugs.orchestrator_undoes_group_forward = true;
    let r = run(&s).report;
    assert_caught(&r, &["saga_shape"]);
}

#[test]
fn an_orchestrator_crash_inside_a_group_resumes_it() {
    // The group's commands leave at 31 ms; the orchestrator is down from
    // 35 to 300 ms: on restart it sends the unfinished members again
    // (same keys) and the saga completes.
    let mut s = spec(Protocol::Orchestrated, workflow([5, 40, 20]), 1);
    s.faults = vec![
        ScheduledFault {
            at: ms(35),
            fault: Fault::Crash(NodeId(0)),
        },
        ScheduledFault {
            at: ms(300),
            fault: Fault::Restart(NodeId(0)),
        },
    ];
    let r = run(&s).report;
    assert_clean(&r);
    assert_eq!(r.count(Outcome::Completed), 1, "{:?}", r.outcomes);
    assert_eq!(r.final_state["b"]["units"], 9);
}

/// Two groups back to back, a and b then c and d, nothing slow, nothing
/// lost. The orchestrator: request d, two stages of 2d, answer d = 6d =
/// 60 ms. The choreography joins c (and d) on two events of one saga,
/// which the broker delivers in order with one in flight per saga, so the
/// second event leaves the broker when the first is acknowledged: one
/// round trip more, 8d = 80 ms, and never a redelivery on a clean run (it
/// once waited for the redelivery timer instead).
#[test]
fn back_to_back_groups_join_without_waiting_for_a_redelivery() {
    let names = ["a", "b", "c", "d"];
    let mut wf = workflow([0, 0, 0]);
    wf.services = names
        .iter()
        .map(|n| ServiceSpec {
            name: n.to_string(),
            resources: BTreeMap::from([("units".to_string(), 10)]),
            registers: Default::default(),
        })
        .collect();
    for (i, s) in wf.steps.iter_mut().enumerate() {
        s.name = format!("step {}", names[i]);
        s.group = Some(if i < 2 { "x" } else { "y" }.to_string());
    }
    wf.failures.clear();
    for (p, want) in [
        (Protocol::Orchestrated, 60.0),
        (Protocol::Choreographed, 80.0),
    ] {
        let s = spec(p, wf.clone(), 1);
        let r = run(&s).report;
        assert_clean(&r);
        assert_eq!(r.transactions[0].latency_ms, Some(want), "{p:?}");
        assert_eq!(r.metrics.retries, 0, "{p:?}: nothing was lost");
    }
}

/// How many times each step's action was applied (done) in `s`'s run.
fn actions_done(r: &txlab_sim::lab::Run) -> BTreeMap<StepId, u32> {
    let mut n = BTreeMap::new();
    for o in r.world.trace().observations() {
        if let Obs::Local {
            step,
            op: Op::Action,
            reply: txlab_sim::protocols::service::Reply::Done,
            ..
        } = &o.obs
        {
            *n.entry(*step).or_insert(0) += 1;
        }
    }
    n
}

/// A choreographed join with a member crashing between its step and its
/// event. Derivation (every hop d = 10 ms, no disk latency): the request
/// reaches the broker at 11 ms, reserve is done at 21 and its event is
/// delivered to a, b and c at 41. b commits its action (with the event in
/// its outbox, in the same forced record) at 41 and, 40 ms slow, would
/// publish at 81; it crashes at 60, after the commit and before the
/// publish, and restarts at 200. The broker has b's ack (sent right after
/// the commit), so it redelivers nothing; b's recovery finds the event in
/// its outbox and publishes it at once: the broker has the join's last
/// member at 210 and answers the client at 220, a latency of 219 ms.
/// Every step applied exactly once: b's restart does not run its action
/// again (its commit is durable, the delivery settled), and no step is
/// lost. Negative control: without the outbox the event is a separate
/// write after the commit, lost in the crash, and the saga never ends.
#[test]
fn a_member_crashing_between_its_step_and_its_event_still_joins_once() {
    let b = NodeId(3);
    let crash = vec![
        ScheduledFault {
            at: ms(60),
            fault: Fault::Crash(b),
        },
        ScheduledFault {
            at: ms(200),
            fault: Fault::Restart(b),
        },
    ];
    let mut s = spec(Protocol::Choreographed, workflow([5, 40, 20]), 1);
    s.faults = crash;
    let r = run(&s);
    assert_clean(&r.report);
    assert_eq!(
        r.report.count(Outcome::Completed),
        1,
        "{:?}",
        r.report.outcomes
    );
    assert_eq!(r.report.transactions[0].latency_ms, Some(219.0));
    let once: BTreeMap<StepId, u32> = [RESERVE, A, B, C].map(|s| (s, 1)).into();
    assert_eq!(actions_done(&r), once);
    for svc in ["shop", "a", "b", "c"] {
        assert_eq!(r.report.final_state[svc]["units"], 9, "{svc}");
    }
    // Negative control: the dual write loses b's event in the crash.
    s.toggles.outbox = false;
    let r = run(&s).report;
    assert_eq!(r.count(Outcome::Completed), 0, "{:?}", r.outcomes);
    assert_eq!(r.metrics.unfinished, 1);
}

/// A user's service (the issue-15 API): units taken by an action and given
/// back by its compensation, idempotent by business key; `refuse` makes
/// every action a business refusal.
#[derive(Clone, Debug)]
struct Units {
    units: BTreeMap<String, i64>,
    answered: BTreeMap<txlab_sim::custom::IdempotencyKey, txlab_sim::custom::Answer>,
    refuse: bool,
}

impl txlab_sim::custom::ServiceLogic for Units {
    fn handle(&mut self, req: &txlab_sim::custom::Request<'_>) -> txlab_sim::custom::Answer {
        use txlab_sim::custom::{Answer, IdempotencyKey};
        if let Some(previous) = self.answered.get(&req.key) {
            return previous.clone();
        }
        let units = self.units.entry(req.resource.to_string()).or_insert(0);
        let answer = match req.op {
            Op::Action if self.refuse => Answer::Rejected("refused by the user's service".into()),
            Op::Action => {
                *units -= req.amount;
                Answer::Done
            }
            Op::Compensation => {
                let action = IdempotencyKey {
                    op: Op::Action,
                    ..req.key
                };
                if self.answered.get(&action) == Some(&Answer::Done) {
                    *units += req.amount;
                }
                Answer::Done
            }
        };
        self.answered.insert(req.key, answer.clone());
        answer
    }

    fn amounts(&self) -> BTreeMap<String, i64> {
        self.units.clone()
    }
}

/// The group workload of [`workflow`] as a file whose four services are
/// the user's (`logic = "units"`, b's `logic = "refusing"`).
const PLUGGED: &str = r#"
name = "plugged-group"
seed = 1
[network]
latency = { kind = "uniform", min_ms = 10, max_ms = 10 }
[timing]
step_timeout_ms = 200
[[services]]
name = "shop"
resources = { units = 10 }
logic = "units"
[[services]]
name = "a"
resources = { units = 10 }
logic = "units"
[[services]]
name = "b"
resources = { units = 10 }
logic = "refusing"
[[services]]
name = "c"
resources = { units = 10 }
logic = "units"
[[steps]]
name = "step shop"
service = "shop"
resource = "units"
amount = 1
[[steps]]
name = "step a"
service = "a"
resource = "units"
amount = 1
group = "g"
[[steps]]
name = "step b"
service = "b"
resource = "units"
amount = 1
group = "g"
[[steps]]
name = "step c"
service = "c"
resource = "units"
amount = 1
group = "g"
[[failures]]
step = "step a"
reply_delay_ms = 5
[[failures]]
step = "step b"
reply_delay_ms = 40
[[failures]]
step = "step c"
reply_delay_ms = 60
"#;

/// Parallel groups of user services behave as the built-in ones: b's own
/// logic refuses at 40 ms of work while a (5 ms) is done and c (60 ms) is
/// still working. The orchestrator undoes exactly the members that
/// completed, in reverse order of completion: c, then a, then reserve,
/// never b (its action was refused: nothing to undo). The choreography
/// undoes a and c (each on hearing b failed, in any order), then reserve.
/// Every service ends where it started, and no checker complains.
#[test]
fn a_group_of_user_services_compensates_exactly_its_completed_members() {
    use txlab_sim::custom::Registry;
    use txlab_sim::lab::scenario::Scenario;
    let units = |refuse: bool| {
        move |start: &BTreeMap<String, i64>| Units {
            units: start.clone(),
            answered: BTreeMap::new(),
            refuse,
        }
    };
    let registry = Registry::new()
        .register("units", units(false))
        .register("refusing", units(true));
    let mut s = Scenario::parse(PLUGGED.as_bytes(), "plugged-group.toml").unwrap();
    registry.attach(&mut s).unwrap();
    let orchestrated = compensations(&s.spec_for(Protocol::Orchestrated));
    assert_eq!(orchestrated, vec![C, A, RESERVE]);
    let choreographed = compensations(&s.spec_for(Protocol::Choreographed));
    assert_eq!(choreographed.len(), 3, "{choreographed:?}");
    assert_eq!(choreographed[2], RESERVE, "{choreographed:?}");
    assert!(choreographed.contains(&A) && choreographed.contains(&C));
    for p in SAGAS {
        let r = run(&s.spec_for(p)).report;
        for svc in ["shop", "a", "b", "c"] {
            assert_eq!(r.final_state[svc]["units"], 10, "{p:?} {svc}");
        }
    }
    // The same file with b's logic accepting: nothing is compensated (the
    // refusal above came from the user's code, not from the file).
    let mut ok = Scenario::parse(PLUGGED.as_bytes(), "plugged-group.toml").unwrap();
    Registry::new()
        .register("units", units(false))
        .register("refusing", units(false))
        .attach(&mut ok)
        .unwrap();
    for p in SAGAS {
        let r = run(&ok.spec_for(p)).report;
        assert_clean(&r);
        assert_eq!(r.count(Outcome::Completed), 1, "{p:?}");
    }
}
