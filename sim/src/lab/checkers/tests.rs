//! Every checker can trip: for each invariant, a hand-made observation log
//! that breaks it on purpose must be reported (naming that invariant), and
//! the same log without the fault must not. These complement the negative
//! controls that break a protocol run (tests/ and sim/tests/).

use super::{INVARIANTS, Scratch, check_all, check_all_with};
use crate::engine::{NodeId, Observation, SimTime};
use crate::lab::view::RunView;
use crate::protocols::saga_choreographed::EventKind;
use crate::protocols::service::Reply;
use crate::protocols::workload::{Op, StepId, StepKind, TxId, Workflow};
use crate::protocols::{AbortWhy, Obs, Outcome, Protocol};
use std::collections::BTreeMap;

const T: TxId = TxId(0);

/// A log built one observation at a time.
#[derive(Default)]
struct Log(Vec<Observation<Obs>>);

impl Log {
    fn at(mut self, node: u32, obs: Obs) -> Self {
        let index = self.0.len() as u64;
        self.0.push(Observation {
            index,
            time: SimTime(index * 1_000),
            node: NodeId(node),
            obs,
        });
        self
    }
}

fn local(step: u16, op: Op, delta: i64, reply: Reply) -> Obs {
    Obs::Local {
        tx: T,
        step: StepId(step),
        op,
        delta,
        reply,
    }
}

/// The holiday workflow, its final state matching the observed changes.
fn judge(
    protocol: Protocol,
    wf: &Workflow,
    log: &Log,
    outcome: Outcome,
    healed: bool,
    undelivered: usize,
) -> Vec<String> {
    let view = view_of(protocol, wf, log, outcome, healed, undelivered);
    let mut names: Vec<String> = check_all(&view).into_iter().map(|v| v.invariant).collect();
    names.sort();
    names.dedup();
    names
}

/// The view of `log`, its final state matching the observed changes.
fn view_of<'a>(
    protocol: Protocol,
    wf: &'a Workflow,
    log: &'a Log,
    outcome: Outcome,
    healed: bool,
    undelivered: usize,
) -> RunView<'a> {
    let mut finals: Vec<BTreeMap<String, i64>> =
        wf.services.iter().map(|s| s.resources.clone()).collect();
    for o in &log.0 {
        if let Obs::Local { step, delta, .. } = &o.obs {
            let spec = wf.step(*step);
            *finals[spec.service.index()]
                .get_mut(&spec.resource)
                .unwrap() += delta;
        }
    }
    RunView {
        protocol,
        workflow: wf,
        obs: &log.0,
        faults: &[],
        final_values: finals.into_iter().map(std::borrow::Cow::Owned).collect(),
        outcomes: BTreeMap::from([(T, outcome)]),
        healed,
        undelivered,
        end: SimTime::from_secs(1),
        end_index: log.0.len() as u64,
        by_value: None,
    }
}

/// A clean 2PC commit of the holiday booking by four participants.
fn two_pc_commit() -> Log {
    let mut log = Log::default().at(0, Obs::TxStarted { tx: T });
    for n in 1..=4 {
        log = log
            .at(n, Obs::Prepared { tx: T })
            .at(n, Obs::Voted { tx: T, yes: true });
    }
    log = log.at(
        0,
        Obs::Decided {
            tx: T,
            commit: true,
            logged: true,
        },
    );
    for (n, step) in (1..=4).zip(0..4u16) {
        let amount = Workflow::holiday().steps[step as usize].amount;
        log = log
            .at(n, local(step, Op::Action, -amount, Reply::Done))
            .at(n, Obs::Committed { tx: T });
    }
    log
}

#[test]
fn a_clean_two_pc_commit_breaks_nothing() {
    let wf = Workflow::holiday();
    assert!(
        judge(
            Protocol::TwoPc,
            &wf,
            &two_pc_commit(),
            Outcome::Committed,
            true,
            0
        )
        .is_empty()
    );
}

