//! The 2PC coordinator: starts each transaction when it arrives, collects
//! votes, forces the decision and delivers it until acknowledged.

use super::{Msg, Record};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::Config;
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::TxId;
use crate::protocols::{LabNode, Obs, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const ARRIVAL: u8 = 3;
const VOTE_TIMEOUT: u8 = 4;
const RETRANSMIT: u8 = 5;
const SEND_DECISION: u8 = 6;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Where one transaction stands at the coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoordPhase {
    /// Prepare sent; collecting votes.
    Collecting {
        /// Votes so far.
        yes: BTreeSet<NodeId>,
    },
    /// Commit decided and logged; delivering it.
    Committing,
    /// Abort decided; delivering it.
    Aborting,
    /// Every participant has acknowledged (or, for presumed abort, the
    /// abort was sent and forgotten).
    Done,
}

/// The 2PC coordinator.
#[derive(Clone, Debug)]
pub struct Coordinator {
    cfg: Arc<Config>,
    /// Per transaction.
    pub txs: BTreeMap<TxId, CoordPhase>,
    acks: BTreeMap<TxId, BTreeSet<NodeId>>,
    /// Decisions known (made, or read back from the log).
    decisions: BTreeMap<TxId, bool>,
}

impl Coordinator {
    /// A coordinator for the run described by `cfg`.
    pub fn new(cfg: Arc<Config>) -> Self {
        Coordinator {
            cfg,
            txs: BTreeMap::new(),
            acks: BTreeMap::new(),
            decisions: BTreeMap::new(),
        }
    }

    /// Schedule every arrival.
    pub fn on_start(&mut self, ctx: C) {
        self.arm_arrivals(ctx);
    }

    fn arm_arrivals(&mut self, ctx: C) {
        let wf = Arc::clone(&self.cfg.workflow);
        for tx in wf.tx_ids() {
            let at = wf.arrival_of(tx);
            // Requests that arrived while we were down were lost with us.
            if at >= ctx.now() && !self.txs.contains_key(&tx) {
                ctx.set_timer(timer(ARRIVAL, tx), at - ctx.now());
            }
        }
    }

    fn begin(&mut self, tx: TxId, ctx: C) {
        if !self.cfg.toggles.presumed_abort {
            ctx.persist(Record::Begin { tx }.into());
        }
        ctx.record(Obs::TxStarted { tx });
        let peers = self.cfg.participants();
        for p in &peers {
            send(
                ctx,
                *p,
                Msg::Prepare {
                    tx,
                    peers: peers.clone(),
                },
            );
        }
        self.txs.insert(
            tx,
            CoordPhase::Collecting {
                yes: BTreeSet::new(),
            },
        );
        ctx.set_timer(timer(VOTE_TIMEOUT, tx), self.cfg.timing.vote_timeout);
    }

    /// Handle a 2PC message.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: C) {
        match msg {
            Msg::Vote { tx, yes } => self.on_vote(from, tx, yes, ctx),
            Msg::Ack { tx } => self.on_ack(from, tx, ctx),
            Msg::Inquire { tx } => self.on_inquire(from, tx, ctx),
            Msg::Prepare { .. } | Msg::Commit { .. } | Msg::Abort { .. } => {}
        }
    }

    fn on_vote(&mut self, from: NodeId, tx: TxId, yes: bool, ctx: C) {
        let Some(CoordPhase::Collecting { yes: votes }) = self.txs.get_mut(&tx) else {
            return;
        };
        if !yes {
            self.decide(tx, false, ctx);
            return;
        }
        votes.insert(from);
        if votes.len() == self.cfg.participants().len() || self.cfg.broken.commit_on_first_yes {
            self.decide(tx, true, ctx);
        }
    }

    fn decide(&mut self, tx: TxId, commit: bool, ctx: C) {
        ctx.cancel_timer(timer(VOTE_TIMEOUT, tx));
        // Presumed abort logs nothing for an abort: no record means abort.
        let logged = commit || !self.cfg.toggles.presumed_abort;
        if logged {
            ctx.persist(Record::Decision { tx, commit }.into());
        }
        self.decisions.insert(tx, commit);
        ctx.record(Obs::Decided { tx, commit, logged });
        let outcome = if commit {
            Outcome::Committed
        } else {
            Outcome::Aborted
        };
        ctx.record(Obs::TxFinished { tx, outcome });
        let phase = if commit {
            CoordPhase::Committing
        } else {
            CoordPhase::Aborting
        };
        self.txs.insert(tx, phase);
        self.acks.insert(tx, BTreeSet::new());
        let delay = self.cfg.timing.decision_send_delay;
        if delay == SimTime::ZERO {
            self.send_decision(tx, ctx);
        } else {
            ctx.set_timer(timer(SEND_DECISION, tx), delay);
        }
    }

    fn send_decision(&mut self, tx: TxId, ctx: C) {
        let Some(phase) = self.txs.get(&tx).cloned() else {
            return;
        };
        let acked = self.acks.get(&tx).cloned().unwrap_or_default();
        for p in self.cfg.participants() {
            if acked.contains(&p) {
                continue;
            }
            let msg = match phase {
                CoordPhase::Committing => Msg::Commit { tx },
                CoordPhase::Aborting => Msg::Abort { tx },
                _ => return,
            };
            send(ctx, p, msg);
        }
        if phase == CoordPhase::Aborting && self.cfg.toggles.presumed_abort {
            // Nobody acknowledges a presumed abort: forget it now.
            self.txs.insert(tx, CoordPhase::Done);
            return;
        }
        ctx.set_timer(timer(RETRANSMIT, tx), self.cfg.timing.retransmit);
    }

    fn on_ack(&mut self, from: NodeId, tx: TxId, ctx: C) {
        if !matches!(
            self.txs.get(&tx),
            Some(CoordPhase::Committing | CoordPhase::Aborting)
        ) {
            return;
        }
        let acks = self.acks.entry(tx).or_default();
        acks.insert(from);
        if acks.len() == self.cfg.participants().len() {
            self.txs.insert(tx, CoordPhase::Done);
            ctx.cancel_timer(timer(RETRANSMIT, tx));
            ctx.persist_lazy(Record::End { tx }.into());
        }
    }

    fn on_inquire(&mut self, from: NodeId, tx: TxId, ctx: C) {
        match self.txs.get(&tx) {
            Some(CoordPhase::Committing) => answer(ctx, from, tx, true),
            // Still collecting votes: the answer comes with the decision.
            Some(CoordPhase::Collecting { .. }) => {}
            // Done commits were acknowledged by everyone, so the asker is a
            // late duplicate; aborts and unknown transactions are presumed
            // aborted (an unknown one was never decided commit: that would
            // have been logged and recovered).
            Some(CoordPhase::Done) if self.decided_commit(tx) => answer(ctx, from, tx, true),
            _ => answer(ctx, from, tx, false),
        }
    }

    fn decided_commit(&self, tx: TxId) -> bool {
        self.decisions.get(&tx) == Some(&true)
    }

    /// Handle one of this role's timers.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        let (kind, tx) = untimer(id);
        match kind {
            ARRIVAL => self.begin(tx, ctx),
            VOTE_TIMEOUT => {
                if matches!(self.txs.get(&tx), Some(CoordPhase::Collecting { .. })) {
                    self.decide(tx, false, ctx);
                }
            }
            SEND_DECISION => self.send_decision(tx, ctx),
            RETRANSMIT => {
                if matches!(
                    self.txs.get(&tx),
                    Some(CoordPhase::Committing | CoordPhase::Aborting)
                ) {
                    ctx.record(Obs::Retry { tx });
                    self.send_decision(tx, ctx);
                }
            }
            _ => {}
        }
    }

    /// Rebuild from the log: redeliver logged decisions that were not fully
    /// acknowledged; under presumed nothing, abort what began undecided.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        let mut begun = BTreeSet::new();
        let mut decided = BTreeMap::new();
        let mut ended = BTreeSet::new();
        for rec in log {
            match rec {
                crate::protocols::Record::TwoPc(Record::Begin { tx }) => {
                    begun.insert(*tx);
                }
                crate::protocols::Record::TwoPc(Record::Decision { tx, commit }) => {
                    decided.insert(*tx, *commit);
                }
                crate::protocols::Record::TwoPc(Record::End { tx }) => {
                    ended.insert(*tx);
                }
                _ => {}
            }
        }
        for (tx, commit) in &decided {
            self.acks.insert(*tx, BTreeSet::new());
            self.decisions.insert(*tx, *commit);
            if ended.contains(tx) {
                self.txs.insert(*tx, CoordPhase::Done);
                continue;
            }
            let phase = if *commit {
                CoordPhase::Committing
            } else {
                CoordPhase::Aborting
            };
            self.txs.insert(*tx, phase);
            self.send_decision(*tx, ctx);
        }
        for tx in begun.into_iter().filter(|t| !decided.contains_key(t)) {
            self.txs.insert(
                tx,
                CoordPhase::Collecting {
                    yes: BTreeSet::new(),
                },
            );
            self.decide(tx, false, ctx);
        }
        self.arm_arrivals(ctx);
    }
}

fn send(ctx: C, to: NodeId, msg: Msg) {
    ctx.send(to, crate::protocols::Msg::TwoPc(msg));
}

/// Answer an inquiry with a decision; the answer is observed, since the
/// asker will act on it.
fn answer(ctx: C, to: NodeId, tx: TxId, commit: bool) {
    ctx.record(Obs::Answered { tx, commit });
    let msg = if commit {
        Msg::Commit { tx }
    } else {
        Msg::Abort { tx }
    };
    send(ctx, to, msg);
}
