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

#[test]
fn unknown_transaction_inquiry_is_answered_abort() {
    let mut c = Coordinator::new(cfg(true));
    let e = effects(|ctx| c.on_message(NodeId(1), Msg::Inquire { tx: TxId(9) }, ctx));
    assert_eq!(sent(&e), vec![Msg::Abort { tx: TxId(9) }]);
}