#[test]
fn two_pc_checkers_trip() {
    let wf = Workflow::holiday();
    let j = |log: &Log| judge(Protocol::TwoPc, &wf, log, Outcome::Committed, true, 0);
    // One participant aborts a transaction the others committed.
    let log = two_pc_commit().at(
        2,
        Obs::Aborted {
            tx: T,
            why: AbortWhy::Decision,
        },
    );
    assert!(j(&log).contains(&"atomicity".to_string()));
    // Commit decided after only one vote, and without a logged decision.
    let log = Log::default().at(1, Obs::Voted { tx: T, yes: true }).at(
        0,
        Obs::Decided {
            tx: T,
            commit: true,
            logged: false,
        },
    );
    assert!(j(&log).contains(&"commit_validity".to_string()));
    // A decision that changes.
    let log = two_pc_commit().at(
        0,
        Obs::Decided {
            tx: T,
            commit: false,
            logged: true,
        },
    );
    assert!(j(&log).contains(&"decision_stability".to_string()));
    // A prepared participant that aborts alone.
    let log = Log::default().at(1, Obs::Prepared { tx: T }).at(
        1,
        Obs::Aborted {
            tx: T,
            why: AbortWhy::Unilateral,
        },
    );
    assert!(j(&log).contains(&"prepared_never_aborts_alone".to_string()));
    // Still blocked once every fault healed.
    let log = Log::default().at(1, Obs::Prepared { tx: T });
    assert!(
        judge(Protocol::TwoPc, &wf, &log, Outcome::Blocked, true, 0)
            .contains(&"termination".to_string())
    );
    assert!(
        judge(Protocol::TwoPc, &wf, &log, Outcome::Blocked, false, 0).is_empty(),
        "not while faults last"
    );
}

/// A 2PC commit the coordinator reported to the client.
fn told_commit() -> Log {
    two_pc_commit().at(
        0,
        Obs::TxFinished {
            tx: T,
            outcome: Outcome::Committed,
        },
    )
}

#[test]
fn agreement_trips() {
    let wf = Workflow::holiday();
    let j = |log: &Log, outcome| judge(Protocol::TwoPc, &wf, log, outcome, true, 0);
    let agreement = "agreement".to_string();
    assert!(j(&told_commit(), Outcome::Committed).is_empty());
    // An inquiry answered ABORT for a transaction decided commit (the
    // coordinator that answered from volatile state, crashed and presumed).
    let log = told_commit().at(
        0,
        Obs::Answered {
            tx: T,
            commit: false,
        },
    );
    assert!(j(&log, Outcome::Committed).contains(&agreement));
    // A peer that answered ABORT without a vote, then the coordinator
    // committed and told the client, while every participant aborted: no
    // participant disagrees with another, only with the client.
    let mut log = Log::default()
        .at(
            2,
            Obs::Answered {
                tx: T,
                commit: false,
            },
        )
        .at(
            0,
            Obs::Decided {
                tx: T,
                commit: true,
                logged: true,
            },
        )
        .at(
            0,
            Obs::TxFinished {
                tx: T,
                outcome: Outcome::Committed,
            },
        );
    for n in 1..=4 {
        let why = AbortWhy::Decision;
        log = log.at(n, Obs::Aborted { tx: T, why });
    }
    let got = j(&log, Outcome::Aborted);
    assert!(got.contains(&agreement), "{got:?}");
    assert!(!got.contains(&"atomicity".to_string()), "{got:?}");
    // The client's own report wins over the coordinator's stand-in.
    let log = told_commit().at(
        5,
        Obs::ClientTold {
            tx: T,
            outcome: Outcome::Aborted,
        },
    );
    assert!(j(&log, Outcome::Committed).contains(&agreement));
}

#[test]
fn applied_matches_outcome_trips() {
    let wf = Workflow::holiday();
    let j = |log: &Log, outcome| judge(Protocol::TwoPc, &wf, log, outcome, true, 0);
    let name = "applied_matches_outcome".to_string();
    // Committed everywhere, but the flight was sold out at commit time.
    let mut log = Log::default();
    for (n, step) in (1..=4).zip(0..4u16) {
        let amount = Workflow::holiday().steps[step as usize].amount;
        let applied = if step == 2 {
            local(
                step,
                Op::Action,
                0,
                Reply::Rejected("seats sold out".into()),
            )
        } else {
            local(step, Op::Action, -amount, Reply::Done)
        };
        log = log.at(n, applied).at(n, Obs::Committed { tx: T });
    }
    let got = j(&log, Outcome::Committed);
    assert!(got.contains(&name), "{got:?}");
    assert!(
        !got.contains(&"conservation".to_string()),
        "conservation alone cannot see it: {got:?}"
    );
    // Aborted, yet the charge went through.
    let log = Log::default().at(4, local(3, Op::Action, -100, Reply::Done));
    assert!(j(&log, Outcome::Aborted).contains(&name));
    assert!(j(&Log::default(), Outcome::Aborted).is_empty());
}

#[test]
fn an_inconsistent_outcome_is_always_a_violation() {
    let wf = Workflow::holiday();
    // Only one participant's word: nothing but the outcome says it broke.
    let log = Log::default().at(1, Obs::Committed { tx: T });
    let got = judge(Protocol::TwoPc, &wf, &log, Outcome::Inconsistent, true, 0);
    assert!(got.contains(&"consistent_outcome".to_string()), "{got:?}");
    let got = judge(Protocol::TwoPc, &wf, &log, Outcome::Blocked, false, 0);
    assert!(!got.contains(&"consistent_outcome".to_string()), "{got:?}");
}

