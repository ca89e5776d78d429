//! The scenario file format (TOML). These types mirror the file one to
//! one, so a loaded scenario can be written back (repro files) and
//! `deny_unknown_fields` turns every typo into an error with a position.
//! Times are whole milliseconds (`*_ms`), probabilities lie in 0..=1.

use crate::protocols::Toggles;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name (the library uses the file name).
    pub name: String,
    /// What the lesson shows.
    #[serde(default)]
    pub description: String,
    /// The seed.
    #[serde(default)]
    pub seed: u64,
    /// Stop at this virtual time (default: 30 s after the last fault or
    /// arrival).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_ms: Option<u64>,
    /// The network.
    #[serde(default)]
    pub network: NetworkFile,
    /// Services and their resources.
    pub services: Vec<ServiceFile>,
    /// The workflow, in order.
    pub steps: Vec<StepFile>,
    /// How many transactions and when.
    #[serde(default)]
    pub workload: WorkloadFile,
    /// Planned business and transient failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureFile>,
    /// Crashes, restarts, partitions and heals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultFile>,
    /// Teaching toggles.
    #[serde(default)]
    pub toggles: Toggles,
    /// Timeouts and retry policy.
    #[serde(default)]
    pub timing: TimingFile,
    /// Text shown by the UI at a time or on an event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narration: Vec<Narration>,
    /// The lesson in one sentence, for the handout and the workshop guide.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub takeaway: String,
    /// Questions the UI asks before it reveals (`[[question]]`); ignored
    /// by `run` and `check`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub question: Vec<super::question::Question>,
    /// Expected results per protocol (`2pc`, `orchestrated`,
    /// `choreographed`), checked by `txlab check`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expect: BTreeMap<String, Expectation>,
    /// A path the explorer found: the run follows these choices instead of
    /// the clock (see [`ExploreFile`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<ExploreFile>,
}

/// Message delay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyFile {
    /// Uniform between the bounds.
    Uniform {
        /// Fastest.
        min_ms: u64,
        /// Slowest.
        max_ms: u64,
    },
    /// Long-tailed (Pareto), capped.
    Pareto {
        /// Scale: the fastest delivery.
        min_ms: u64,
        /// Shape (smaller: heavier tail).
        alpha: f64,
        /// Cap.
        max_ms: u64,
    },
}

impl Default for LatencyFile {
    fn default() -> Self {
        LatencyFile::Uniform {
            min_ms: 1,
            max_ms: 10,
        }
    }
}

/// The network.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// Delay on every link.
    #[serde(default)]
    pub latency: LatencyFile,
    /// Loss probability.
    #[serde(default)]
    pub loss: f64,
    /// Duplication probability.
    #[serde(default)]
    pub duplicate: f64,
    /// Per-link FIFO delivery.
    #[serde(default)]
    pub fifo: bool,
    /// Time a forced log write takes.
    #[serde(default)]
    pub write_latency_ms: u64,
    /// Overrides for single directed links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkFile>,
}

/// An override for one directed link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkFile {
    /// Sender's name.
    pub from: String,
    /// Receiver's name.
    pub to: String,
    /// Delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyFile>,
    /// Loss probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    /// Duplication probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<f64>,
    /// FIFO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fifo: Option<bool>,
}

/// A service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// Its name (also the node's name).
    pub name: String,
    /// Resource → starting amount.
    pub resources: BTreeMap<String, i64>,
    /// A user's service logic, by the name a program registered it under
    /// (see `txlab_sim::custom`); the sagas run it in place of the
    /// built-in service. Only that program can run the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logic: Option<String>,
    /// Isolation: resources that are registers (set to a value computed
    /// from a read; a compensation restores the previous value) rather
    /// than counters (changed by deltas).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registers: Vec<String>,
}

