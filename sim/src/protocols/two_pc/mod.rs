//! Two-phase commit (Gray 1978; Mohan, Lindsay & Obermarck 1986 for
//! presumed abort).
//!
//! Phase one: the coordinator sends *prepare* to every participant. A
//! participant locks what the transaction touches, checks it can do its
//! part, forces a *prepared* record to its log and votes yes (or votes no
//! and forgets the transaction). Phase two: with every vote yes, the
//! coordinator forces a *commit* record and sends commit; any no, or a vote
//! that is too late, means abort. Participants apply or discard, release
//! their locks and acknowledge; the coordinator retransmits until all have.
//!
//! The lesson it teaches is the window between voting yes and hearing the
//! decision: a prepared participant may not decide alone, so while the
//! coordinator is unreachable it stays *in doubt*, blocked, holding its
//! locks. It asks the coordinator (and, with cooperative termination, its
//! peers, one of which may know the outcome or may not have voted and so
//! can still abort) until someone answers.
//!
//! With **presumed abort** the coordinator logs nothing for aborts and
//! forgets them at once; "no record" means abort, so aborts need no
//! acknowledgement. **Presumed nothing** forces a begin record and the abort
//! decision, and waits for abort acknowledgements too.

mod coordinator;
mod participant;

pub use coordinator::{CoordPhase, Coordinator};
pub use participant::{Participant, ParticipantBug, ParticipantPhase};

use super::workload::TxId;
use crate::engine::NodeId;
use serde::{Deserialize, Serialize};

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
    /// Coordinator (presumed nothing): the transaction began.
    Begin {
        /// The transaction.
        tx: TxId,
    },
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