#[test]
fn no_overdraw_trips_even_when_the_end_balances() {
    let wf = Workflow::holiday();
    // Sam's $1000 goes to -$100 for a moment and comes back: the final
    // state is fine and every step nets its amount or nothing, so only a
    // walk through time sees it.
    let log = Log::default()
        .at(4, local(3, Op::Action, -1_100, Reply::Done))
        .at(4, local(3, Op::Compensation, 1_100, Reply::Done))
        .at(4, local(3, Op::Action, -100, Reply::Done));
    let got = judge(
        Protocol::Orchestrated,
        &wf,
        &log,
        Outcome::Completed,
        true,
        0,
    );
    assert!(got.contains(&"no_overdraw".to_string()), "{got:?}");
    let fine = Log::default().at(4, local(3, Op::Action, -1_000, Reply::Done));
    let got = judge(
        Protocol::Orchestrated,
        &wf,
        &fine,
        Outcome::Completed,
        true,
        0,
    );
    assert!(!got.contains(&"no_overdraw".to_string()), "{got:?}");
}

#[test]
fn idempotency_and_conservation_trip() {
    let wf = Workflow::holiday();
    let log = two_pc_commit().at(4, local(3, Op::Action, -100, Reply::Done));
    let got = judge(Protocol::TwoPc, &wf, &log, Outcome::Committed, true, 0);
    assert!(got.contains(&"at_most_once".to_string()), "{got:?}");
    assert!(got.contains(&"conservation".to_string()), "{got:?}");
}

/// Car and hotel booked, the flight refused, then hotel and car undone.
fn compensated() -> Log {
    Log::default()
        .at(0, Obs::TxStarted { tx: T })
        .at(1, local(0, Op::Action, -1, Reply::Done))
        .at(2, local(1, Op::Action, -1, Reply::Done))
        .at(
            3,
            local(2, Op::Action, 0, Reply::Rejected("sold out".into())),
        )
        .at(2, local(1, Op::Compensation, 1, Reply::Done))
        .at(1, local(0, Op::Compensation, 1, Reply::Done))
}

#[test]
fn saga_checkers_trip() {
    let wf = Workflow::holiday();
    let j = |log: &Log, outcome| judge(Protocol::Orchestrated, &wf, log, outcome, true, 0);
    assert!(
        j(&compensated(), Outcome::Compensated).is_empty(),
        "{:?}",
        j(&compensated(), Outcome::Compensated)
    );
    // Compensations in forward order.
    let forward = Log::default()
        .at(1, local(0, Op::Action, -1, Reply::Done))
        .at(2, local(1, Op::Action, -1, Reply::Done))
        .at(1, local(0, Op::Compensation, 1, Reply::Done))
        .at(2, local(1, Op::Compensation, 1, Reply::Done));
    assert!(j(&forward, Outcome::Compensated).contains(&"saga_shape".to_string()));
    // A compensation that gives back what was never taken.
    let unpaired = Log::default().at(1, local(0, Op::Compensation, 1, Reply::Done));
    assert!(
        j(&unpaired, Outcome::Compensated).contains(&"compensation_without_action".to_string())
    );
    // The hanging action: applied after its (null) compensation.
    let hanging = Log::default()
        .at(1, local(0, Op::Compensation, 0, Reply::NullCompensation))
        .at(1, local(0, Op::Action, -1, Reply::Done));
    assert!(j(&hanging, Outcome::Compensated).contains(&"action_after_compensation".to_string()));
    // Compensating the pivot.
    let mut pivoted = Workflow::holiday();
    pivoted.steps[1].kind = StepKind::Pivot;
    let past = compensated();
    let got = judge(
        Protocol::Orchestrated,
        &pivoted,
        &past,
        Outcome::Compensated,
        true,
        0,
    );
    assert!(
        got.contains(&"compensation_after_pivot".to_string()),
        "{got:?}"
    );
}

