//! The 2PC coordinator: starts each transaction when it arrives, collects
//! votes, forces the decision and delivers it until acknowledged.
//!
//! The decision goes to the YES voters and to the silent (those whose vote
//! has not arrived), never to a NO voter: it has already aborted. Under
//! presumed abort an abort is neither logged nor acknowledged; under basic
//! 2P it is forced and delivered until every addressee has acknowledged.

use super::{Msg, Record, answer, send};
use crate::engine::{Ctx, NodeId, SimTime, TimerId};
use crate::protocols::Config;
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::TxId;
use crate::protocols::{LabNode, Obs, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const VOTE_TIMEOUT: u8 = 4;
const RETRANSMIT: u8 = 5;
const SEND_DECISION: u8 = 6;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Where one transaction stands at the coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
    /// Every addressee of the decision has acknowledged (or, for presumed
    /// abort, the abort was sent and forgotten).
    Done,
}

/// The 2PC coordinator.
#[derive(Clone, Debug)]
pub struct Coordinator {
    cfg: Arc<Config>,
    /// Per transaction.
    pub txs: BTreeMap<TxId, CoordPhase>,
    /// Per decided transaction, the participants the decision still goes
    /// to: the YES voters and the silent that have not acknowledged.
    awaiting: BTreeMap<TxId, BTreeSet<NodeId>>,
    /// Decisions known (made, or read back from the log).
    decisions: BTreeMap<TxId, bool>,
    /// When this incarnation started: requests first sent before it may
    /// have reached an earlier one.
    up_since: SimTime,
}

impl Coordinator {
    /// A coordinator for the run described by `cfg`.
    pub fn new(cfg: Arc<Config>) -> Self {
        Coordinator {
            cfg,
            txs: BTreeMap::new(),
            awaiting: BTreeMap::new(),
            decisions: BTreeMap::new(),
            up_since: SimTime::ZERO,
        }
    }

    /// A client asks to run `tx`, or (asking again) how it ended. A known
    /// decision is answered as made; a transaction still collecting votes
    /// is answered with its decision. With no record of `tx`, what the
    /// coordinator may do depends on whether an earlier incarnation of it
    /// could have received the request (the client first asked before this
    /// one started). If not, the transaction never began: begin it. If so,
    /// it may have begun and been forgotten in the crash; it was never
    /// decided commit (COMMIT is forced before anyone hears it), so under
    /// presumed abort, and equally in basic 2P which has no begin record,
    /// the only safe answer is *aborted*. Beginning it again under the same
    /// id could commit what an in-doubt participant was already told is
    /// aborted. The sagas differ here: their logs say what began.
    pub fn on_request(&mut self, tx: TxId, since: SimTime, ctx: C) {
        if matches!(self.txs.get(&tx), Some(CoordPhase::Collecting { .. })) {
            return;
        }
        if let Some(&commit) = self.decisions.get(&tx) {
            crate::protocols::client::answer(&self.cfg, tx, outcome(commit), ctx);
        } else if since >= self.up_since {
            self.begin(tx, ctx);
        } else {
            self.decisions.insert(tx, false);
            self.txs.insert(tx, CoordPhase::Done);
            ctx.record(Obs::TxFinished {
                tx,
                outcome: Outcome::Aborted,
            });
            crate::protocols::client::answer(&self.cfg, tx, Outcome::Aborted, ctx);
        }
    }

    fn begin(&mut self, tx: TxId, ctx: C) {
        // Neither basic 2P nor presumed abort logs anything before PREPARE.
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
        match self.txs.get_mut(&tx) {
            Some(CoordPhase::Collecting { yes: votes }) => {
                if !yes {
                    self.decide(tx, false, Some(from), ctx);
                    return;
                }
                votes.insert(from);
                let all = votes.len() == self.cfg.participants().len();
                if all || self.cfg.broken.commit_on_first_yes {
                    self.decide(tx, true, None, ctx);
                }
            }
            // A NO that arrives after the decision: that participant has
            // aborted on its own and neither needs the ABORT nor ACKs it.
            Some(CoordPhase::Aborting) if !yes => {
                if let Some(a) = self.awaiting.get_mut(&tx) {
                    a.remove(&from);
                }
                self.finish_if_acked(tx, ctx);
            }
            _ => {}
        }
    }

    /// Decide `tx`; `no_voter` (if any) already aborted and is left out.
    fn decide(&mut self, tx: TxId, commit: bool, no_voter: Option<NodeId>, ctx: C) {
        ctx.cancel_timer(timer(VOTE_TIMEOUT, tx));
        // Presumed abort logs nothing for an abort: no record means abort.
        let logged = commit || !self.cfg.toggles.presumed_abort;
        if logged {
            ctx.persist(Record::Decision { tx, commit }.into());
        }
        self.decisions.insert(tx, commit);
        ctx.record(Obs::Decided { tx, commit, logged });
        ctx.record(Obs::TxFinished {
            tx,
            outcome: outcome(commit),
        });
        crate::protocols::client::answer(&self.cfg, tx, outcome(commit), ctx);
        let phase = if commit {
            CoordPhase::Committing
        } else {
            CoordPhase::Aborting
        };
        self.txs.insert(tx, phase);
        let mut to: BTreeSet<NodeId> = self.cfg.participants().into_iter().collect();
        if let Some(n) = no_voter {
            to.remove(&n);
        }
        self.awaiting.insert(tx, to);
        let delay = self.cfg.timing.decision_send_delay;
        if delay == SimTime::ZERO {
            self.send_decision(tx, ctx);
        } else {
            ctx.set_timer(timer(SEND_DECISION, tx), delay);
        }
    }

