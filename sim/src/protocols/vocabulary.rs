//! The words a scenario uses to name messages and log records, for faults
//! tied to events (`after = { message = "prepare", to = "payment" }`,
//! `drop = { message = "vote yes" }`, `record = "commit"`). They are the
//! words the UI's diagram and inspector show, so what a user sees on
//! screen is what they write in a file. The tables below are the stable,
//! documented vocabulary (docs/scenarios.md prints them); a kind word
//! names one kind of message of one protocol, whatever transaction,
//! step or attempt it is about.

use super::lab_node::{Msg, Record};
use super::workload::Op;
use super::{Protocol, saga_choreographed as choreo, saga_orchestrated as orch, two_pc};

/// Which nodes write a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The coordinator, orchestrator or broker.
    Central,
    /// A service (participant).
    Service,
}

/// A message kind: its protocol (`None`: every protocol) and what it is.
pub const MESSAGES: [(Option<Protocol>, &str, &str); 22] = [
    (
        Some(Protocol::TwoPc),
        "prepare",
        "coordinator → participant",
    ),
    (Some(Protocol::TwoPc), "vote", "either vote"),
    (
        Some(Protocol::TwoPc),
        "vote yes",
        "participant → coordinator",
    ),
    (
        Some(Protocol::TwoPc),
        "vote no",
        "participant → coordinator",
    ),
    (
        Some(Protocol::TwoPc),
        "commit",
        "the decision (or an answer to an inquiry)",
    ),
    (
        Some(Protocol::TwoPc),
        "abort",
        "the decision (or an answer to an inquiry)",
    ),
    (
        Some(Protocol::TwoPc),
        "ack",
        "participant → coordinator: decision applied",
    ),
    (
        Some(Protocol::TwoPc),
        "inquire",
        "an in-doubt participant asks",
    ),
    (Some(Protocol::Orchestrated), "command", "either command"),
    (
        Some(Protocol::Orchestrated),
        "action",
        "orchestrator → service: do the step",
    ),
    (
        Some(Protocol::Orchestrated),
        "compensation",
        "orchestrator → service: undo it",
    ),
    (
        Some(Protocol::Orchestrated),
        "reply",
        "service → orchestrator",
    ),
    (
        Some(Protocol::Orchestrated),
        "release",
        "orchestrator → service: clear marks",
    ),
    (
        Some(Protocol::Orchestrated),
        "release ack",
        "service → orchestrator",
    ),
    (
        Some(Protocol::Choreographed),
        "deliver",
        "broker → service: an event",
    ),
    (
        Some(Protocol::Choreographed),
        "ack",
        "service → broker: delivery processed",
    ),
    (
        Some(Protocol::Choreographed),
        "publish",
        "service → broker: append an event",
    ),
    (
        Some(Protocol::Choreographed),
        "stored",
        "broker → service: event appended",
    ),
    (None, "request", "client → central node"),
    (None, "answer", "central node → client: the outcome"),
    (None, "read", "auditor → service"),
    (None, "snapshot", "service → auditor"),
];

/// A record kind: its protocol, who writes it and what it says.
pub const RECORDS: [(Protocol, Role, &str, &str); 20] = [
    (
        Protocol::TwoPc,
        Role::Central,
        "commit",
        "the decision: commit",
    ),
    (
        Protocol::TwoPc,
        Role::Central,
        "abort",
        "the decision: abort",
    ),
    (
        Protocol::TwoPc,
        Role::Central,
        "end",
        "every acknowledgement is in",
    ),
    (
        Protocol::TwoPc,
        Role::Service,
        "prepared",
        "voted yes; in doubt from here",
    ),
    (
        Protocol::TwoPc,
        Role::Service,
        "committed",
        "the outcome: committed",
    ),
    (
        Protocol::TwoPc,
        Role::Service,
        "aborted",
        "the outcome: aborted",
    ),
    (
        Protocol::Orchestrated,
        Role::Central,
        "started",
        "the saga began",
    ),
    (
        Protocol::Orchestrated,
        Role::Central,
        "begin",
        "about to send a command",
    ),
    (
        Protocol::Orchestrated,
        Role::Central,
        "done",
        "a command's reply is in",
    ),
    (
        Protocol::Orchestrated,
        Role::Central,
        "failed",
        "the saga fails backward",
    ),
    (
        Protocol::Orchestrated,
        Role::Central,
        "end",
        "the saga ended",
    ),
    (
        Protocol::Orchestrated,
        Role::Central,
        "released",
        "every service released",
    ),
    (
        Protocol::Orchestrated,
        Role::Central,
        "gave up",
        "a parallel group's member given up, outcome unknown",
    ),
    (
        Protocol::Orchestrated,
        Role::Service,
        "local commit",
        "a local transaction",
    ),
    (
        Protocol::Orchestrated,
        Role::Service,
        "released",
        "pending marks cleared",
    ),
    (
        Protocol::Choreographed,
        Role::Central,
        "appended",
        "an event on the topic",
    ),
    (
        Protocol::Choreographed,
        Role::Central,
        "acked",
        "a consumer's offset",
    ),
    (
        Protocol::Choreographed,
        Role::Service,
        "commit",
        "local transaction + inbox + outbox",
    ),
    (
        Protocol::Choreographed,
        Role::Service,
        "relayed",
        "an outbox entry reached the broker",
    ),
    (
        Protocol::Choreographed,
        Role::Service,
        "joined",
        "an event of a parallel group's join kept until the last one",
    ),
];

