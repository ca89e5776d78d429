//! The client: the same for every protocol, so latency and outcomes compare
//! fairly. Each transaction arrives as a request sent over the simulated
//! network to the central node (the 2PC coordinator, the orchestrator, or
//! the broker that starts the choreography). A request can be lost, or reach
//! a crashed node, so the client asks again on a timeout, with the same
//! transaction id, until it is told an outcome. Latency runs from the first
//! send to the answer, as a user would measure it (THEORY.md, Latency).

use crate::engine::{Ctx, SimTime, TimerId};
use crate::protocols::timer::{timer, untimer};
use crate::protocols::workload::TxId;
use crate::protocols::{Config, LabNode, Obs, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const ARRIVAL: u8 = 30;
const ASK_AGAIN: u8 = 31;

type C<'a, 'b> = &'a mut Ctx<'b, LabNode>;

/// Client ↔ central node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Client → central node: run this transaction (or, if it already runs,
    /// tell me how it ended).
    Request {
        /// The transaction.
        tx: TxId,
        /// When the client first asked: a central node that has no record
        /// of `tx` can tell from it whether an earlier incarnation of itself
        /// may have received the request.
        since: SimTime,
    },
    /// Central node → client: how the transaction ended.
    Answer {
        /// The transaction.
        tx: TxId,
        /// What the client is told.
        outcome: Outcome,
    },
}

/// The client node.
#[derive(Clone, Debug)]
pub struct Client {
    cfg: Arc<Config>,
    /// Transactions sent and not yet answered, with their first send.
    pub waiting: BTreeMap<TxId, SimTime>,
    /// Transactions answered.
    pub answered: BTreeSet<TxId>,
}

impl Client {
    /// The client of the run described by `cfg`.
    pub fn new(cfg: Arc<Config>) -> Self {
        Client {
            cfg,
            waiting: BTreeMap::new(),
            answered: BTreeSet::new(),
        }
    }

    /// Schedule every arrival.
    pub fn on_start(&mut self, ctx: C) {
        let wf = Arc::clone(&self.cfg.workflow);
        for tx in wf.tx_ids() {
            let after = wf.arrival_of(tx).saturating_sub(ctx.now());
            ctx.set_timer(timer(ARRIVAL, tx), after);
        }
    }

    /// Handle an answer.
    pub fn on_message(&mut self, msg: Msg, ctx: C) {
        let Msg::Answer { tx, outcome } = msg else {
            return;
        };
        // A repeated answer (to a repeated request) tells nothing new.
        if self.waiting.remove(&tx).is_none() {
            return;
        }
        self.answered.insert(tx);
        ctx.cancel_timer(timer(ASK_AGAIN, tx));
        ctx.record(Obs::ClientTold { tx, outcome });
    }

    /// Send a request, first or again.
    pub fn on_timer(&mut self, id: TimerId, ctx: C) {
        let (kind, tx) = untimer(id);
        match kind {
            ARRIVAL => {
                self.waiting.insert(tx, ctx.now());
                ctx.record(Obs::Requested { tx });
            }
            ASK_AGAIN if self.waiting.contains_key(&tx) => ctx.record(Obs::AskedAgain { tx }),
            _ => return,
        }
        self.ask(tx, ctx);
    }

    fn ask(&mut self, tx: TxId, ctx: C) {
        let since = self.waiting.get(&tx).copied().unwrap_or(ctx.now());
        ctx.send(
            self.cfg.central,
            crate::protocols::Msg::Client(Msg::Request { tx, since }),
        );
        ctx.set_timer(timer(ASK_AGAIN, tx), self.cfg.timing.client_retry);
    }
}

/// Tell the client how `tx` ended (central nodes call this once the
/// outcome is durable, and again when the client asks again).
pub fn answer(cfg: &Config, tx: TxId, outcome: Outcome, ctx: C) {
    if let Some(client) = cfg.client {
        ctx.send(
            client,
            crate::protocols::Msg::Client(Msg::Answer { tx, outcome }),
        );
    }
}

/// The explorer's fingerprint: every field but the shared configuration,
/// which is the same in every state of one exploration.
impl std::hash::Hash for Client {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.waiting.hash(state);
        self.answered.hash(state);
    }
}
