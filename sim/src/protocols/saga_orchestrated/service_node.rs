//! A service answering saga commands: one local transaction per command,
//! deduplicated by idempotency key.

use super::Msg;
use crate::custom::{Call, MessageId, Plugged};
use crate::engine::stable_hash;
use crate::engine::{Ctx, NodeId, TimerId};
use crate::protocols::saga_step::execute;
use crate::protocols::service::Service;
use crate::protocols::workload::{Op, ServiceId, StepId, TxId};
use crate::protocols::{Config, LabNode, Obs, Record};
use std::collections::BTreeMap;
use std::sync::Arc;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Timers for delayed replies live above every protocol timer kind.
const DELAYED: u64 = 1 << 56;

/// A service in an orchestrated saga.
#[derive(Debug)]
pub struct SagaService {
    cfg: Arc<Config>,
    /// The business state.
    pub service: Service,
    /// Replies held back by a slow-service plan, by timer.
    delayed: BTreeMap<TimerId, (NodeId, Msg)>,
    next_delay: u64,
    /// A user's logic in place of the built-in one.
    custom: Option<Plugged>,
}

impl Clone for SagaService {
    fn clone(&self) -> Self {
        SagaService {
            cfg: self.cfg.clone(),
            service: self.service.clone(),
            delayed: self.delayed.clone(),
            next_delay: self.next_delay,
            custom: self.custom.clone(),
        }
    }

    /// Field by field, so the service is reset in place (see
    /// [`Service::clone_from`]).
    fn clone_from(&mut self, src: &Self) {
        let SagaService {
            cfg,
            service,
            delayed,
            next_delay,
            custom,
        } = src;
        crate::protocols::service::share(&mut self.cfg, cfg);
        self.service.clone_from(service);
        self.delayed.clone_from(delayed);
        self.next_delay = *next_delay;
        self.custom.clone_from(custom);
    }
}

impl SagaService {
    /// The service `id`.
    pub fn new(cfg: Arc<Config>, id: ServiceId) -> Self {
        let service = Service::for_run(&cfg, id);
        SagaService {
            cfg,
            service,
            delayed: BTreeMap::new(),
            next_delay: 0,
            custom: None,
        }
    }

    /// Run a user's logic (if any) in place of the built-in one.
    pub fn plugged(mut self, logic: Option<Plugged>) -> Self {
        self.custom = logic;
        self
    }

    /// Handle a saga message.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: C) {
        match msg {
            Msg::Command {
                tx,
                step,
                op,
                attempt,
            } => self.on_command(from, tx, step, op, attempt, ctx),
            Msg::Release { tx } => self.on_release(from, tx, ctx),
            Msg::Reply { .. } | Msg::ReleaseAck { .. } => {}
        }
    }

    /// Clear the saga's pending marks and acknowledge. The ack ends the
    /// orchestrator's retransmissions, so the release must be durable first:
    /// a restart replaying the saga's charge without it would raise the mark
    /// again, for good. With no mark of `tx` here there is nothing to write
    /// (the log already yields none).
    fn on_release(&mut self, from: NodeId, tx: TxId, ctx: C) {
        if self.service.holds_marks(tx) {
            self.service.release(tx);
            ctx.persist(Record::Release { tx });
        }
        send(ctx, from, Msg::ReleaseAck { tx });
    }

    fn on_command(&mut self, from: NodeId, tx: TxId, step: StepId, op: Op, attempt: u32, ctx: C) {
        let (exec, snapshot) = match &self.custom {
            // A resend is a new message: its id changes with the attempt.
            Some(c) => {
                let message_id = MessageId(stable_hash(&(tx, step, op, attempt)));
                let call = Call {
                    tx,
                    step,
                    op,
                    message_id,
                };
                c.execute(&self.cfg, &self.service, call, ctx.rng())
            }
            None => (
                execute(&self.cfg, &self.service, tx, step, op, ctx.rng()),
                None,
            ),
        };
        // Write-ahead: the observation and the reply (even one held back or
        // never sent) come after the forced commit. A duplicate answered
        // from the table (no commit) is handled only once the original's
        // write is done, as the node blocks on it.
        if let Some(commit) = &exec.commit {
            if let Some(s) = &snapshot {
                // Flushed with the forced commit below: the two are atomic.
                ctx.persist_lazy(Record::Custom(s.clone()));
            }
            ctx.persist(Record::Local(commit.clone()));
            self.service.apply(commit);
            if let (Some(c), Some(s)) = (&mut self.custom, &snapshot) {
                c.install(s, &mut self.service);
            }
            ctx.record(Obs::Local {
                tx,
                step,
                op,
                delta: commit.delta,
                reply: commit.reply.clone(),
            });
        }
        let wf = &self.cfg.workflow;
        let silent = wf
            .failures_for(tx, step)
            .map(|f| u32::from(f.silent_replies))
            .max();
        let delay = wf.failures_for(tx, step).map(|f| f.reply_delay).max();
        // The work is done, but the caller never hears about it: its timeout
        // fires with the outcome unknown.
        if op == Op::Action && silent.is_some_and(|n| attempt <= n) {
            return;
        }
        let reply = Msg::Reply {
            tx,
            step,
            op,
            attempt,
            reply: exec.reply,
        };
        match delay.filter(|d| d.0 > 0 && op == Op::Action) {
            Some(d) => {
                let id = TimerId(DELAYED | self.next_delay);
                self.next_delay += 1;
                self.delayed.insert(id, (from, reply));
                ctx.set_timer(id, d);
            }
            None => send(ctx, from, reply),
        }
    }

    /// Send a reply that was held back.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        if let Some((to, msg)) = self.delayed.remove(&id) {
            send(ctx, to, msg);
        }
    }

    /// Rebuild the business state from the log.
    pub fn on_recover(&mut self, log: &[Record], _ctx: C) {
        for rec in log {
            match rec {
                Record::Local(c) => self.service.apply(c),
                Record::Release { tx } => self.service.release(*tx),
                _ => {}
            }
        }
        if let Some(c) = &mut self.custom {
            c.recover(log, &mut self.service);
        }
    }
}

fn send(ctx: C, to: NodeId, msg: Msg) {
    ctx.send(to, crate::protocols::Msg::Saga(msg));
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for SagaService {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.service.hash(state);
        self.delayed.hash(state);
        self.next_delay.hash(state);
        // A user's logic is a trait object: its debug form stands for its
        // state (deterministic for the BTreeMap-based state it may keep).
        self.custom.as_ref().map(|c| format!("{c:?}")).hash(state);
    }
}
