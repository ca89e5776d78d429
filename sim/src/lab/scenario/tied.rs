//! Validation of faults tied to events, message faults and faults for one
//! protocol (docs/scenarios.md, "Faults tied to events"). Every word is
//! checked against the protocols' vocabulary and every node against the
//! scenario, so a typo is an error with its position, never a fault that
//! silently never fires.

use super::ScenarioError;
use super::format::{EventFile, FaultFile, MessageFile};
use super::validate::Validator;
use crate::engine::{
    EventFault, Fault, MessageAction, MessageFault, MessageMatch, NodeId, SimTime, Trigger,
};
use crate::lab::{Planned, PlannedFault};
use crate::protocols::Protocol;
use crate::protocols::vocabulary::{MESSAGES, RECORDS, Role, is_message_word, is_record_word};

/// Events a fault can be tied to.
pub const EVENTS: [&str; 4] = ["forced_write", "lazy_write", "delivered", "sent"];

impl Validator<'_> {
    /// The fault's `protocol`, if it names one.
    pub(super) fn fault_protocol(
        &self,
        i: usize,
        fl: &FaultFile,
    ) -> Result<Option<Protocol>, ScenarioError> {
        let Some(name) = &fl.protocol else {
            return Ok(None);
        };
        match Protocol::ALL.iter().find(|p| p.name() == name) {
            Some(p) => Ok(Some(*p)),
            None => self.err(
                format!("faults[{i}].protocol"),
                format!("unknown protocol \"{name}\" (known: 2pc, orchestrated, choreographed)"),
            ),
        }
    }

    /// `delay_ms` as a time (decimals count to the microsecond).
    fn delay(&self, i: usize, fl: &FaultFile) -> Result<SimTime, ScenarioError> {
        let Some(ms) = fl.delay_ms else {
            return Ok(SimTime::ZERO);
        };
        let max = self.limits.max_horizon_ms as f64;
        if !(ms.is_finite() && (0.0..=max).contains(&ms)) {
            return self.err(
                format!("faults[{i}].delay_ms"),
                format!("{ms} is not a time in 0..={max} ms"),
            );
        }
        Ok(SimTime((ms * 1_000.0).round() as u64))
    }

    fn nth(&self, field: String, nth: u32) -> Result<u32, ScenarioError> {
        if nth == 0 {
            return self.err(field, "nth counts from 1 (the first match)");
        }
        Ok(nth)
    }

    fn message_word(
        &self,
        field: String,
        word: &str,
        protocol: Option<Protocol>,
    ) -> Result<String, ScenarioError> {
        if is_message_word(word, protocol) {
            return Ok(word.to_string());
        }
        let known: Vec<&str> = MESSAGES
            .iter()
            .filter(|(p, _, _)| p.is_none() || protocol.is_none() || *p == protocol)
            .map(|(_, w, _)| *w)
            .collect();
        self.err(
            field,
            format!(
                "unknown message kind \"{word}\" (known: {})",
                known.join(", ")
            ),
        )
    }

    fn matcher(
        &self,
        field: &dyn Fn(&str) -> String,
        kind: &str,
        from: Option<&String>,
        to: Option<&String>,
        protocol: Option<Protocol>,
    ) -> Result<MessageMatch, ScenarioError> {
        let node = |k: &str, n: Option<&String>| -> Result<Option<NodeId>, ScenarioError> {
            n.map(|n| self.node(field(k), n)).transpose()
        };
        Ok(MessageMatch {
            kind: self.message_word(field("message"), kind, protocol)?,
            from: node("from", from)?,
            to: node("to", to)?,
        })
    }

    /// A message fault (`drop`, `duplicate` or `delay`), if this is one.
    pub(super) fn message_fault(
        &self,
        i: usize,
        fl: &FaultFile,
        protocol: Option<Protocol>,
    ) -> Result<Option<PlannedFault>, ScenarioError> {
        let given = [
            ("drop", &fl.drop),
            ("duplicate", &fl.duplicate),
            ("delay", &fl.delay),
        ];
        let mut named = given
            .iter()
            .filter_map(|(k, m)| m.as_ref().map(|m| (*k, m)));
        let Some((key, m)) = named.next() else {
            return Ok(None);
        };
        let others = fl.crash.is_some()
            || fl.restart.is_some()
            || fl.partition.is_some()
            || fl.heal.is_some()
            || named.next().is_some();
        if others || fl.after.is_some() || fl.at_ms != 0 {
            let msg = "a message fault gives one of drop, duplicate, delay, and no at_ms, \
                       after or other action: the message itself is the event";
            return self.err(format!("faults[{i}]"), msg);
        }
        let field = |k: &str| format!("faults[{i}].{key}.{k}");
        let matcher = self.matcher(&field, &m.message, m.from.as_ref(), m.to.as_ref(), protocol)?;
        let action = self.message_action(i, key, fl, m)?;
        let after = fl.delay_ms.map(|_| self.delay(i, fl)).transpose()?;
        let fault = MessageFault {
            matcher,
            nth: self.nth(field("nth"), m.nth)?,
            after,
            action,
        };
        Ok(Some(PlannedFault {
            protocol,
            fault: Planned::Message(fault),
        }))
    }

    fn message_action(
        &self,
        i: usize,
        key: &str,
        fl: &FaultFile,
        m: &MessageFile,
    ) -> Result<MessageAction, ScenarioError> {
        let field = format!("faults[{i}].{key}.ms");
        match (key, m.ms) {
            ("delay", Some(ms)) if fl.delay_ms.is_some() => {
                let msg = format!("a delay applies as the message is sent; drop delay_ms ({ms})");
                self.err(format!("faults[{i}].delay_ms"), msg)
            }
            ("delay", Some(ms)) if (1..=self.limits.max_horizon_ms).contains(&ms) => {
                Ok(MessageAction::Delay(SimTime::from_millis(ms)))
            }
            ("delay", _) => self.err(field, "a delay needs ms = how much later (at least 1)"),
            (_, Some(_)) => self.err(field, "ms belongs to delay only"),
            ("drop", None) => Ok(MessageAction::Drop),
            _ => Ok(MessageAction::Duplicate),
        }
    }

    /// The fault as planned: at its time, or tied to its event; `None`
    /// when it is an ordinary fault of every protocol's time schedule.
    pub(super) fn planned(
        &self,
        i: usize,
        fl: &FaultFile,
        fault: Fault,
        protocol: Option<Protocol>,
    ) -> Result<Option<PlannedFault>, ScenarioError> {
        let Some(after) = &fl.after else {
            if fl.delay_ms.is_some() {
                return self.err(format!("faults[{i}].delay_ms"), "delay_ms needs after");
            }
            let at = crate::engine::ScheduledFault::new(SimTime::from_millis(fl.at_ms), fault);
            return Ok(protocol.map(|p| PlannedFault {
                protocol: Some(p),
                fault: Planned::At(at),
            }));
        };
        if fl.at_ms != 0 {
            return self.err(
                format!("faults[{i}].at_ms"),
                "give at_ms or after, not both",
            );
        }
        let fault = EventFault {
            trigger: self.trigger(i, after, protocol)?,
            nth: self.nth(format!("faults[{i}].after.nth"), after.nth)?,
            delay: self.delay(i, fl)?,
            fault,
        };
        Ok(Some(PlannedFault {
            protocol,
            fault: Planned::After(fault),
        }))
    }

    fn trigger(
        &self,
        i: usize,
        e: &EventFile,
        protocol: Option<Protocol>,
    ) -> Result<Trigger, ScenarioError> {
        let field = |k: &str| format!("faults[{i}].after.{k}");
        let default = if e.message.is_some() {
            "delivered"
        } else {
            "forced_write"
        };
        let event = e.event.as_deref().unwrap_or(default);
        let write = matches!(event, "forced_write" | "lazy_write");
        if !EVENTS.contains(&event) {
            let msg = format!("unknown event \"{event}\" (known: {})", EVENTS.join(", "));
            return self.err(field("event"), msg);
        }
        if !write {
            let Some(kind) = &e.message else {
                return self.err(field("message"), format!("a {event} event names a message"));
            };
            if e.node.is_some() || e.record.is_some() {
                return self.err(field("node"), "a message event has from and to, not node");
            }
            let m = self.matcher(&field, kind, e.from.as_ref(), e.to.as_ref(), protocol)?;
            return Ok(match event {
                "sent" => Trigger::Sent(m),
                _ => Trigger::Delivered(m),
            });
        }
        let (Some(node), Some(record)) = (&e.node, &e.record) else {
            return self.err(field("record"), "a write event names a node and a record");
        };
        if e.message.is_some() || e.from.is_some() || e.to.is_some() {
            return self.err(field("message"), "a write event has node and record only");
        }
        let id = self.node(field("node"), node)?;
        self.record_word(field("record"), record, id, protocol)?;
        Ok(Trigger::Written {
            node: id,
            record: record.clone(),
            forced: event == "forced_write",
        })
    }

    fn record_word(
        &self,
        field: String,
        word: &str,
        node: NodeId,
        protocol: Option<Protocol>,
    ) -> Result<(), ScenarioError> {
        let services = self.file.services.len() as u32;
        let role = match node.0 {
            0 => Role::Central,
            n if n <= services => Role::Service,
            _ => return self.err(field, "this node keeps no log"),
        };
        if is_record_word(word, role, protocol) {
            return Ok(());
        }
        let mut known: Vec<&str> = RECORDS
            .iter()
            .filter(|(p, r, _, _)| *r == role && protocol.is_none_or(|q| q == *p))
            .map(|(_, _, w, _)| *w)
            .collect();
        known.sort();
        known.dedup();
        self.err(
            field,
            format!(
                "unknown record \"{word}\" for this node (known: {})",
                known.join(", ")
            ),
        )
    }
}
