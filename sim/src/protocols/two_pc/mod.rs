//! Two-phase commit (Gray 1978), with the costs of R* (Mohan, Lindsay &
//! Obermarck 1986): basic 2P ("presumed nothing") and presumed abort.
//!
//! Phase one: the coordinator sends *prepare* to every participant. A
//! participant locks what the transaction touches, checks it can do its
//! part, forces a *prepared* record to its log and votes yes (or votes no
//! and aborts at once). Phase two: with every vote yes, the coordinator
//! forces a *commit* record and sends commit; any no, or a vote that is too
//! late, means abort. The decision goes to the yes voters and to the silent,
//! never to a no voter (it has aborted already, and does not acknowledge).
//! Participants force their outcome, release their locks and acknowledge;
//! the coordinator retransmits until all have, then writes END lazily.
//!
//! Costs per transaction over N participants, k of them voting no
//! (THEORY.md's table; `tests/two_pc.rs` asserts it):
//!
//! | variant, outcome | messages | coordinator forces | yes voter forces | no voter forces |
//! |---|---|---|---|---|
//! | either, commit | 4N | COMMIT | PREPARED, COMMITTED | — |
//! | basic 2P, abort | 2N + 2(N−k) | ABORT | PREPARED, ABORTED | ABORTED, before its vote |
//! | presumed abort, abort | 2N + (N−k), no ACKs | nothing | PREPARED | nothing (lazy) |
//!
//! The lesson it teaches is the window between voting yes and hearing the
//! decision: a prepared participant may not decide alone, so while the
//! coordinator is unreachable it stays *in doubt*, blocked, holding its
//! locks. It asks the coordinator (and, with cooperative termination, its
//! peers, one of which may know the outcome or may not have voted and so
//! can still abort, after forcing that abort: the asker acts on the answer)
//! until someone answers.
//!
//! **What a coordinator with no record answers.** Neither variant logs
//! anything before PREPARE, so a coordinator that crashes before deciding
//! forgets the transaction. No record means it never forced COMMIT, and
//! COMMIT is never sent before it is forced, so no participant can have
//! committed: ABORT is the only safe answer, under both variants (in R*
//! basic 2P does the same, which is the observation presumed abort is built
//! on). The variants differ once abort is *decided*. **Presumed abort**
//! logs nothing, forgets at once and needs no acknowledgement: "no record"
//! already says abort. **Basic 2P** forces the ABORT record and keeps it
//! until every yes voter and silent participant has acknowledged (each after
//! forcing its own abort record), so an inquiry about a decided
//! transaction always finds the record.
//!
//! Participants keep each transaction's state by id, so duplicated
//! messages are harmless whatever the `idempotency` toggle says (that
//! toggle is about saga services and inboxes).

mod coordinator;
mod participant;

pub use coordinator::{CoordPhase, Coordinator};
pub use participant::{Participant, ParticipantBug, ParticipantPhase};

use super::workload::TxId;
use super::{LabNode, Obs};
use crate::engine::{Ctx, NodeId};
use serde::{Deserialize, Serialize};

/// Send a 2PC message.
fn send(ctx: &mut Ctx<'_, LabNode>, to: NodeId, msg: Msg) {
    ctx.send(to, super::Msg::TwoPc(msg));
}

/// Answer an inquiry with a decision (the coordinator, or a peer under
/// cooperative termination). The answer is observed: the asker acts on it,
/// so the agreement checker counts it as a decision.
fn answer(ctx: &mut Ctx<'_, LabNode>, to: NodeId, tx: TxId, commit: bool) {
    ctx.record(Obs::Answered { tx, commit });
    let msg = if commit {
        Msg::Commit { tx }
    } else {
        Msg::Abort { tx }
    };
    send(ctx, to, msg);
}

/// 2PC messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Coordinator → participant: prepare `tx`; `peers` are all participants.
    Prepare {
        /// The transaction.
        tx: TxId,
        /// Every participant, for cooperative termination.
        peers: Vec<NodeId>,
    },
    /// Participant → coordinator: the vote.
    Vote {
        /// The transaction.
        tx: TxId,
        /// Yes or no.
        yes: bool,
    },
    /// The decision: commit.
    Commit {
        /// The transaction.
        tx: TxId,
    },
    /// The decision: abort.
    Abort {
        /// The transaction.
        tx: TxId,
    },
    /// Participant → coordinator: decision applied.
    Ack {
        /// The transaction.
        tx: TxId,
    },
    /// In-doubt participant → coordinator or peer: what was decided?
    Inquire {
        /// The transaction.
        tx: TxId,
    },
}

/// Records in 2PC logs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Coordinator: the decision.
    Decision {
        /// The transaction.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
    },
    /// Coordinator: every acknowledgement is in; the transaction can be
    /// forgotten.
    End {
        /// The transaction.
        tx: TxId,
    },
    /// Participant: voted yes; must not decide alone from here on.
    Prepared {
        /// The transaction.
        tx: TxId,
        /// Every participant.
        peers: Vec<NodeId>,
    },
    /// Participant: the outcome (a commit also applies the effects).
    Outcome {
        /// The transaction.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
    },
}

#[cfg(test)]
mod tests;
