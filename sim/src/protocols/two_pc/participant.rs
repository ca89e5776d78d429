//! The 2PC participant: a service that locks, votes, and applies or
//! discards on the coordinator's word.
//!
//! It keeps each transaction's phase by id, so duplicates are harmless
//! whatever the `idempotency` toggle says: a duplicated PREPARE gets the
//! same vote, a duplicated COMMIT only an ACK. Every abort it reveals to
//! someone who acts on it (an ACK under basic 2P, a NO vote under basic 2P,
//! an answer to a peer's inquiry) follows a forced abort record.

use super::{Msg, Record, answer, send};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::Config;
use crate::protocols::service::{LocalCommit, Service};
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::{Op, ServiceId, StepId, TxId};
use crate::protocols::{AbortWhy, LabNode, LockPolicy, Obs};
use rand::RngExt;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const IN_DOUBT: u8 = 1;
const LOCK_WAIT: u8 = 2;
const SLOW_VOTE: u8 = 7;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Deliberately broken behaviours, for the checkers' negative controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParticipantBug {
    /// On restart, a prepared transaction without an outcome is aborted
    /// locally, as if the prepared record had been forgotten.
    ForgetPreparedOnRecovery,
}

/// Where one transaction stands at this participant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
#[derive(Debug)]
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
    /// Aborts of this incarnation not known to be durable (written lazily,
    /// or not written at all): forced before they are revealed to a peer.
    unforced_aborts: BTreeSet<TxId>,
    bug: Option<ParticipantBug>,
}

impl Clone for Participant {
    fn clone(&self) -> Self {
        Participant {
            cfg: self.cfg.clone(),
            service: self.service.clone(),
            phases: self.phases.clone(),
            locks: self.locks.clone(),
            waiting: self.waiting.clone(),
            slow_votes: self.slow_votes.clone(),
            unforced_aborts: self.unforced_aborts.clone(),
            bug: self.bug,
        }
    }

    /// Field by field, so the service is reset in place (see
    /// [`Service::clone_from`]).
    fn clone_from(&mut self, src: &Self) {
        let Participant {
            cfg,
            service,
            phases,
            locks,
            waiting,
            slow_votes,
            unforced_aborts,
            bug,
        } = src;
        crate::protocols::service::share(&mut self.cfg, cfg);
        self.service.clone_from(service);
        self.phases.clone_from(phases);
        self.locks.clone_from(locks);
        self.waiting.clone_from(waiting);
        self.slow_votes.clone_from(slow_votes);
        self.unforced_aborts.clone_from(unforced_aborts);
        self.bug = *bug;
    }
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
            unforced_aborts: BTreeSet::new(),
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
        // Looked up by borrowed name: a prepare copies no string.
        let wf = &self.cfg.workflow;
        let mut holders: Vec<TxId> = Vec::new();
        for s in wf
            .step_ids()
            .filter(|s| wf.step(*s).service == self.service.id)
        {
            let holder = self.locks.get(&wf.step(s).resource).copied();
            match holder {
                Some(h) if h != tx && !self.cfg.broken.ignore_locks && !holders.contains(&h) => {
                    holders.push(h)
                }
                _ => {}
            }
        }
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
        self.note_reads(tx);
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

    /// Note the values this vote was decided on: the commit writes
    /// registers from them (under the locks, they are still current then).
    /// Steps of `tx` on one resource compose, as under strict 2PL: a later
    /// step reads what the earlier ones will have left, not the value
    /// before the transaction, or its write would overwrite theirs.
    fn note_reads(&mut self, tx: TxId) {
        let wf = Arc::clone(&self.cfg.workflow);
        // What `tx`'s steps so far will have taken from each resource.
        let mut taken: BTreeMap<&str, i64> = BTreeMap::new();
        for s in self.my_steps() {
            let resource = wf.step(s).resource.as_str();
            let so_far = taken.entry(resource).or_insert(0);
            let v = self.service.value(resource) - *so_far;
            self.service.regs.memory.note_read(tx, s, v);
            // Every kind of write takes the step's amount: a delta, or a
            // register set to its read minus the amount.
            *so_far += wf.step_for(tx, s).amount;
        }
    }

