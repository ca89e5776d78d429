//! The broker: a durable topic with per-consumer delivery numbers,
//! at-least-once redelivery and publish deduplication. It also plays the
//! client (publishing `requested` when a saga arrives) and, reading the
//! events it stores, the tracker that knows when a saga has ended.

use super::{Event, EventKind, Msg, Record, reactions};
use crate::engine::{Ctx, NodeId, TimerId};
use crate::protocols::stage::members;
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::TxId;
use crate::protocols::{Config, LabNode, Obs, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const REDELIVER: u8 = 21;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// The message broker.
#[derive(Clone, Debug)]
pub struct Broker {
    cfg: Arc<Config>,
    /// Every stored event, in append order.
    pub log: Vec<Event>,
    stored: BTreeSet<Event>,
    /// Per consumer: next delivery number and the unacknowledged deliveries.
    consumers: BTreeMap<NodeId, Consumer>,
    /// Sagas that have ended.
    pub ended: BTreeMap<TxId, Outcome>,
}

#[derive(Clone, Debug, Default, Hash)]
struct Consumer {
    next_seq: u64,
    unacked: BTreeMap<u64, Event>,
    /// A redelivery timer is set (so new events do not push it back).
    armed: bool,
}

impl Consumer {
    /// The oldest unacknowledged delivery of each key (saga): the only one
    /// of that key on the wire, so a consumer sees each saga's events in
    /// order (ordering per key, one in flight per key).
    fn heads(&self) -> Vec<(u64, Event)> {
        let mut seen = BTreeSet::new();
        self.unacked
            .iter()
            .filter(|(_, e)| seen.insert(e.tx))
            .map(|(s, e)| (*s, *e))
            .collect()
    }

    /// The oldest unacknowledged delivery of key `tx`.
    fn head(&self, tx: TxId) -> Option<(u64, Event)> {
        self.unacked
            .iter()
            .find(|(_, e)| e.tx == tx)
            .map(|(s, e)| (*s, *e))
    }
}

impl Broker {
    /// A broker for the run described by `cfg`.
    pub fn new(cfg: Arc<Config>) -> Self {
        Broker {
            cfg,
            log: Vec::new(),
            stored: BTreeSet::new(),
            consumers: BTreeMap::new(),
            ended: BTreeMap::new(),
        }
    }

    /// Deliveries not yet acknowledged, over all consumers.
    pub fn unacked(&self) -> usize {
        self.consumers.values().map(|c| c.unacked.len()).sum()
    }

    /// A client asks to run `tx`, or (asking again) how it ended. The
    /// broker starts the choreography by storing `requested`; the tracker's
    /// view (the `ended` map) answers. A repeated request is deduplicated by
    /// the stored event whatever the idempotency toggle says: the toggle is
    /// about the services' inboxes, not the broker's front door.
    pub fn on_request(&mut self, tx: TxId, ctx: C) {
        if let Some(outcome) = self.ended.get(&tx) {
            crate::protocols::client::answer(&self.cfg, tx, *outcome, ctx);
            return;
        }
        let requested = Event {
            tx,
            kind: EventKind::Requested,
        };
        if !self.stored.contains(&requested) {
            self.append(requested, ctx);
        }
    }

    /// Who must hear `event`.
    fn subscribers(&self, event: &Event) -> Vec<NodeId> {
        match event.kind {
            EventKind::Ended(_) if self.cfg.toggles.releases_marks() => self.cfg.participants(),
            _ => {
                let mut nodes: Vec<NodeId> = Vec::new();
                for (step, _) in reactions(&event.kind, &self.cfg.workflow) {
                    let node = self.cfg.node_of(step);
                    if !nodes.contains(&node) {
                        nodes.push(node);
                    }
                }
                nodes
            }
        }
    }

    /// Handle a bus message.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: C) {
        match msg {
            Msg::Publish { event } => {
                self.append(event, ctx);
                send(ctx, from, Msg::PublishAck { event });
            }
            Msg::Ack { seq } => {
                if let Some(c) = self.consumers.get_mut(&from) {
                    if let Some(acked) = c.unacked.remove(&seq) {
                        ctx.persist_lazy(
                            Record::Acked {
                                consumer: from.0,
                                seq,
                            }
                            .into(),
                        );
                        // The saga's next event waited behind this one:
                        // deliver it now, not at the next redelivery.
                        if let Some((next, event)) = c.head(acked.tx) {
                            send(ctx, from, Msg::Deliver { seq: next, event });
                        }
                    }
                }
            }
            Msg::Deliver { .. } | Msg::PublishAck { .. } => {}
        }
    }

    /// Store `event` once (publishes are deduplicated when idempotency is
    /// on), then fan it out.
    fn append(&mut self, event: Event, ctx: C) {
        if self.cfg.toggles.idempotency && self.stored.contains(&event) {
            return;
        }
        ctx.persist(Record::Appended { event }.into());
        self.store(event);
        ctx.record(Obs::Published {
            tx: event.tx,
            event: event.kind,
        });
        if event.kind == EventKind::Requested {
            ctx.record(Obs::TxStarted { tx: event.tx });
        }
        for to in self.subscribers(&event) {
            let c = self.consumers.entry(to).or_default();
            let seq = c.next_seq - 1;
            let arm = !std::mem::replace(&mut c.armed, true);
            // Behind an unacknowledged event of the same saga, it waits.
            if c.head(event.tx).map(|(s, _)| s) == Some(seq) {
                send(ctx, to, Msg::Deliver { seq, event });
            }
            if arm {
                ctx.set_timer(timer(REDELIVER, TxId(to.0)), self.cfg.timing.redelivery);
            }
        }
        let Some(outcome) = self.ending(&event) else {
            return;
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = self.ended.entry(event.tx) {
            slot.insert(outcome);
            ctx.record(Obs::TxFinished {
                tx: event.tx,
                outcome,
            });
            crate::protocols::client::answer(&self.cfg, event.tx, outcome, ctx);
            let end = Event {
                tx: event.tx,
                kind: EventKind::Ended(outcome),
            };
            self.append(end, ctx);
        }
    }

    /// Add to the log and assign delivery numbers (also used by recovery,
    /// so numbers come out the same).
    fn store(&mut self, event: Event) {
        self.log.push(event);
        self.stored.insert(event);
        for to in self.subscribers(&event) {
            let c = self.consumers.entry(to).or_default();
            c.unacked.insert(c.next_seq, event);
            c.next_seq += 1;
        }
    }

    /// The tracker's rule: which events end a saga. With parallel groups,
    /// the last stage's members must all be done, or the first stage's
    /// all back (failed, or compensated).
    fn ending(&self, event: &Event) -> Option<Outcome> {
        let wf = &self.cfg.workflow;
        let has = |kind| self.stored.contains(&Event { tx: event.tx, kind });
        let back = |s| has(EventKind::StepFailed(s)) || has(EventKind::Compensated(s));
        match event.kind {
            EventKind::StepDone(s) if wf.stage_after(s).is_none() => members(&wf.stage_of(s))
                .all(|x| has(EventKind::StepDone(x)))
                .then_some(Outcome::Completed),
            EventKind::StepFailed(s) | EventKind::Compensated(s) if wf.stage_of(s).start == 0 => {
                members(&wf.stage_of(s))
                    .all(back)
                    .then_some(Outcome::Compensated)
            }
            EventKind::CompensationFailed(_) => Some(Outcome::Stuck),
            _ => None,
        }
    }

    /// Handle one of this role's timers (the only one: redelivery to the
    /// consumer the timer names).
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        let (kind, tx) = untimer(id);
        if kind != REDELIVER {
            return;
        }
        let to = NodeId(tx.0);
        let Some(c) = self.consumers.get_mut(&to) else {
            return;
        };
        let pending = c.heads();
        c.armed = !pending.is_empty();
        for (seq, event) in &pending {
            ctx.record(Obs::Retry { tx: event.tx });
            send(
                ctx,
                to,
                Msg::Deliver {
                    seq: *seq,
                    event: *event,
                },
            );
        }
        if !pending.is_empty() {
            ctx.set_timer(id, self.cfg.timing.redelivery);
        }
    }

    /// Rebuild the topic and offsets; redeliver what was not acknowledged.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        for rec in log {
            match rec {
                crate::protocols::Record::Choreo(Record::Appended { event }) => {
                    self.store(*event);
                    if let Some(o) = self.ending(event) {
                        self.ended.entry(event.tx).or_insert(o);
                    }
                }
                crate::protocols::Record::Choreo(Record::Acked { consumer, seq }) => {
                    if let Some(c) = self.consumers.get_mut(&NodeId(*consumer)) {
                        c.unacked.remove(seq);
                    }
                }
                _ => {}
            }
        }
        let waiting: Vec<NodeId> = self
            .consumers
            .iter()
            .filter(|(_, c)| !c.unacked.is_empty())
            .map(|(n, _)| *n)
            .collect();
        for to in waiting {
            if let Some(c) = self.consumers.get_mut(&to) {
                c.armed = true;
            }
            ctx.set_timer(timer(REDELIVER, TxId(to.0)), crate::engine::SimTime::ZERO);
        }
    }
}

fn send(ctx: C, to: NodeId, msg: Msg) {
    ctx.send(to, crate::protocols::Msg::Choreo(msg));
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for Broker {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.log.hash(state);
        self.stored.hash(state);
        self.consumers.hash(state);
        self.ended.hash(state);
    }
}
