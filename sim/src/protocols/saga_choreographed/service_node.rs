//! A service in the choreography: consumes events, runs its local
//! transaction, and publishes the next event (through the outbox, or by a
//! separate dual write when the outbox is off).

use super::{Event, EventKind, Msg, Record, reactions, ready};
use crate::custom::{Call, MessageId, Plugged};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::saga_step::{StepReply, execute};
use crate::protocols::service::{OpKey, Reply, Service};
use crate::protocols::workload::{Op, ServiceId, StepId, StepKind, TxId};
use crate::protocols::{Config, LabNode, Obs};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const RELAY: TimerId = TimerId(1 << 57);
const DUAL_WRITE: u64 = 1 << 58;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// A choreographed service.
#[derive(Debug)]
pub struct ChoreoService {
    cfg: Arc<Config>,
    /// The business state.
    pub service: Service,
    /// Deliveries already processed (the inbox).
    pub inbox: BTreeSet<u64>,
    /// Outbox entries not yet confirmed by the broker.
    pub outbox: BTreeSet<Event>,
    /// Failed attempts per delivery (volatile: a restart starts over).
    attempts: BTreeMap<u64, u32>,
    /// Outbox entries of a slow service, not to be relayed before the
    /// given time (volatile). The relay timer is shared, so without this a
    /// later, fast commit would flush the slow one's entry early.
    held: BTreeMap<Event, SimTime>,
    /// Per saga, the events of a parallel group's join seen so far.
    joins: BTreeMap<TxId, BTreeSet<EventKind>>,
    /// Publishes waiting for their separate write (outbox off).
    dual_writes: BTreeMap<TimerId, Event>,
    next_dual: u64,
    /// A user's logic in place of the built-in one.
    custom: Option<Plugged>,
}

impl Clone for ChoreoService {
    fn clone(&self) -> Self {
        ChoreoService {
            cfg: self.cfg.clone(),
            service: self.service.clone(),
            inbox: self.inbox.clone(),
            outbox: self.outbox.clone(),
            attempts: self.attempts.clone(),
            held: self.held.clone(),
            joins: self.joins.clone(),
            dual_writes: self.dual_writes.clone(),
            next_dual: self.next_dual,
            custom: self.custom.clone(),
        }
    }

    /// Field by field, so the service is reset in place (see
    /// [`Service::clone_from`]).
    fn clone_from(&mut self, src: &Self) {
        let ChoreoService {
            cfg,
            service,
            inbox,
            outbox,
            attempts,
            held,
            joins,
            dual_writes,
            next_dual,
            custom,
        } = src;
        crate::protocols::service::share(&mut self.cfg, cfg);
        self.service.clone_from(service);
        self.inbox.clone_from(inbox);
        self.outbox.clone_from(outbox);
        self.attempts.clone_from(attempts);
        self.held.clone_from(held);
        self.joins.clone_from(joins);
        self.dual_writes.clone_from(dual_writes);
        self.next_dual = *next_dual;
        self.custom.clone_from(custom);
    }
}

impl ChoreoService {
    /// The service `id`.
    pub fn new(cfg: Arc<Config>, id: ServiceId) -> Self {
        let service = Service::for_run(&cfg, id);
        ChoreoService {
            cfg,
            service,
            inbox: BTreeSet::new(),
            outbox: BTreeSet::new(),
            attempts: BTreeMap::new(),
            held: BTreeMap::new(),
            joins: BTreeMap::new(),
            dual_writes: BTreeMap::new(),
            next_dual: 0,
            custom: None,
        }
    }

    /// Run a user's logic (if any) in place of the built-in one. The
    /// node's inbox stays: it is the consumer's record of deliveries it
    /// settled (a step it gave up on included), messaging, not business.
    pub fn plugged(mut self, logic: Option<Plugged>) -> Self {
        self.custom = logic;
        self
    }