    /// Whether every local step of `tx` could commit: business rules, the
    /// planned rejections, and a transient fault drawn per attempt.
    fn can_commit(&self, tx: TxId, ctx: C) -> Result<(), String> {
        let wf = &self.cfg.workflow;
        let mut need: BTreeMap<&str, i64> = BTreeMap::new();
        for s in self.my_steps() {
            let step = wf.step_for(tx, s);
            let reject = wf.failures_for(tx, s).any(|f| f.reject);
            self.service.check_action(&step, reject)?;
            let transient = wf
                .failures_for(tx, s)
                .map(|f| f.transient_per_mille)
                .max()
                .unwrap_or(0);
            if transient > 0 && ctx.rng().random_range(0..1000) < transient {
                return Err(format!("{} transient error", step.name));
            }
            *need.entry(&wf.step(s).resource).or_insert(0) += step.amount;
        }
        match need.iter().find(|(r, n)| self.service.value(r) < **n) {
            Some((r, _)) => Err(format!("{r} sold out")),
            None => Ok(()),
        }
    }

    fn vote_no(&mut self, tx: TxId, coordinator: NodeId, why: AbortWhy, ctx: C) {
        self.phases.insert(tx, ParticipantPhase::Aborted);
        // Basic 2P forces ABORTED before the NO vote (R*). Presumed abort
        // writes it lazily, and that is safe: the coordinator decides abort
        // on the NO and logs nothing, so if a crash loses the record and a
        // retransmitted PREPARE then gets YES, that YES reaches a coordinator
        // that has decided (or forgotten, which means abort): it is ignored,
        // and the participant sits prepared, holding its locks, until its
        // inquiry is answered ABORT. Wasteful, never wrong. If the NO was
        // lost instead, nobody acted on it. A peer that asks is different:
        // it acts on the answer, so `on_inquire` forces the record first.
        self.write_abort(tx, !self.cfg.toggles.presumed_abort, ctx);
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
        // Basic 2P acknowledges aborts, after forcing the abort record;
        // under presumed abort nobody forces or acknowledges one.
        let acks_abort = !self.cfg.toggles.presumed_abort;
        match (self.phases.get(&tx).cloned(), commit) {
            (Some(ParticipantPhase::Prepared { .. }), true) => {
                // `commit` forces COMMITTED first: the ACK lets the
                // coordinator forget.
                self.commit(tx, ctx);
                self.ack(from, tx, ctx);
            }
            // A duplicate (or retransmitted) COMMIT: the phase says it is
            // applied already, so it is only acknowledged.
            (Some(ParticipantPhase::Committed), true) => self.ack(from, tx, ctx),
            (Some(ParticipantPhase::Aborted), true) => {
                // Only a participant that broke its promise gets here.
                self.ack(from, tx, ctx);
            }
            (Some(ParticipantPhase::Committed), false) => {}
            // Under basic 2P every abort record is forced when written.
            (Some(ParticipantPhase::Aborted), false) => {
                if acks_abort {
                    self.ack(from, tx, ctx);
                }
            }
            // Silent: the PREPARE never came (or was lost with a crash).
            (None, false) => {
                self.phases.insert(tx, ParticipantPhase::Aborted);
                if acks_abort {
                    self.write_abort(tx, true, ctx);
                    self.ack(from, tx, ctx);
                } else {
                    // Nothing to write: a later PREPARE may get YES, then
                    // hears ABORT when it asks.
                    self.unforced_aborts.insert(tx);
                }
            }
            (Some(ParticipantPhase::Prepared { .. } | ParticipantPhase::Waiting { .. }), false) => {
                self.abort(tx, AbortWhy::Decision, acks_abort, ctx);
                if acks_abort {
                    self.ack(from, tx, ctx);
                }
            }
            (Some(ParticipantPhase::Waiting { .. }) | None, true) => {
                // Commit without our yes vote cannot happen in a correct
                // run; the checkers flag it. Do not apply anything.
            }
        }
    }

