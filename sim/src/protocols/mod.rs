//! The transaction protocols, as sans-IO roles on the engine's node API.
//!
//! - [`workload`]: the business workflow all protocols share.
//! - [`service`]: a service's resources and idempotency table.
//! - [`two_pc`]: two-phase commit (coordinator and participants).
//! - [`saga_orchestrated`]: the orchestrated saga.
//! - [`saga_choreographed`]: the choreographed saga and its broker.
//! - [`saga_step`]: one saga operation at a service, shared by both sagas.
//! - [`auditor`]: a concurrent reader that makes isolation anomalies visible.
//! - [`vocabulary`]: the words scenario files use for messages and records.
//!
//! Every role is one variant of [`LabNode`], so one world type runs any
//! protocol, and the checkers read one observation type, [`Obs`].

pub mod auditor;
pub mod client;
pub mod countermeasure;
pub mod lab_node;
pub mod obs;
pub mod register;
pub mod saga_choreographed;
pub mod saga_orchestrated;
pub mod saga_step;
pub mod service;
pub mod stage;
pub mod timer;
pub mod two_pc;
pub mod vocabulary;
pub mod workload;

pub use lab_node::{LabNode, Msg, Record};
pub use obs::{AbortWhy, Obs, Outcome};

use crate::engine::{NodeId, SimTime};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use workload::Workflow;

/// What every role knows about the run, shared by all nodes of a world.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The business workflow.
    pub workflow: Arc<Workflow>,
    /// The coordinator, orchestrator or broker.
    pub central: NodeId,
    /// The node of each service, by service id.
    pub services: Vec<NodeId>,
    /// The client node that sends the requests (none in unit tests that
    /// drive a protocol without one).
    pub client: Option<NodeId>,
    /// Teaching toggles.
    pub toggles: Toggles,
    /// Timeouts and retries.
    pub timing: Timing,
    /// Deliberately broken behaviours (negative controls only).
    pub broken: Broken,
}

/// Deliberately broken behaviours, so negative controls can show that the
/// checkers catch them. Never on in a lesson.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Broken {
    /// The 2PC coordinator decides commit on the first yes vote.
    pub commit_on_first_yes: bool,
    /// Services apply an action that arrives after its compensation (no
    /// protection against the "hanging" action).
    pub accept_late_actions: bool,
    /// 2PC participants prepare without regard to lock holders, so
    /// concurrent transactions all vote yes on the same last seat.
    pub ignore_locks: bool,
    /// The orchestrator undoes a parallel group in the order its members
    /// completed, not the reverse.
    pub undo_group_forward: bool,
    /// Under by value, a risky request acts where another saga has a
    /// change pending instead of being told "busy".
    pub risky_skip_wait: bool,
}

impl Config {
    /// The participating services' nodes, in service order.
    pub fn participants(&self) -> Vec<NodeId> {
        self.workflow
            .participants()
            .into_iter()
            .map(|s| self.services[s.index()])
            .collect()
    }

    /// The node running `step`.
    pub fn node_of(&self, step: workload::StepId) -> NodeId {
        self.services[self.workflow.step(step).service.index()]
    }
}

/// Which protocol a run uses.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Protocol {
    /// Two-phase commit.
    #[default]
    #[serde(rename = "2pc")]
    TwoPc,
    /// A saga run by an orchestrator.
    #[serde(rename = "orchestrated")]
    Orchestrated,
    /// A saga carried by events through a broker.
    #[serde(rename = "choreographed")]
    Choreographed,
}

impl Protocol {
    /// All three, in display order.
    pub const ALL: [Protocol; 3] = [
        Protocol::TwoPc,
        Protocol::Orchestrated,
        Protocol::Choreographed,
    ];

    /// The short name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::TwoPc => "2pc",
            Protocol::Orchestrated => "orchestrated",
            Protocol::Choreographed => "choreographed",
        }
    }
}

/// What a 2PC participant does when a resource it needs is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LockPolicy {
    /// Wait-die (Rosenkrantz et al. 1978): an older transaction queues
    /// behind a younger holder, a younger one votes no at once. No deadlock,
    /// and the oldest transaction always makes progress.
    #[default]
    WaitDie,
    /// Always queue behind the holder, giving up after `lock_wait`: prone to
    /// distributed deadlock, broken only by timeouts (a lesson of its own).
    Wait,
    /// Vote no at once.
    FailFast,
}