    /// Handle a bus message.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: C) {
        match msg {
            Msg::Deliver { seq, event } => self.on_deliver(from, seq, event, ctx),
            Msg::PublishAck { event } => {
                if self.outbox.remove(&event) {
                    ctx.persist_lazy(Record::Relayed { event }.into());
                }
            }
            Msg::Ack { .. } | Msg::Publish { .. } => {}
        }
    }

    fn on_deliver(&mut self, broker: NodeId, seq: u64, event: Event, ctx: C) {
        // The inbox makes redelivery harmless; without idempotency a
        // redelivered event is processed again. The inbox holds only
        // durable commits (the node blocks while one is being forced), so
        // this ack never runs ahead of the commit it stands for.
        if self.cfg.toggles.idempotency && self.inbox.contains(&seq) {
            send(ctx, broker, Msg::Ack { seq });
            return;
        }
        if let EventKind::Ended(_) = event.kind {
            // The ack stops redelivery, so the release must be durable
            // before it: the forced commit below also flushes this record,
            // written before it in the same log.
            self.service.release(event.tx);
            ctx.persist_lazy(crate::protocols::Record::Release { tx: event.tx });
            self.commit(seq, None, None, SimTime::ZERO, ctx);
            send(ctx, broker, Msg::Ack { seq });
            return;
        }
        let Some((step, op)) = self.my_reaction(&event) else {
            send(ctx, broker, Msg::Ack { seq });
            return;
        };
        if !self.join(seq, event, step, ctx) {
            send(ctx, broker, Msg::Ack { seq });
            return;
        }
        let (exec, snapshot) = match &self.custom {
            // The delivery number is the message id: a redelivery keeps it.
            Some(c) => {
                let call = Call {
                    tx: event.tx,
                    step,
                    op,
                    message_id: MessageId(seq),
                };
                c.execute(&self.cfg, &self.service, call, ctx.rng())
            }
            None => (
                execute(&self.cfg, &self.service, event.tx, step, op, ctx.rng()),
                None,
            ),
        };
        let next = match self.next_event(event.tx, step, op, seq, &exec.reply, ctx) {
            Some(next) => next,
            // Retry: leave it unacknowledged and the broker redelivers.
            None => return,
        };
        // A slow service publishes its result late.
        let delay = self
            .cfg
            .workflow
            .failures_for(event.tx, step)
            .map(|f| f.reply_delay)
            .max()
            .unwrap_or(SimTime::ZERO);
        // Write-ahead: the commit is forced first; the observation, the
        // publish and the ack follow it. A user service's state goes with
        // it (flushed by the forced commit: the two are atomic).
        if let Some(s) = &snapshot {
            ctx.persist_lazy(crate::protocols::Record::Custom(s.clone()));
        }
        self.commit(seq, exec.commit, Some(next), delay, ctx);
        if let (Some(c), Some(s)) = (&mut self.custom, &snapshot) {
            c.install(s, &mut self.service);
        }
        send(ctx, broker, Msg::Ack { seq });
        if !self.cfg.toggles.outbox {
            // The dual write: publish in a separate step after the commit.
            let id = TimerId(DUAL_WRITE | self.next_dual);
            self.next_dual += 1;
            self.dual_writes.insert(id, next);
            let gap = self
                .cfg
                .timing
                .decision_send_delay
                .max(delay)
                .max(SimTime(1));
            ctx.set_timer(id, gap);
        }
    }

    /// What this service does on `event` (validation allows at most one
    /// reaction per service per event).
    fn my_reaction(&self, event: &Event) -> Option<(StepId, Op)> {
        let me = self.service.id;
        reactions(&event.kind, &self.cfg.workflow)
            .into_iter()
            .find(|(s, _)| self.cfg.workflow.step(*s).service == me)
    }

    /// A parallel group's join: whether `step`'s reaction to `event` runs
    /// now. If not, the event is kept durably (with its inbox entry) until
    /// the join is complete.
    fn join(&mut self, seq: u64, event: Event, step: StepId, ctx: C) -> bool {
        let seen = self.joins.entry(event.tx).or_default();
        let key = OpKey {
            tx: event.tx,
            step,
            op: Op::Action,
        };
        let done = self.service.answered(&key) == Some(&Reply::Done);
        if ready(&event.kind, step, &self.cfg.workflow, seen, done) {
            return true;
        }
        if seen.insert(event.kind) {
            ctx.persist(Record::Joined { seq, event }.into());
        }
        self.inbox.insert(seq);
        false
    }

    /// The event a reply leads to, or `None` to retry the delivery later.
    fn next_event(
        &mut self,
        tx: TxId,
        step: StepId,
        op: Op,
        seq: u64,
        reply: &StepReply,
        ctx: C,
    ) -> Option<Event> {
        let wf = &self.cfg.workflow;
        let forward =
            wf.pivot().is_some_and(|p| step > p) || wf.step(step).kind == StepKind::Retriable;
        let pivot_or_later = wf.pivot().is_some_and(|p| step >= p) || forward;
        let kind = match (op, reply) {
            (Op::Action, StepReply::Done) => EventKind::StepDone(step),
            (Op::Compensation, StepReply::Done | StepReply::NullCompensation) => {
                EventKind::Compensated(step)
            }
            (Op::Action, StepReply::Rejected(_) | StepReply::RefusedLate) if !forward => {
                EventKind::StepFailed(step)
            }
            _ => {
                let n = self.attempts.entry(seq).or_insert(0);
                *n += 1;
                let limit = match op {
                    Op::Action if pivot_or_later => u32::MAX,
                    Op::Action => self.cfg.timing.max_attempts,
                    Op::Compensation => self.cfg.timing.compensation_attempts,
                };
                if *n < limit {
                    ctx.record(Obs::Retry { tx });
                    return None;
                }
                match op {
                    Op::Action => EventKind::StepFailed(step),
                    Op::Compensation => EventKind::CompensationFailed(step),
                }
            }
        };
        Some(Event { tx, kind })
    }

    /// Persist the local transaction, the inbox entry and (with the outbox
    /// on) the event, in one forced record; then apply and observe the
    /// local transaction and relay the event (after `delay` for a slow
    /// service).
    fn commit(
        &mut self,
        seq: u64,
        local: Option<crate::protocols::service::LocalCommit>,
        event: Option<Event>,
        delay: SimTime,
        ctx: C,
    ) {
        let outbox = event.filter(|_| self.cfg.toggles.outbox);
        ctx.persist(
            Record::Commit {
                seq,
                local: local.clone(),
                outbox,
            }
            .into(),
        );
        if let Some(l) = local {
            self.service.apply(&l);
            ctx.record(Obs::Local {
                tx: l.key.tx,
                step: l.key.step,
                op: l.key.op,
                delta: l.delta,
                reply: l.reply,
            });
        }
        self.inbox.insert(seq);
        if let Some(e) = outbox {
            self.outbox.insert(e);
            if delay == SimTime::ZERO {
                send(ctx, self.cfg.central, Msg::Publish { event: e });
                ctx.set_timer(RELAY, self.cfg.timing.retransmit);
            } else {
                self.held.insert(e, SimTime(ctx.now().0 + delay.0));
                ctx.set_timer(RELAY, delay.min(self.cfg.timing.retransmit));
            }
        }
    }

    /// Relay unconfirmed outbox entries, or run a delayed dual write.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        if id == RELAY {
            let now = ctx.now();
            self.held.retain(|_, at| *at > now);
            for e in self.outbox.clone() {
                if !self.held.contains_key(&e) {
                    send(ctx, self.cfg.central, Msg::Publish { event: e });
                }
            }
            if !self.outbox.is_empty() {
                let next = self
                    .held
                    .values()
                    .min()
                    .map_or(SimTime(u64::MAX), |at| SimTime(at.0 - now.0));
                ctx.set_timer(RELAY, next.min(self.cfg.timing.retransmit));
            }
        } else if let Some(event) = self.dual_writes.remove(&id) {
            send(ctx, self.cfg.central, Msg::Publish { event });
        }
    }

    /// Rebuild business state, inbox and outbox; resume relaying.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        for rec in log {
            match rec {
                crate::protocols::Record::Choreo(Record::Commit { seq, local, outbox }) => {
                    if let Some(l) = local {
                        self.service.apply(l);
                    }
                    self.inbox.insert(*seq);
                    if let Some(e) = outbox {
                        self.outbox.insert(*e);
                    }
                }
                crate::protocols::Record::Choreo(Record::Joined { seq, event }) => {
                    self.inbox.insert(*seq);
                    self.joins.entry(event.tx).or_default().insert(event.kind);
                }
                crate::protocols::Record::Choreo(Record::Relayed { event }) => {
                    self.outbox.remove(event);
                }
                crate::protocols::Record::Release { tx } => self.service.release(*tx),
                _ => {}
            }
        }
        if let Some(c) = &mut self.custom {
            c.recover(log, &mut self.service);
        }
        if !self.outbox.is_empty() {
            ctx.set_timer(RELAY, SimTime::ZERO);
        }
    }
}

fn send(ctx: C, to: NodeId, msg: Msg) {
    ctx.send(to, crate::protocols::Msg::Choreo(msg));
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for ChoreoService {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.service.hash(state);
        self.inbox.hash(state);
        self.outbox.hash(state);
        self.attempts.hash(state);
        self.dual_writes.hash(state);
        self.next_dual.hash(state);
        self.held.hash(state);
        self.joins.hash(state);
        // A user's logic is a trait object: its debug form stands for its
        // state (deterministic for the BTreeMap-based state it may keep).
        self.custom.as_ref().map(|c| format!("{c:?}")).hash(state);
    }
}