/// A workflow step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    /// Its name.
    pub name: String,
    /// The service it runs at.
    pub service: String,
    /// The resource it takes from.
    pub resource: String,
    /// How much.
    pub amount: i64,
    /// `compensatable`, `pivot` or `retriable`.
    #[serde(default)]
    pub kind: crate::protocols::workload::StepKind,
    /// The action's label.
    #[serde(default = "default_action")]
    pub action: String,
    /// The compensation's label.
    #[serde(default = "default_compensation")]
    pub compensation: String,
    /// What the compensation gives back, if not the whole amount (a
    /// cancellation that keeps a fee): 1..=amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation_amount: Option<i64>,
    /// Isolation: an earlier step (same service and resource) whose read
    /// this step relies on instead of checking again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<String>,
    /// Parallel steps: consecutive steps with the same group run at once
    /// (docs/scenarios.md, "Parallel steps").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

fn default_action() -> String {
    "do".into()
}

fn default_compensation() -> String {
    "undo".into()
}

/// The workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    /// How many transactions.
    #[serde(default = "one")]
    pub transactions: u32,
    /// First arrival.
    #[serde(default = "one_ms")]
    pub start_ms: u64,
    /// Time between arrivals.
    #[serde(default)]
    pub interval_ms: u64,
    /// Per-request values, cycled over the transactions (transaction `i`
    /// has `values[i % len]`): each multiplies the amounts of that
    /// request's steps. Empty: every request has value 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<u32>,
}

fn one() -> u32 {
    1
}

fn one_ms() -> u64 {
    1
}

impl Default for WorkloadFile {
    fn default() -> Self {
        WorkloadFile {
            transactions: 1,
            start_ms: 1,
            interval_ms: 0,
            values: Vec::new(),
        }
    }
}

/// Planned failures of one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureFile {
    /// The step's name.
    pub step: String,
    /// Business rejection (never retried).
    #[serde(default)]
    pub reject: bool,
    /// Probability of a transient error per attempt.
    #[serde(default)]
    pub transient_probability: f64,
    /// Extra time before the reply.
    #[serde(default)]
    pub reply_delay_ms: u64,
    /// Do the work but drop the reply for the first N attempts.
    #[serde(default)]
    pub silent_replies: u8,
    /// The compensation always fails.
    #[serde(default)]
    pub compensation_fails: bool,
    /// Only these transactions (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub txs: Vec<u32>,
}

/// One fault; exactly one of `crash`, `restart`, `partition`, `heal`,
/// `drop`, `duplicate`, `delay`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    /// When (0 if left out; leave it out for a fault tied to an event).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub at_ms: u64,
    /// Crash this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<String>,
    /// Restart this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    /// Start this partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<PartitionFile>,
    /// Heal the partition of this name, or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal: Option<String>,
    // Faults tied to events and message faults (docs/scenarios.md, "Faults
    // tied to events"): a self-contained block.
    /// Only in this protocol's run (`2pc`, `orchestrated`, `choreographed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Instead of `at_ms`: right after this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<EventFile>,
    /// Time from the event to the fault (for `drop` and `duplicate`: from
    /// the message's send, while it is on the wire). Decimals count down to
    /// the microsecond, so a branch saved from the UI replays exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<f64>,
    /// Drop the message this names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<MessageFile>,
    /// Deliver the message this names twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<MessageFile>,
    /// Deliver the message this names `ms` later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<MessageFile>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

impl Default for EventFile {
    /// The first occurrence of nothing yet named.
    fn default() -> Self {
        EventFile {
            event: None,
            node: None,
            record: None,
            message: None,
            from: None,
            to: None,
            nth: 1,
        }
    }
}

impl Default for MessageFile {
    /// The first message of no kind yet named.
    fn default() -> Self {
        MessageFile {
            message: String::new(),
            from: None,
            to: None,
            nth: 1,
            ms: None,
        }
    }
}

/// The event a fault waits for: a log write (`node`, `record`) or a
/// message (`message`, optional `from` and `to`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFile {
    /// `forced_write` or `lazy_write` (the default with a record),
    /// `delivered` (the default with a message) or `sent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Whose log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// A record kind (`commit`, `prepared`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// A message kind (`prepare`, `vote yes`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Only messages from this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Only messages to this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The Nth such event (default 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub nth: u32,
}