    fn send_decision(&mut self, tx: TxId, ctx: C) {
        let msg = match self.txs.get(&tx) {
            Some(CoordPhase::Committing) => Msg::Commit { tx },
            Some(CoordPhase::Aborting) => Msg::Abort { tx },
            _ => return,
        };
        let to = self.awaiting.get(&tx).cloned().unwrap_or_default();
        for p in to {
            send(ctx, p, msg.clone());
        }
        if self.presumed(tx) {
            // Nobody acknowledges a presumed abort: forget it now.
            self.txs.insert(tx, CoordPhase::Done);
            self.awaiting.remove(&tx);
            return;
        }
        ctx.set_timer(timer(RETRANSMIT, tx), self.cfg.timing.retransmit);
        self.finish_if_acked(tx, ctx);
    }

    /// Whether `tx` is an abort under presumed abort: nothing logged,
    /// nothing acknowledged.
    fn presumed(&self, tx: TxId) -> bool {
        self.cfg.toggles.presumed_abort && self.decisions.get(&tx) == Some(&false)
    }

    fn on_ack(&mut self, from: NodeId, tx: TxId, ctx: C) {
        if !matches!(
            self.txs.get(&tx),
            Some(CoordPhase::Committing | CoordPhase::Aborting)
        ) {
            return;
        }
        if let Some(a) = self.awaiting.get_mut(&tx) {
            a.remove(&from);
        }
        self.finish_if_acked(tx, ctx);
    }

    /// Once every addressee has acknowledged a logged decision, the
    /// transaction can be forgotten: END is written lazily (losing it only
    /// means redelivering a decision everyone already has).
    fn finish_if_acked(&mut self, tx: TxId, ctx: C) {
        let logged = !self.presumed(tx);
        let delivering = matches!(
            self.txs.get(&tx),
            Some(CoordPhase::Committing | CoordPhase::Aborting)
        );
        if !delivering || self.awaiting.get(&tx).is_some_and(|a| !a.is_empty()) {
            return;
        }
        self.txs.insert(tx, CoordPhase::Done);
        self.awaiting.remove(&tx);
        ctx.cancel_timer(timer(RETRANSMIT, tx));
        if logged {
            ctx.persist_lazy(Record::End { tx }.into());
        }
    }

    fn on_inquire(&mut self, from: NodeId, tx: TxId, ctx: C) {
        match self.txs.get(&tx) {
            // Still collecting votes: the answer comes with the decision.
            Some(CoordPhase::Collecting { .. }) => {}
            // A decision (in delivery, or done and kept in the log) is
            // answered as it was made. A transaction with no record was
            // never decided commit: COMMIT is forced before it is sent, so
            // no record means no participant can have committed, and ABORT
            // is the only safe answer, under either variant (see the
            // module doc).
            _ if self.decisions.get(&tx) == Some(&true) => answer(ctx, from, tx, true),
            _ => answer(ctx, from, tx, false),
        }
    }

    /// Handle one of this role's timers.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        let (kind, tx) = untimer(id);
        match kind {
            VOTE_TIMEOUT => {
                if matches!(self.txs.get(&tx), Some(CoordPhase::Collecting { .. })) {
                    self.decide(tx, false, None, ctx);
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
    /// acknowledged. A transaction that crashed undecided left no record:
    /// it is forgotten, and an in-doubt participant that asks is told ABORT.
    pub fn on_recover(&mut self, log: &[crate::protocols::Record], ctx: C) {
        self.up_since = ctx.now();
        let mut decided = BTreeMap::new();
        let mut ended = BTreeSet::new();
        for rec in log {
            match rec {
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
            self.decisions.insert(*tx, *commit);
            if ended.contains(tx) {
                self.txs.insert(*tx, CoordPhase::Done);
                continue;
            }
            // Votes are not logged, so the decision goes to everyone; a NO
            // voter (basic 2P: its abort is forced) simply acknowledges it.
            let all = self.cfg.participants().into_iter().collect();
            self.awaiting.insert(*tx, all);
            let phase = if *commit {
                CoordPhase::Committing
            } else {
                CoordPhase::Aborting
            };
            self.txs.insert(*tx, phase);
            self.send_decision(*tx, ctx);
        }
    }
}

fn outcome(commit: bool) -> Outcome {
    if commit {
        Outcome::Committed
    } else {
        Outcome::Aborted
    }
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for Coordinator {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.txs.hash(state);
        self.awaiting.hash(state);
        self.decisions.hash(state);
        self.up_since.hash(state);
    }
}