/// The teaching toggles: switch a safeguard off to watch what breaks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Toggles {
    /// Saga services and inboxes deduplicate by idempotency key (2PC always does, by state).
    pub idempotency: bool,
    /// Choreographed services publish through an outbox atomic with the
    /// local commit.
    pub outbox: bool,
    /// 2PC presumed abort (off: presumed nothing).
    pub presumed_abort: bool,
    /// 2PC in-doubt participants also ask their peers.
    pub cooperative_termination: bool,
    /// Sagas mark touched resources pending so concurrent sagas wait.
    pub semantic_lock: bool,
    /// 2PC lock conflicts: wait or fail fast.
    pub lock_policy: LockPolicy,
    /// Run an auditor node that reads every service while the workload
    /// runs, to count dirty reads of intermediate saga state.
    pub auditor: bool,
    /// Countermeasure: registers are updated by deltas (a compensation
    /// adds the amount back instead of restoring the old value).
    pub commutative_updates: bool,
    /// Countermeasure: sagas run their writing compensatable steps after
    /// the pivot, as retriable steps, so nobody reads a change later undone.
    pub pessimistic_view: bool,
    /// Countermeasure: a step that relies on an earlier read checks the
    /// value again first and fails backward if it changed.
    pub reread_value: bool,
    /// Countermeasure: services keep every operation on a register and
    /// compute its value by replaying the live ones in order.
    pub version_file: bool,
    /// Countermeasure: requests whose value reaches the threshold run
    /// under the semantic lock, the others as the bare saga
    /// (`by_value = { threshold = N }`; see [`countermeasure::ByValue`]).
    /// `by_value = false` is the same as leaving it out, so `--set
    /// toggles.by_value=false` turns a lesson's switch off.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "countermeasure::by_value_or_off"
    )]
    pub by_value: Option<countermeasure::ByValue>,
}

impl Toggles {
    /// Whether sagas tell the services when they end, so the pending marks
    /// they left are released (semantic lock, or locking by value).
    pub fn releases_marks(&self) -> bool {
        self.semantic_lock || self.by_value.is_some()
    }
}

impl Default for Toggles {
    fn default() -> Self {
        Toggles {
            idempotency: true,
            outbox: true,
            presumed_abort: true,
            cooperative_termination: false,
            semantic_lock: false,
            lock_policy: LockPolicy::WaitDie,
            auditor: false,
            commutative_updates: false,
            pessimistic_view: false,
            reread_value: false,
            version_file: false,
            by_value: None,
        }
    }
}

/// Timeouts and retry policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timing {
    /// A 2PC coordinator aborts when votes are this late.
    pub vote_timeout: SimTime,
    /// Resend an unacknowledged decision or command this often.
    pub retransmit: SimTime,
    /// An in-doubt participant asks for the outcome this often.
    pub inquiry: SimTime,
    /// A participant waiting for a lock gives up after this long.
    pub lock_wait: SimTime,
    /// A saga step's reply timeout.
    pub step_timeout: SimTime,
    /// Attempts per saga step before failing backward (after the pivot,
    /// retriable steps retry without limit).
    pub max_attempts: u32,
    /// Base of the exponential retry backoff.
    pub backoff_base: SimTime,
    /// Cap of the retry backoff.
    pub backoff_max: SimTime,
    /// Attempts of a compensation before the saga is flagged stuck.
    pub compensation_attempts: u32,
    /// Gap between logging a 2PC decision and sending it (zero: the same
    /// instant); lets a lesson crash the coordinator in between.
    pub decision_send_delay: SimTime,
    /// Broker redelivery interval for unacknowledged events.
    pub redelivery: SimTime,
    /// Orchestrated saga: give up and fail backward if the saga is still
    /// before its pivot this long after it started (zero: no deadline).
    pub saga_deadline: SimTime,
    /// The client asks again when it has heard nothing for this long.
    pub client_retry: SimTime,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            vote_timeout: SimTime::from_millis(100),
            retransmit: SimTime::from_millis(50),
            inquiry: SimTime::from_millis(80),
            lock_wait: SimTime::from_millis(200),
            step_timeout: SimTime::from_millis(60),
            max_attempts: 4,
            backoff_base: SimTime::from_millis(10),
            backoff_max: SimTime::from_millis(200),
            compensation_attempts: 8,
            decision_send_delay: SimTime::ZERO,
            redelivery: SimTime::from_millis(60),
            saga_deadline: SimTime::ZERO,
            client_retry: SimTime::from_millis(500),
        }
    }
}
