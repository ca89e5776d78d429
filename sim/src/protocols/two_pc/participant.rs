//! The 2PC participant: a service that locks, votes, and applies or
//! discards on the coordinator's word.

use super::{Msg, Record};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::Config;
use crate::protocols::service::{LocalCommit, Service};
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::{Op, ServiceId, StepId, TxId};
use crate::protocols::{AbortWhy, LabNode, LockPolicy, Obs};
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

const IN_DOUBT: u8 = 1;
const LOCK_WAIT: u8 = 2;
const SLOW_VOTE: u8 = 7;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Deliberately broken behaviours, for the checkers' negative controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParticipantBug {
    /// On restart, a prepared transaction without an outcome is aborted
    /// locally, as if the prepared record had been forgotten.
    ForgetPreparedOnRecovery,
}

/// Where one transaction stands at this participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParticipantPhase {
    /// Waiting for a lock another transaction holds; has not voted.
    Waiting {
        /// The coordinator to answer.
        coordinator: NodeId,
        /// Every participant.
        peers: Vec<NodeId>,
    },
    /// Voted yes; holds its locks until the decision arrives.
    Prepared {
        /// Every participant.
        peers: Vec<NodeId>,
        /// Whether the inquiry timeout has passed without an answer.
        in_doubt: bool,
    },
    /// Applied and released.
    Committed,
    /// Discarded and released.
    Aborted,
}

/// A 2PC participant.
#[derive(Clone, Debug)]
pub struct Participant {
    cfg: Arc<Config>,
    /// The business state.
    pub service: Service,
    /// Per transaction.
    pub phases: BTreeMap<TxId, ParticipantPhase>,
    /// Resource → the transaction holding its lock.
    pub locks: BTreeMap<String, TxId>,
    /// Prepares queued behind a lock, oldest first.
    waiting: Vec<TxId>,
    /// Votes held back by a slow-service plan.
    slow_votes: BTreeMap<TxId, (NodeId, bool)>,
    bug: Option<ParticipantBug>,
}

impl Participant {
    /// The participant for `service`.
    pub fn new(cfg: Arc<Config>, service: ServiceId, bug: Option<ParticipantBug>) -> Self {
        let service = Service::for_run(&cfg, service);
        Participant {
            cfg,
            service,
            phases: BTreeMap::new(),
            locks: BTreeMap::new(),
            waiting: Vec::new(),
            slow_votes: BTreeMap::new(),
            bug,
        }
    }

    fn my_steps(&self) -> Vec<StepId> {
        self.cfg.workflow.steps_at(self.service.id)
    }

    fn resources(&self) -> Vec<String> {
        let mut r: Vec<String> = self
            .my_steps()
            .iter()
            .map(|s| self.cfg.workflow.step(*s).resource.clone())
            .collect();
        r.sort();
        r.dedup();
        r
    }