/// The Nth message of a kind (optionally from and to given nodes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageFile {
    /// A message kind (`prepare`, `vote yes`...).
    pub message: String,
    /// Only messages from this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Only messages to this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Which match (1 is the first put on the wire, network copies counted).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub nth: u32,
    /// For `delay` only: how much later it arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
}

/// A partition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionFile {
    /// Its name, for `heal`.
    pub name: String,
    /// One side.
    pub a: Vec<String>,
    /// The other side (default: every other node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<Vec<String>>,
    /// Block only `a → b`.
    #[serde(default)]
    pub one_way: bool,
}

/// Timeouts and retries, in milliseconds; unset fields keep their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingFile {
    /// 2PC: abort when votes are this late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_timeout_ms: Option<u64>,
    /// Resend an unacknowledged decision this often.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retransmit_ms: Option<u64>,
    /// 2PC: an in-doubt participant asks this often.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inquiry_ms: Option<u64>,
    /// 2PC: give up waiting for a lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_wait_ms: Option<u64>,
    /// Saga step reply timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_timeout_ms: Option<u64>,
    /// Attempts per step before failing backward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Retry backoff base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_base_ms: Option<u64>,
    /// Retry backoff cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_max_ms: Option<u64>,
    /// Compensation attempts before the saga is stuck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation_attempts: Option<u32>,
    /// Gap between a 2PC decision's log write and its sends; also the gap
    /// before a choreographed service's separate publish without outbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_send_delay_ms: Option<u64>,
    /// Broker redelivery interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redelivery_ms: Option<u64>,
    /// Orchestrated saga deadline (fail backward if not past the pivot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saga_deadline_ms: Option<u64>,
    /// The client asks again after this long without an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_retry_ms: Option<u64>,
}

/// Narration shown by the UI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Narration {
    /// At this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// Or at the first event of this kind (`crash`, `restart`, `partition`,
    /// `heal`, `decision`, `in_doubt`, `compensation`, `stuck`, `retry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// The text.
    pub text: String,
    /// The line concerns only this protocol's run (default: all three).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<crate::protocols::Protocol>,
}

/// What a protocol is expected to do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Outcome counts (`committed = 1`); unlisted outcomes are not checked.
    #[serde(default)]
    pub outcomes: BTreeMap<String, u32>,
    /// Exactly the invariants that must be reported (each at least once,
    /// and no other); empty means no violation at all.
    #[serde(default)]
    pub violations: Vec<String>,
    /// Instead of `violations`: invariants that must be reported, others
    /// allowed too (for a run broken on purpose whose side effects vary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations_at_least: Vec<String>,
    /// Final amounts, as `"service.resource" = amount`.
    #[serde(default, rename = "final", skip_serializing_if = "BTreeMap::is_empty")]
    pub final_state: BTreeMap<String, i64>,
    /// Lower bounds on metrics (`anomalies = 1`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub at_least: BTreeMap<String, f64>,
    /// Upper bounds on metrics (`anomalies = 0`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub at_most: BTreeMap<String, f64>,
    /// Transactions that no anomaly instance may name, as reader, writer
    /// or victim (`anomaly_free = [1, 5]`: the requests a countermeasure
    /// such as `by_value` protects).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomaly_free: Vec<u32>,
}

/// `[explore]`: a schedule written by `txlab explore`. The protocol named
/// here runs in chosen mode (the asynchronous model: nothing ordered by
/// time) and takes exactly these steps, then stops; the other protocols run
/// as the rest of the file says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExploreFile {
    /// The protocol the path was found in.
    pub protocol: crate::protocols::Protocol,
    /// The invariant the path breaks (empty: none; shown by the UI).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub invariant: String,
    /// The steps, in words: `deliver #7`, `drop #7`, `duplicate #7`,
    /// `timer NODE ID`, `write NODE`, `crash NODE`, `restart NODE`. Words
    /// after these (such as `coordinator→payment`) are a reader's aid.
    pub path: Vec<String>,
}