#[test]
fn choreography_checkers_trip() {
    let wf = Workflow::holiday();
    let j = |log: &Log, undelivered| {
        judge(
            Protocol::Choreographed,
            &wf,
            log,
            Outcome::Compensated,
            true,
            undelivered,
        )
    };
    let published = |log: Log, kind| log.at(0, Obs::Published { tx: T, event: kind });
    // A clean trail: every commit has its event.
    let mut clean = Log::default().at(
        0,
        Obs::Published {
            tx: T,
            event: EventKind::Requested,
        },
    );
    clean = published(
        clean.at(1, local(0, Op::Action, -1, Reply::Done)),
        EventKind::StepDone(StepId(0)),
    );
    clean = published(
        clean.at(2, local(1, Op::Action, 0, Reply::Rejected("full".into()))),
        EventKind::StepFailed(StepId(1)),
    );
    clean = published(
        clean.at(1, local(0, Op::Compensation, 1, Reply::Done)),
        EventKind::Compensated(StepId(0)),
    );
    assert!(j(&clean, 0).is_empty(), "{:?}", j(&clean, 0));
    // A commit whose event never appeared.
    let lost = clean.at(3, local(2, Op::Action, -1, Reply::Done));
    assert!(j(&lost, 0).contains(&"event_iff_commit".to_string()));
    // An event without its commit.
    let phantom = Log::default().at(
        0,
        Obs::Published {
            tx: T,
            event: EventKind::StepDone(StepId(3)),
        },
    );
    assert!(j(&phantom, 0).contains(&"event_iff_commit".to_string()));
    // Unacknowledged deliveries once every fault healed.
    let clean = {
        let mut l = Log::default().at(
            0,
            Obs::Published {
                tx: T,
                event: EventKind::Requested,
            },
        );
        l = published(
            l.at(1, local(0, Op::Action, 0, Reply::Rejected("x".into()))),
            EventKind::StepFailed(StepId(0)),
        );
        l
    };
    assert!(j(&clean, 2).contains(&"no_event_discarded".to_string()));
    // A saga that never stops publishing.
    let mut cycle = Log::default();
    for _ in 0..20 {
        cycle = cycle.at(
            0,
            Obs::Published {
                tx: T,
                event: EventKind::Requested,
            },
        );
    }
    assert!(j(&cycle, 0).contains(&"events_bounded".to_string()));
}

#[test]
fn every_invariant_has_a_checker_and_a_trip_test_here() {
    // The tests above name every invariant; keep this list in step with
    // INVARIANTS so a new checker cannot arrive without one.
    let tested = [
        "atomicity",
        "commit_validity",
        "decision_stability",
        "prepared_never_aborts_alone",
        "termination",
        "at_most_once",
        "conservation",
        "agreement",
        "applied_matches_outcome",
        "consistent_outcome",
        "no_overdraw",
        // Tripped on hand-made histories in lab/anomaly/tests.rs.
        "risky_isolated",
        "saga_shape",
        "compensation_without_action",
        "action_after_compensation",
        "compensation_after_pivot",
        "event_iff_commit",
        "no_event_discarded",
        "events_bounded",
    ];
    let mut a: Vec<&str> = INVARIANTS.to_vec();
    let mut b: Vec<&str> = tested.to_vec();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

/// A sweep worker keeps one scratch for all its runs: what a broken run
/// left in the checkers' tables must not show in the next run's verdict,
/// and a used scratch must judge a run as a fresh one does. The broken
/// logs break table-keeping checkers of each protocol (atomicity and
/// agreement; saga shape and at-most-once; the outbox), and the clean log
/// after each must still break nothing.
#[test]
fn a_kept_scratch_carries_nothing_from_run_to_run() {
    let wf = Workflow::holiday();
    let aborted = two_pc_commit().at(
        2,
        Obs::Aborted {
            tx: T,
            why: AbortWhy::Decision,
        },
    );
    let forward = Log::default()
        .at(1, local(0, Op::Action, -1, Reply::Done))
        .at(1, local(0, Op::Action, -1, Reply::Done))
        .at(2, local(1, Op::Action, -1, Reply::Done))
        .at(1, local(0, Op::Compensation, 1, Reply::Done))
        .at(2, local(1, Op::Compensation, 1, Reply::Done));
    let unpublished = Log::default().at(
        0,
        Obs::Published {
            tx: T,
            event: EventKind::StepDone(StepId(0)),
        },
    );
    let cases = [
        (
            Protocol::TwoPc,
            aborted,
            two_pc_commit(),
            Outcome::Committed,
        ),
        (
            Protocol::Orchestrated,
            forward,
            compensated(),
            Outcome::Compensated,
        ),
        (
            Protocol::Choreographed,
            unpublished,
            Log::default(),
            Outcome::Unfinished,
        ),
    ];
    let mut scratch = Scratch::new(&wf);
    for (protocol, broken, clean, outcome) in &cases {
        let broken_view = view_of(*protocol, &wf, broken, *outcome, false, 0);
        let fresh = check_all(&broken_view);
        assert!(
            !fresh.is_empty(),
            "{}: the broken log breaks something",
            protocol.name()
        );
        let mut kept = Vec::new();
        check_all_with(&broken_view, &mut scratch, &mut kept);
        assert_eq!(kept, fresh, "{}", protocol.name());
        let clean_view = view_of(*protocol, &wf, clean, *outcome, false, 0);
        let mut after = Vec::new();
        check_all_with(&clean_view, &mut scratch, &mut after);
        assert_eq!(after, check_all(&clean_view), "{}", protocol.name());
        assert!(after.is_empty(), "{}: {after:?}", protocol.name());
    }
}