    /// Handle a 2PC message.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: C) {
        match msg {
            Msg::Prepare { tx, peers } => self.on_prepare(from, tx, peers, ctx),
            Msg::Commit { tx } => self.on_decision(from, tx, true, ctx),
            Msg::Abort { tx } => self.on_decision(from, tx, false, ctx),
            Msg::Inquire { tx } => self.on_inquire(from, tx, ctx),
            Msg::Vote { .. } | Msg::Ack { .. } => {}
        }
    }

    fn on_prepare(&mut self, from: NodeId, tx: TxId, peers: Vec<NodeId>, ctx: C) {
        match self.phases.get(&tx) {
            // A duplicate or retransmitted prepare gets the same vote again.
            Some(ParticipantPhase::Prepared { .. } | ParticipantPhase::Committed) => {
                send(ctx, from, Msg::Vote { tx, yes: true });
            }
            Some(ParticipantPhase::Aborted) => send(ctx, from, Msg::Vote { tx, yes: false }),
            Some(ParticipantPhase::Waiting { .. }) => {}
            None => self.try_prepare(tx, from, peers, ctx),
        }
    }

    fn try_prepare(&mut self, tx: TxId, coordinator: NodeId, peers: Vec<NodeId>, ctx: C) {
        let holders: Vec<TxId> = self
            .resources()
            .iter()
            .filter_map(|r| self.locks.get(r).copied())
            .filter(|holder| *holder != tx && !self.cfg.broken.ignore_locks)
            .collect();
        if !holders.is_empty() {
            // Under wait-die only a transaction older than every holder waits.
            let older = holders.iter().all(|h| tx < *h);
            match self.cfg.toggles.lock_policy {
                LockPolicy::FailFast => self.vote_no(tx, coordinator, AbortWhy::VotedNo, ctx),
                LockPolicy::WaitDie if !older => {
                    self.vote_no(tx, coordinator, AbortWhy::VotedNo, ctx)
                }
                LockPolicy::Wait | LockPolicy::WaitDie => {
                    self.phases
                        .insert(tx, ParticipantPhase::Waiting { coordinator, peers });
                    self.waiting.push(tx);
                    ctx.set_timer(timer(LOCK_WAIT, tx), self.cfg.timing.lock_wait);
                }
            }
            return;
        }
        if let Err(reason) = self.can_commit(tx, ctx) {
            self.vote_no(tx, coordinator, AbortWhy::VotedNo, ctx);
            ctx.record(Obs::Refused { tx, reason });
            return;
        }
        for r in self.resources() {
            self.locks.insert(r, tx);
        }
        ctx.record(Obs::LocksHeld { tx });
        ctx.persist(
            Record::Prepared {
                tx,
                peers: peers.clone(),
            }
            .into(),
        );
        ctx.record(Obs::Prepared { tx });
        ctx.record(Obs::Voted { tx, yes: true });
        self.vote(tx, coordinator, true, ctx);
        self.phases.insert(
            tx,
            ParticipantPhase::Prepared {
                peers,
                in_doubt: false,
            },
        );
        ctx.set_timer(timer(IN_DOUBT, tx), self.cfg.timing.inquiry);
    }

    /// Whether every local step of `tx` could commit: business rules, the
    /// planned rejections, and a transient fault drawn per attempt.
    fn can_commit(&self, tx: TxId, ctx: C) -> Result<(), String> {
        let wf = &self.cfg.workflow;
        let mut need: BTreeMap<&str, i64> = BTreeMap::new();
        for s in self.my_steps() {
            let step = wf.step(s);
            let reject = wf.failures_for(tx, s).any(|f| f.reject);
            self.service.check_action(step, reject)?;
            let transient = wf
                .failures_for(tx, s)
                .map(|f| f.transient_per_mille)
                .max()
                .unwrap_or(0);
            if transient > 0 && ctx.rng().random_range(0..1000) < transient {
                return Err(format!("{} transient error", step.name));
            }
            *need.entry(&step.resource).or_insert(0) += step.amount;
        }
        match need.iter().find(|(r, n)| self.service.value(r) < **n) {
            Some((r, _)) => Err(format!("{r} sold out")),
            None => Ok(()),
        }
    }

    fn vote_no(&mut self, tx: TxId, coordinator: NodeId, why: AbortWhy, ctx: C) {
        self.phases.insert(tx, ParticipantPhase::Aborted);
        // Under presumed abort a no-voter may forget; the record keeps a
        // restarted participant from voting yes on a retransmitted prepare.
        ctx.persist_lazy(Record::Outcome { tx, commit: false }.into());
        ctx.record(Obs::Voted { tx, yes: false });
        ctx.record(Obs::Aborted { tx, why });
        self.vote(tx, coordinator, false, ctx);
    }

    /// Send a vote, after the step's reply delay when the scenario makes
    /// this service slow.
    fn vote(&mut self, tx: TxId, coordinator: NodeId, yes: bool, ctx: C) {
        let wf = &self.cfg.workflow;
        let delay = self
            .my_steps()
            .iter()
            .flat_map(|s| wf.failures_for(tx, *s).map(|f| f.reply_delay))
            .max()
            .unwrap_or(SimTime::ZERO);
        if delay == SimTime::ZERO {
            send(ctx, coordinator, Msg::Vote { tx, yes });
        } else {
            self.slow_votes.insert(tx, (coordinator, yes));
            ctx.set_timer(timer(SLOW_VOTE, tx), delay);
        }
    }

    fn on_decision(&mut self, from: NodeId, tx: TxId, commit: bool, ctx: C) {
        let acks_abort = !self.cfg.toggles.presumed_abort;
        match (self.phases.get(&tx).cloned(), commit) {
            (Some(ParticipantPhase::Prepared { .. }), true) => {
                self.commit(tx, ctx);
                send(ctx, from, Msg::Ack { tx });
            }
            (Some(ParticipantPhase::Committed), true) => {
                // Idempotency off: the naive participant applies every
                // commit it receives, duplicates included.
                if !self.cfg.toggles.idempotency {
                    self.apply_effects(tx, ctx);
                }
                send(ctx, from, Msg::Ack { tx });
            }
            (Some(ParticipantPhase::Aborted), true) => {
                // Only a participant that broke its promise gets here.
                send(ctx, from, Msg::Ack { tx });
            }
            (Some(ParticipantPhase::Committed), false) => {}
            (Some(ParticipantPhase::Aborted), false) | (None, false) => {
                self.phases.insert(tx, ParticipantPhase::Aborted);
                if acks_abort {
                    send(ctx, from, Msg::Ack { tx });
                }
            }
            (Some(ParticipantPhase::Prepared { .. } | ParticipantPhase::Waiting { .. }), false) => {
                self.abort(tx, AbortWhy::Decision, ctx);
                if acks_abort {
                    send(ctx, from, Msg::Ack { tx });
                }
            }
            (Some(ParticipantPhase::Waiting { .. }) | None, true) => {
                // Commit without our yes vote cannot happen in a correct
                // run; the checkers flag it. Do not apply anything.
            }
        }
    }

    fn apply_effects(&mut self, tx: TxId, ctx: C) {
        let wf = Arc::clone(&self.cfg.workflow);
        for s in self.my_steps() {
            let commit = self.service.plan(tx, s, wf.step(s), Op::Action, false);
            record_local(&commit, ctx);
            self.service.apply(&commit);
        }
    }

    fn commit(&mut self, tx: TxId, ctx: C) {
        // One forced record; replaying it re-applies the effects.
        ctx.persist(Record::Outcome { tx, commit: true }.into());
        self.apply_effects(tx, ctx);
        self.phases.insert(tx, ParticipantPhase::Committed);
        ctx.record(Obs::Committed { tx });
        self.release(tx, ctx);
    }

    fn abort(&mut self, tx: TxId, why: AbortWhy, ctx: C) {
        let held = matches!(
            self.phases.get(&tx),
            Some(ParticipantPhase::Prepared { .. })
        );
        self.phases.insert(tx, ParticipantPhase::Aborted);
        self.waiting.retain(|t| *t != tx);
        ctx.persist_lazy(Record::Outcome { tx, commit: false }.into());
        ctx.record(Obs::Aborted { tx, why });
        if held {
            self.release(tx, ctx);
        }
    }

    fn release(&mut self, tx: TxId, ctx: C) {
        self.locks.retain(|_, holder| *holder != tx);
        ctx.cancel_timer(timer(IN_DOUBT, tx));
        ctx.record(Obs::LocksFreed { tx });
        self.wake_waiters(ctx);
    }

    /// Retry queued prepares in arrival order now that locks changed hands.
    fn wake_waiters(&mut self, ctx: C) {
        let queued = std::mem::take(&mut self.waiting);
        for tx in queued {
            let Some(ParticipantPhase::Waiting { coordinator, peers }) =
                self.phases.get(&tx).cloned()
            else {
                continue;
            };
            self.phases.remove(&tx);
            ctx.cancel_timer(timer(LOCK_WAIT, tx));
            self.try_prepare(tx, coordinator, peers, ctx);
        }
    }

    fn on_inquire(&mut self, from: NodeId, tx: TxId, ctx: C) {
        match self.phases.get(&tx).cloned() {
            Some(ParticipantPhase::Committed) => answer(ctx, from, tx, true),
            Some(ParticipantPhase::Aborted) => answer(ctx, from, tx, false),
            Some(ParticipantPhase::Prepared { .. }) => {}
            // Not voted yet: cooperative termination lets us abort now, so
            // the asking peer can stop waiting.
            Some(ParticipantPhase::Waiting { coordinator, .. }) => {
                self.abort(tx, AbortWhy::BeforeVote, ctx);
                send(ctx, coordinator, Msg::Vote { tx, yes: false });
                answer(ctx, from, tx, false);
            }
            None => {
                self.abort(tx, AbortWhy::BeforeVote, ctx);
                answer(ctx, from, tx, false);
            }
        }
    }

    /// Handle one of this role's timers.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        let (kind, tx) = untimer(id);
        if kind == SLOW_VOTE {
            if let Some((to, yes)) = self.slow_votes.remove(&tx) {
                send(ctx, to, Msg::Vote { tx, yes });
            }
            return;
        }
        match (kind, self.phases.get(&tx).cloned()) {
            (IN_DOUBT, Some(ParticipantPhase::Prepared { peers, in_doubt })) => {
                if !in_doubt {
                    ctx.record(Obs::InDoubt { tx });
                    self.phases.insert(
                        tx,
                        ParticipantPhase::Prepared {
                            peers: peers.clone(),
                            in_doubt: true,
                        },
                    );
                }
                send(ctx, self.cfg.central, Msg::Inquire { tx });
                if self.cfg.toggles.cooperative_termination {
                    let me = ctx.me();
                    for p in peers.into_iter().filter(|p| *p != me) {
                        send(ctx, p, Msg::Inquire { tx });
                    }
                }
                ctx.set_timer(timer(IN_DOUBT, tx), self.cfg.timing.inquiry);
            }
            (LOCK_WAIT, Some(ParticipantPhase::Waiting { coordinator, .. })) => {
                self.vote_no(tx, coordinator, AbortWhy::BeforeVote, ctx);
                self.waiting.retain(|t| *t != tx);
            }
            _ => {}
        }
    }

    /// Rebuild from the log after a crash: business state, outcomes, and
    /// prepared transactions with their locks.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        let wf = Arc::clone(&self.cfg.workflow);
        for rec in log {
            match rec {
                crate::protocols::Record::TwoPc(Record::Prepared { tx, peers }) => {
                    let peers = peers.clone();
                    self.phases.insert(
                        *tx,
                        ParticipantPhase::Prepared {
                            peers,
                            in_doubt: false,
                        },
                    );
                }
                crate::protocols::Record::TwoPc(Record::Outcome { tx, commit }) => {
                    if *commit {
                        for s in self.my_steps() {
                            let c = self.service.plan(*tx, s, wf.step(s), Op::Action, false);
                            self.service.apply(&c);
                        }
                    }
                    let phase = if *commit {
                        ParticipantPhase::Committed
                    } else {
                        ParticipantPhase::Aborted
                    };
                    self.phases.insert(*tx, phase);
                }
                _ => {}
            }
        }
        let prepared: Vec<TxId> = self
            .phases
            .iter()
            .filter(|(_, p)| matches!(p, ParticipantPhase::Prepared { .. }))
            .map(|(t, _)| *t)
            .collect();
        for tx in prepared {
            if self.bug == Some(ParticipantBug::ForgetPreparedOnRecovery) {
                self.phases.insert(tx, ParticipantPhase::Aborted);
                ctx.persist_lazy(Record::Outcome { tx, commit: false }.into());
                ctx.record(Obs::Aborted {
                    tx,
                    why: AbortWhy::Unilateral,
                });
                ctx.record(Obs::LocksFreed { tx });
                continue;
            }
            for r in self.resources() {
                self.locks.insert(r, tx);
            }
            // Ask at once: the decision may have been sent while we were down.
            ctx.set_timer(timer(IN_DOUBT, tx), SimTime::ZERO);
        }
    }
}

fn send(ctx: C, to: NodeId, msg: Msg) {
    ctx.send(to, crate::protocols::Msg::TwoPc(msg));
}

/// Answer a peer's inquiry with a decision; the answer is observed, since
/// the asker will act on it.
fn answer(ctx: C, to: NodeId, tx: TxId, commit: bool) {
    ctx.record(Obs::Answered { tx, commit });
    let msg = if commit {
        Msg::Commit { tx }
    } else {
        Msg::Abort { tx }
    };
    send(ctx, to, msg);
}

fn record_local(commit: &LocalCommit, ctx: C) {
    ctx.record(Obs::Local {
        tx: commit.key.tx,
        step: commit.key.step,
        op: commit.key.op,
        delta: commit.delta,
        reply: commit.reply.clone(),
    });
}
