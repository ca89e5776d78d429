//! Observations: the facts roles report for the checkers, the metrics and
//! the UI. They are the checkers' only input besides the final state.

use super::service::Reply;
use super::workload::{Op, StepId, TxId};
use serde::{Deserialize, Serialize};

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 2PC: every participant committed.
    Committed,
    /// 2PC: nobody committed.
    Aborted,
    /// 2PC: some participant is still prepared, holding its locks.
    Blocked,
    /// Saga: every step done, nothing compensated.
    Completed,
    /// Saga: a prefix done and undone in reverse.
    Compensated,
    /// Saga: a compensation kept failing; an operator must step in.
    Stuck,
    /// Not finished when the run ended.
    Unfinished,
    /// 2PC: some participants committed and others aborted (an atomicity
    /// violation; only a broken variant gets here).
    Inconsistent,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Committed,
        Outcome::Aborted,
        Outcome::Blocked,
        Outcome::Completed,
        Outcome::Compensated,
        Outcome::Stuck,
        Outcome::Unfinished,
        Outcome::Inconsistent,
    ];

    /// Whether the transaction reached an end (blocked and unfinished have
    /// not).
    pub fn is_terminal(self) -> bool {
        !matches!(self, Outcome::Blocked | Outcome::Unfinished)
    }

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Committed => "committed",
            Outcome::Aborted => "aborted",
            Outcome::Blocked => "blocked",
            Outcome::Completed => "completed",
            Outcome::Compensated => "compensated",
            Outcome::Stuck => "stuck",
            Outcome::Unfinished => "unfinished",
            Outcome::Inconsistent => "inconsistent",
        }
    }
}

/// Why a 2PC participant aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortWhy {
    /// The coordinator decided abort (or presumed it).
    Decision,
    /// It voted no (business rejection, transient error or lock conflict).
    VotedNo,
    /// It had not voted and gave up on its own (lock wait, peer inquiry).
    BeforeVote,
    /// It aborted on its own after voting yes: never allowed.
    Unilateral,
}

/// One fact reported by a role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "obs", rename_all = "snake_case")]
pub enum Obs {
    /// A transaction entered the system.
    TxStarted {
        /// Which.
        tx: TxId,
    },
    /// The client-facing role learned the outcome.
    TxFinished {
        /// Which.
        tx: TxId,
        /// How it ended.
        outcome: Outcome,
    },
    /// The client was told how its transaction ended (the first answer it
    /// got; later answers to repeated requests are not recorded).
    ClientTold {
        /// Which.
        tx: TxId,
        /// What it was told.
        outcome: Outcome,
    },
    /// 2PC: an inquiry was answered with a decision (by the coordinator, or
    /// by a peer under cooperative termination). Any such answer is a
    /// decision the participants must agree with.
    Answered {
        /// The transaction.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
    },
    /// The client sent its first request for a transaction: latency counts
    /// from here.
    Requested {
        /// Which.
        tx: TxId,
    },
    /// The client heard nothing in time and asked again.
    AskedAgain {
        /// Which.
        tx: TxId,
    },
    /// A local transaction ran at a service (applied, refused or null).
    Local {
        /// The transaction.
        tx: TxId,
        /// The step.
        step: StepId,
        /// Action or compensation.
        op: Op,
        /// The change to the resource.
        delta: i64,
        /// The answer.
        reply: Reply,
    },
    /// 2PC participant: forced its prepared record.
    Prepared {
        /// The transaction.
        tx: TxId,
    },
    /// 2PC participant: voted.
    Voted {
        /// The transaction.
        tx: TxId,
        /// Yes or no.
        yes: bool,
    },
    /// 2PC participant: why it votes no (sold out, refused, transient error).
    Refused {
        /// The transaction.
        tx: TxId,
        /// The reason, in words.
        reason: String,
    },
    /// 2PC participant: committed.
    Committed {
        /// The transaction.
        tx: TxId,
    },
    /// 2PC participant: aborted.
    Aborted {
        /// The transaction.
        tx: TxId,
        /// Why.
        why: AbortWhy,
    },
    /// 2PC participant: prepared and still without a decision after its
    /// inquiry timeout; blocked, holding its locks.
    InDoubt {
        /// The transaction.
        tx: TxId,
    },
    /// A participant took the locks of a transaction.
    LocksHeld {
        /// The transaction.
        tx: TxId,
    },
    /// A participant released them.
    LocksFreed {
        /// The transaction.
        tx: TxId,
    },
    /// 2PC coordinator: the decision is durable (if it is logged at all).
    Decided {
        /// The transaction.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
        /// Whether a decision record was forced first.
        logged: bool,
    },
    /// Broker: an event was stored on the topic.
    Published {
        /// The saga (correlation id).
        tx: TxId,
        /// What happened.
        event: super::saga_choreographed::EventKind,
    },
    /// The auditor read a service: `visible` are the transactions whose
    /// changes the values it saw include.
    Read {
        /// The service read.
        service: super::workload::ServiceId,
        /// Transactions visible in what was read.
        visible: Vec<TxId>,
    },
    /// Something was sent again after a timeout.
    Retry {
        /// The transaction.
        tx: TxId,
    },
    /// Orchestrator: a parallel group's member settled (its action is
    /// done, or given up with the outcome unknown): the order a failure
    /// backward undoes the group in, reversed. Not recorded for a stage of
    /// one step.
    Settled {
        /// The saga.
        tx: TxId,
        /// The member.
        step: StepId,
    },
}

impl Obs {
    /// The transaction the observation is about.
    pub fn tx(&self) -> TxId {
        match self {
            Obs::TxStarted { tx }
            | Obs::TxFinished { tx, .. }
            | Obs::ClientTold { tx, .. }
            | Obs::Answered { tx, .. }
            | Obs::Requested { tx }
            | Obs::AskedAgain { tx }
            | Obs::Local { tx, .. }
            | Obs::Prepared { tx }
            | Obs::Voted { tx, .. }
            | Obs::Refused { tx, .. }
            | Obs::Committed { tx }
            | Obs::Aborted { tx, .. }
            | Obs::InDoubt { tx }
            | Obs::LocksHeld { tx }
            | Obs::LocksFreed { tx }
            | Obs::Decided { tx, .. }
            | Obs::Published { tx, .. }
            | Obs::Retry { tx }
            | Obs::Settled { tx, .. } => *tx,
            // A read is about no single transaction.
            Obs::Read { .. } => TxId::NONE,
        }
    }
}
