//! Role-level tests with no world: feed inputs, read the effects.

use super::*;
use crate::engine::{Ctx, Effect, NodeId, SimTime, rng};
use crate::protocols::workload::{ServiceId, Workflow};
use crate::protocols::{Config, LabNode, Obs, Timing, Toggles};
use std::sync::Arc;

fn cfg(presumed_abort: bool) -> Arc<Config> {
    Arc::new(Config {
        workflow: Arc::new(Workflow::holiday()),
        central: NodeId(0),
        services: (1..=4).map(NodeId).collect(),
        toggles: Toggles {
            presumed_abort,
            ..Toggles::default()
        },
        timing: Timing::default(),
        broken: Default::default(),
    })
}

/// Run `f` against a fresh context and return what it pushed.
fn effects(f: impl FnOnce(&mut Ctx<'_, LabNode>)) -> Vec<Effect<LabNode>> {
    let mut out = Vec::new();
    let mut r = rng::stream(0, rng::Stream::Node(0));
    f(&mut Ctx::new(SimTime::ZERO, NodeId(1), &mut r, &mut out));
    out
}

fn sent(e: &[Effect<LabNode>]) -> Vec<Msg> {
    e.iter()
        .filter_map(|e| match e {
            Effect::Send {
                msg: crate::protocols::Msg::TwoPc(m),
                ..
            } => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn participant_forces_prepared_before_voting_yes() {
    let mut p = Participant::new(cfg(true), ServiceId(0), None);
    let tx = TxId(0);
    let e = effects(|ctx| p.on_message(NodeId(0), Msg::Prepare { tx, peers: vec![] }, ctx));
    let persist = e
        .iter()
        .position(|e| matches!(e, Effect::Persist { forced: true, .. }))
        .expect("forced prepared record");
    let vote = e
        .iter()
        .position(|e| matches!(e, Effect::Send { .. }))
        .expect("a vote");
    assert!(persist < vote, "log before vote");
    assert_eq!(sent(&e), vec![Msg::Vote { tx, yes: true }]);
    assert_eq!(p.locks.get("cars"), Some(&tx));
}

#[test]
fn participant_votes_no_when_sold_out_and_takes_no_lock() {
    let mut wf = Workflow::holiday();
    wf.services[0].resources.insert("cars".into(), 0);
    let c = Arc::new(Config {
        workflow: Arc::new(wf),
        ..(*cfg(true)).clone()
    });
    let mut p = Participant::new(c, ServiceId(0), None);
    let tx = TxId(0);
    let e = effects(|ctx| p.on_message(NodeId(0), Msg::Prepare { tx, peers: vec![] }, ctx));
    assert_eq!(sent(&e), vec![Msg::Vote { tx, yes: false }]);
    assert!(p.locks.is_empty());
    assert!(
        !e.iter()
            .any(|e| matches!(e, Effect::Persist { forced: true, .. }))
    );
}

#[test]
fn coordinator_commits_only_after_every_yes_and_logs_first() {
    let mut c = Coordinator::new(cfg(true));
    let tx = TxId(0);
    let arrival = crate::protocols::timer::timer(3, tx);
    let e = effects(|ctx| c.on_timer(arrival, ctx));
    assert_eq!(sent(&e).len(), 4, "prepare to four participants");
    for n in 1..=3 {
        let e = effects(|ctx| c.on_message(NodeId(n), Msg::Vote { tx, yes: true }, ctx));
        assert!(sent(&e).is_empty(), "no decision before all votes");
    }
    let e = effects(|ctx| c.on_message(NodeId(4), Msg::Vote { tx, yes: true }, ctx));
    let persist = e
        .iter()
        .position(|e| matches!(e, Effect::Persist { forced: true, .. }))
        .expect("decision logged");
    let first_send = e
        .iter()
        .position(|e| matches!(e, Effect::Send { .. }))
        .unwrap();
    assert!(persist < first_send);
    assert_eq!(sent(&e), vec![Msg::Commit { tx }; 4]);
}

#[test]
fn presumed_abort_logs_nothing_for_an_abort_and_presumed_nothing_does() {
    for (pa, forced) in [(true, 0), (false, 1)] {
        let mut c = Coordinator::new(cfg(pa));
        let tx = TxId(0);
        effects(|ctx| c.on_timer(crate::protocols::timer::timer(3, tx), ctx));
        let e = effects(|ctx| c.on_message(NodeId(2), Msg::Vote { tx, yes: false }, ctx));
        let n = e
            .iter()
            .filter(|e| matches!(e, Effect::Persist { forced: true, .. }))
            .count();
        assert_eq!(n, forced, "presumed_abort={pa}");
        assert!(
            e.iter()
                .any(|e| matches!(e, Effect::Record(Obs::Decided { commit: false, .. })))
        );
    }
}

/// No record means COMMIT was never forced, so never sent: under either
/// variant the only safe answer is ABORT.
#[test]
fn unknown_transaction_inquiry_is_answered_abort() {
    for pa in [true, false] {
        let mut c = Coordinator::new(cfg(pa));
        let e = effects(|ctx| c.on_message(NodeId(1), Msg::Inquire { tx: TxId(9) }, ctx));
        assert_eq!(sent(&e), vec![Msg::Abort { tx: TxId(9) }]);
    }
}

/// The position of the first forced write and of the first send of `msg`.
fn forced_then_sent(e: &[Effect<LabNode>], msg: &Msg) -> (Option<usize>, Option<usize>) {
    let forced = e
        .iter()
        .position(|e| matches!(e, Effect::Persist { forced: true, .. }));
    let sent = e.iter().position(
        |e| matches!(e, Effect::Send { msg: crate::protocols::Msg::TwoPc(m), .. } if m == msg),
    );
    (forced, sent)
}

fn prepared(cfg: Arc<Config>) -> Participant {
    let mut p = Participant::new(cfg, ServiceId(0), None);
    let peers = vec![NodeId(1), NodeId(2)];
    effects(|ctx| p.on_message(NodeId(0), Msg::Prepare { tx: TxId(0), peers }, ctx));
    p
}

#[test]
fn basic_2p_forces_the_abort_before_voting_no_and_presumed_abort_does_not() {
    let mut wf = Workflow::holiday();
    wf.services[0].resources.insert("cars".into(), 0);
    for pa in [false, true] {
        let c = Arc::new(Config {
            workflow: Arc::new(wf.clone()),
            ..(*cfg(pa)).clone()
        });
        let mut p = Participant::new(c, ServiceId(0), None);
        let tx = TxId(0);
        let e = effects(|ctx| p.on_message(NodeId(0), Msg::Prepare { tx, peers: vec![] }, ctx));
        let (forced, vote) = forced_then_sent(&e, &Msg::Vote { tx, yes: false });
        let vote = vote.expect("a NO vote");
        match pa {
            false => assert!(forced.expect("ABORTED forced") < vote),
            true => assert_eq!(forced, None, "presumed abort writes it lazily"),
        }
    }
}

#[test]
fn basic_2p_forces_aborted_before_the_ack_and_presumed_abort_never_acks() {
    for pa in [false, true] {
        let mut p = prepared(cfg(pa));
        let tx = TxId(0);
        let e = effects(|ctx| p.on_message(NodeId(0), Msg::Abort { tx }, ctx));
        let (forced, ack) = forced_then_sent(&e, &Msg::Ack { tx });
        if pa {
            assert_eq!((forced, ack), (None, None), "nothing forced, no ACK");
        } else {
            assert!(forced.expect("ABORTED forced") < ack.expect("an ACK"));
        }
        assert_eq!(p.phases[&tx], ParticipantPhase::Aborted);
    }
}

#[test]
fn committed_is_forced_before_the_ack_and_a_duplicate_commit_is_only_acked() {
    // Idempotency off changes nothing: the toggle is about saga consumers.
    let c = Arc::new(Config {
        toggles: Toggles {
            idempotency: false,
            ..Toggles::default()
        },
        ..(*cfg(true)).clone()
    });
    let mut p = prepared(c);
    let tx = TxId(0);
    let e = effects(|ctx| p.on_message(NodeId(0), Msg::Commit { tx }, ctx));
    let (forced, ack) = forced_then_sent(&e, &Msg::Ack { tx });
    assert!(forced.expect("COMMITTED forced") < ack.expect("an ACK"));
    let cars = p.service.value("cars");
    let e = effects(|ctx| p.on_message(NodeId(0), Msg::Commit { tx }, ctx));
    assert_eq!(sent(&e), vec![Msg::Ack { tx }]);
    assert!(!e.iter().any(|e| matches!(e, Effect::Persist { .. })));
    assert_eq!(p.service.value("cars"), cars, "applied once");
}

#[test]
fn an_abort_answer_to_a_peer_follows_a_forced_record() {
    let tx = TxId(0);
    // Never prepared: aborts on the spot, forced, then answers.
    let mut p = Participant::new(cfg(true), ServiceId(0), None);
    let e = effects(|ctx| p.on_message(NodeId(2), Msg::Inquire { tx }, ctx));
    let (forced, answer) = forced_then_sent(&e, &Msg::Abort { tx });
    assert!(forced.expect("forced abort") < answer.expect("an answer"));
    // Aborted by a presumed-abort decision (lazy): forced before answering,
    // once.
    let mut p = prepared(cfg(true));
    effects(|ctx| p.on_message(NodeId(0), Msg::Abort { tx }, ctx));
    let e = effects(|ctx| p.on_message(NodeId(2), Msg::Inquire { tx }, ctx));
    let (forced, answer) = forced_then_sent(&e, &Msg::Abort { tx });
    assert!(forced.expect("forced abort") < answer.expect("an answer"));
    let e = effects(|ctx| p.on_message(NodeId(3), Msg::Inquire { tx }, ctx));
    assert!(!e.iter().any(|e| matches!(e, Effect::Persist { .. })));
    assert_eq!(sent(&e), vec![Msg::Abort { tx }]);
}

#[test]
fn no_abort_goes_to_the_no_voter() {
    for pa in [false, true] {
        let mut c = Coordinator::new(cfg(pa));
        let tx = TxId(0);
        effects(|ctx| c.on_timer(crate::protocols::timer::timer(3, tx), ctx));
        let e = effects(|ctx| c.on_message(NodeId(2), Msg::Vote { tx, yes: false }, ctx));
        let to: Vec<NodeId> = e
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, .. } => Some(*to),
                _ => None,
            })
            .collect();
        assert_eq!(to, vec![NodeId(1), NodeId(3), NodeId(4)], "pa={pa}");
        assert!(sent(&e).iter().all(|m| *m == Msg::Abort { tx }));
    }
}

#[test]
fn basic_2p_keeps_a_decided_abort_until_acked_even_across_a_crash() {
    let mut c = Coordinator::new(cfg(false));
    let tx = TxId(0);
    effects(|ctx| c.on_timer(crate::protocols::timer::timer(3, tx), ctx));
    let e = effects(|ctx| c.on_message(NodeId(2), Msg::Vote { tx, yes: false }, ctx));
    let log: Vec<crate::protocols::Record> = e
        .into_iter()
        .filter_map(|e| match e {
            Effect::Persist { record, .. } => Some(record),
            _ => None,
        })
        .collect();
    assert_eq!(log, vec![Record::Decision { tx, commit: false }.into()]);
    // Crash: a fresh coordinator recovers from the log alone.
    let mut c = Coordinator::new(cfg(false));
    let e = effects(|ctx| c.on_recover(&log, ctx));
    assert_eq!(sent(&e), vec![Msg::Abort { tx }; 4], "resent to all");
    let e = effects(|ctx| c.on_message(NodeId(1), Msg::Inquire { tx }, ctx));
    assert_eq!(sent(&e), vec![Msg::Abort { tx }]);
    for n in 1..=4 {
        let e = effects(|ctx| c.on_message(NodeId(n), Msg::Ack { tx }, ctx));
        let end = e
            .iter()
            .any(|e| matches!(e, Effect::Persist { forced: false, .. }));
        assert_eq!(end, n == 4, "END, lazily, after the last ACK");
    }
    assert_eq!(c.txs[&tx], CoordPhase::Done);
}