    /// Acknowledge a decision to the coordinator; a peer that answered an
    /// inquiry forgets nothing, so it gets no ACK.
    fn ack(&self, from: NodeId, tx: TxId, ctx: C) {
        if from == self.cfg.central {
            send(ctx, from, Msg::Ack { tx });
        }
    }

    fn apply_effects(&mut self, tx: TxId, ctx: C) {
        let wf = Arc::clone(&self.cfg.workflow);
        for s in self.my_steps() {
            let commit = self
                .service
                .plan(tx, s, &wf.step_for(tx, s), Op::Action, false);
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

    /// Abort `tx` here; `forced` when the abort is about to be revealed to
    /// someone who acts on it.
    fn abort(&mut self, tx: TxId, why: AbortWhy, forced: bool, ctx: C) {
        let held = matches!(
            self.phases.get(&tx),
            Some(ParticipantPhase::Prepared { .. })
        );
        self.phases.insert(tx, ParticipantPhase::Aborted);
        self.waiting.retain(|t| *t != tx);
        self.write_abort(tx, forced, ctx);
        ctx.record(Obs::Aborted { tx, why });
        if held {
            self.release(tx, ctx);
        }
    }

    /// Write the abort record, forced or lazily, remembering which aborts
    /// may still be lost by a crash.
    fn write_abort(&mut self, tx: TxId, forced: bool, ctx: C) {
        let record = Record::Outcome { tx, commit: false }.into();
        if forced {
            self.unforced_aborts.remove(&tx);
            ctx.persist(record);
        } else {
            self.unforced_aborts.insert(tx);
            ctx.persist_lazy(record);
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

    /// A peer's cooperative-termination inquiry. The peer aborts on an
    /// ABORT answer, so the answer must survive a crash: were the abort
    /// record lost, a late PREPARE could get YES and the coordinator commit
    /// what the peer aborted. Every ABORT answer follows a forced record.
    fn on_inquire(&mut self, from: NodeId, tx: TxId, ctx: C) {
        match self.phases.get(&tx).cloned() {
            Some(ParticipantPhase::Committed) => answer(ctx, from, tx, true),
            Some(ParticipantPhase::Aborted) => {
                if self.unforced_aborts.contains(&tx) {
                    self.write_abort(tx, true, ctx);
                }
                answer(ctx, from, tx, false);
            }
            Some(ParticipantPhase::Prepared { .. }) => {}
            // Not voted yet: cooperative termination lets us abort now, so
            // the asking peer can stop waiting.
            Some(ParticipantPhase::Waiting { coordinator, .. }) => {
                self.abort(tx, AbortWhy::BeforeVote, true, ctx);
                send(ctx, coordinator, Msg::Vote { tx, yes: false });
                answer(ctx, from, tx, false);
            }
            None => {
                self.abort(tx, AbortWhy::BeforeVote, true, ctx);
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
                            let c =
                                self.service
                                    .plan(*tx, s, &wf.step_for(*tx, s), Op::Action, false);
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

fn record_local(commit: &LocalCommit, ctx: C) {
    ctx.record(Obs::Local {
        tx: commit.key.tx,
        step: commit.key.step,
        op: commit.key.op,
        delta: commit.delta,
        reply: commit.reply.clone(),
    });
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for Participant {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.service.hash(state);
        self.phases.hash(state);
        self.locks.hash(state);
        self.waiting.hash(state);
        self.slow_votes.hash(state);
        self.unforced_aborts.hash(state);
        self.bug.hash(state);
    }
}