/// Whether `word` names a message kind (of `protocol`, or of any).
pub fn is_message_word(word: &str, protocol: Option<Protocol>) -> bool {
    MESSAGES
        .iter()
        .any(|(p, w, _)| *w == word && (p.is_none() || protocol.is_none() || *p == protocol))
}

/// Whether `word` names a record that `role` writes (in `protocol`, or in
/// any).
pub fn is_record_word(word: &str, role: Role, protocol: Option<Protocol>) -> bool {
    RECORDS
        .iter()
        .any(|(p, r, w, _)| *w == word && *r == role && protocol.is_none_or(|q| q == *p))
}

/// A message's kind word, and the wider word it also answers to ("vote
/// yes" is also a "vote").
pub fn message_kind(msg: &Msg) -> (&'static str, Option<&'static str>) {
    use super::auditor::Msg as A;
    use super::client::Msg as Cl;
    use choreo::Msg as C;
    use two_pc::Msg as P;
    match msg {
        Msg::TwoPc(m) => match m {
            P::Prepare { .. } => ("prepare", None),
            P::Vote { yes: true, .. } => ("vote yes", Some("vote")),
            P::Vote { yes: false, .. } => ("vote no", Some("vote")),
            P::Commit { .. } => ("commit", None),
            P::Abort { .. } => ("abort", None),
            P::Ack { .. } => ("ack", None),
            P::Inquire { .. } => ("inquire", None),
        },
        Msg::Saga(m) => match m {
            orch::Msg::Command { op: Op::Action, .. } => ("action", Some("command")),
            orch::Msg::Command {
                op: Op::Compensation,
                ..
            } => ("compensation", Some("command")),
            orch::Msg::Reply { .. } => ("reply", None),
            orch::Msg::Release { .. } => ("release", None),
            orch::Msg::ReleaseAck { .. } => ("release ack", None),
        },
        Msg::Choreo(m) => match m {
            C::Deliver { .. } => ("deliver", None),
            C::Ack { .. } => ("ack", None),
            C::Publish { .. } => ("publish", None),
            C::PublishAck { .. } => ("stored", None),
        },
        Msg::Client(Cl::Request { .. }) => ("request", None),
        Msg::Client(Cl::Answer { .. }) => ("answer", None),
        Msg::Audit(A::Read) => ("read", None),
        Msg::Audit(A::Snapshot { .. }) => ("snapshot", None),
    }
}

/// Whether `msg` answers to `word`.
pub fn message_is(msg: &Msg, word: &str) -> bool {
    let (kind, wider) = message_kind(msg);
    kind == word || wider == Some(word)
}

/// A record's kind word.
pub fn record_kind(record: &Record) -> &'static str {
    match record {
        Record::TwoPc(r) => match r {
            two_pc::Record::Decision { commit: true, .. } => "commit",
            two_pc::Record::Decision { commit: false, .. } => "abort",
            two_pc::Record::End { .. } => "end",
            two_pc::Record::Prepared { .. } => "prepared",
            two_pc::Record::Outcome { commit: true, .. } => "committed",
            two_pc::Record::Outcome { commit: false, .. } => "aborted",
        },
        Record::Saga(r) => match r {
            orch::Record::Started { .. } => "started",
            orch::Record::Begin { .. } => "begin",
            orch::Record::Done { .. } => "done",
            orch::Record::Failed { .. } => "failed",
            orch::Record::End { .. } => "end",
            orch::Record::Released { .. } => "released",
            orch::Record::GaveUp { .. } => "gave up",
        },
        Record::Choreo(r) => match r {
            choreo::Record::Appended { .. } => "appended",
            choreo::Record::Acked { .. } => "acked",
            choreo::Record::Commit { .. } => "commit",
            choreo::Record::Relayed { .. } => "relayed",
            choreo::Record::Joined { .. } => "joined",
        },
        Record::Local(_) => "local commit",
        Record::Release { .. } => "released",
        Record::Custom(_) => "state",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::workload::TxId;

    #[test]
    fn every_kind_a_message_reports_is_in_the_table() {
        let tx = TxId(0);
        let samples = [
            Msg::TwoPc(two_pc::Msg::Vote { tx, yes: true }),
            Msg::TwoPc(two_pc::Msg::Inquire { tx }),
            Msg::Choreo(choreo::Msg::Ack { seq: 1 }),
            Msg::Audit(super::super::auditor::Msg::Read),
        ];
        for m in &samples {
            let (kind, wider) = message_kind(m);
            assert!(is_message_word(kind, None), "{kind}");
            assert!(wider.is_none_or(|w| is_message_word(w, None)));
        }
        assert!(message_is(&samples[0], "vote") && message_is(&samples[0], "vote yes"));
        assert!(!message_is(&samples[0], "vote no"));
    }

    #[test]
    fn words_belong_to_their_protocol_and_role() {
        assert!(is_message_word("prepare", Some(Protocol::TwoPc)));
        assert!(!is_message_word("prepare", Some(Protocol::Orchestrated)));
        assert!(is_message_word("request", Some(Protocol::Choreographed)));
        assert!(!is_message_word("prepar", None));
        assert!(is_record_word(
            "commit",
            Role::Central,
            Some(Protocol::TwoPc)
        ));
        assert!(!is_record_word(
            "commit",
            Role::Service,
            Some(Protocol::TwoPc)
        ));
        assert!(
            is_record_word("commit", Role::Service, None),
            "choreography"
        );
        assert!(!is_record_word("committed", Role::Central, None));
    }
}
