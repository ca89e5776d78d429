//! Messages in the workload's words: "reserve hotel T0", "charged sam 100
//! T0", "refund sam 100 T0" rather than "action step 1 T0 try 1" or
//! "publish step 3 done T0". The protocol's own words (prepare, vote,
//! commit) stay, since they are what the lesson is about; saga steps are
//! named by what they do. Also the one-line key to transaction ids.

use txlab_sim::protocols::Msg;
use txlab_sim::protocols::saga_choreographed::{self as choreo, EventKind};
use txlab_sim::protocols::saga_orchestrated as orch;
use txlab_sim::protocols::saga_step::StepReply;
use txlab_sim::protocols::workload::{Op, StepId, Workflow};

/// A verb in the past tense ("reserve" → "reserved", "book" → "booked").
fn past(verb: &str) -> String {
    if verb.ends_with('e') {
        format!("{verb}d")
    } else {
        format!("{verb}ed")
    }
}

/// What a step acts on: the service when it takes one unit ("hotel"),
/// else the resource and the amount ("sam 100").
fn object(wf: &Workflow, step: StepId) -> String {
    let Some(s) = wf.steps.get(step.index()) else {
        return format!("step {}", step.0);
    };
    if s.amount == 1 {
        wf.services
            .get(s.service.index())
            .map_or_else(|| s.resource.clone(), |svc| svc.name.clone())
    } else {
        format!("{} {}", s.resource, s.amount)
    }
}

/// The verb of `op` on `step` ("reserve", "refund").
fn verb(wf: &Workflow, step: StepId, op: Op) -> String {
    match (wf.steps.get(step.index()), op) {
        (Some(s), Op::Action) => s.action.clone(),
        (Some(s), Op::Compensation) => s.compensation.clone(),
        (None, Op::Action) => "do".into(),
        (None, Op::Compensation) => "undo".into(),
    }
}

/// "reserve hotel" / "refund sam 100".
pub fn doing(wf: &Workflow, step: StepId, op: Op) -> String {
    format!("{} {}", verb(wf, step, op), object(wf, step))
}

/// "reserved hotel" / "refunded sam 100".
pub fn done(wf: &Workflow, step: StepId, op: Op) -> String {
    format!("{} {}", past(&verb(wf, step, op)), object(wf, step))
}

fn event(wf: &Workflow, kind: &EventKind) -> String {
    match kind {
        EventKind::Requested => "trip requested".into(),
        EventKind::StepDone(s) => done(wf, *s, Op::Action),
        EventKind::StepFailed(s) => format!("{} failed", doing(wf, *s, Op::Action)),
        EventKind::Compensated(s) => done(wf, *s, Op::Compensation),
        EventKind::CompensationFailed(s) => {
            format!("{} failed", doing(wf, *s, Op::Compensation))
        }
        EventKind::Ended(o) => format!("saga {}", o.name()),
    }
}

/// A message's label in the workload's words, falling back to the
/// protocol's own label for messages that are protocol words already.
pub fn message(m: &Msg, wf: &Workflow) -> String {
    match m {
        Msg::Saga(orch::Msg::Command {
            tx,
            step,
            op,
            attempt,
        }) => {
            let again = if *attempt > 1 {
                format!(" (try {attempt})")
            } else {
                String::new()
            };
            format!("{} {tx}{again}", doing(wf, *step, *op))
        }
        Msg::Saga(orch::Msg::Reply {
            tx,
            step,
            op,
            reply,
            ..
        }) => match reply {
            StepReply::Done => format!("{} {tx}", done(wf, *step, *op)),
            other => format!("{}: {other} {tx}", doing(wf, *step, *op)),
        },
        Msg::Choreo(choreo::Msg::Deliver { seq, event: e }) => {
            format!("{} {} #{seq}", event(wf, &e.kind), e.tx)
        }
        Msg::Choreo(choreo::Msg::Ack { seq }) => format!("ack #{seq}"),
        Msg::Choreo(choreo::Msg::Publish { event: e }) => {
            format!("publish: {} {}", event(wf, &e.kind), e.tx)
        }
        Msg::Choreo(choreo::Msg::PublishAck { event: e }) => {
            format!("stored: {} {}", event(wf, &e.kind), e.tx)
        }
        _ => m.label(),
    }
}

/// The key to transaction ids, said once (in the help): "T0 = the first
/// trip (book car → … → charge card), arriving at 1 ms".
pub fn transactions(wf: &Workflow) -> String {
    let steps: Vec<&str> = wf.steps.iter().map(|s| s.name.as_str()).collect();
    let ms = |t: txlab_sim::engine::SimTime| t.0 as f64 / 1_000.0;
    let first = ms(wf.arrival.start);
    match wf.transactions {
        1 => format!(
            "T0 = the one transaction ({}), arriving at {first} ms",
            steps.join(" → ")
        ),
        n => format!(
            "T0…T{} = {n} transactions, each {}; T0 arrives at {first} ms, then one every {} ms",
            n - 1,
            steps.join(" → "),
            ms(wf.arrival.interval)
        ),
    }
}

/// A label shortened for `room` columns but still readable: the longest
/// words first cut to three letters and a dot ("reserved hotel T0" →
/// "res. hotel T0"), the transaction id kept; only then an ellipsis.
pub fn abbreviate(label: &str, room: usize) -> String {
    let mut words: Vec<String> = label.split(' ').map(String::from).collect();
    let len = |w: &[String]| w.iter().map(|x| x.chars().count()).sum::<usize>() + w.len() - 1;
    while len(&words) > room {
        let longest = words
            .iter()
            .enumerate()
            .filter(|(_, w)| w.chars().count() > 4 && w.chars().all(char::is_alphabetic))
            .max_by_key(|(i, w)| (w.chars().count(), std::cmp::Reverse(*i)));
        let Some((i, _)) = longest else { break };
        let mut cut: String = words[i].chars().take(3).collect();
        cut.push('.');
        words[i] = cut;
    }
    let short = words.join(" ");
    if short.chars().count() <= room {
        return short;
    }
    match room {
        0 => String::new(),
        n => {
            let mut t: String = short.chars().take(n - 1).collect();
            t.push('…');
            t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_tense_and_abbreviations_read() {
        assert_eq!(past("reserve"), "reserved");
        assert_eq!(past("charge"), "charged");
        assert_eq!(past("book"), "booked");
        assert_eq!(abbreviate("reserved hotel T0", 40), "reserved hotel T0");
        assert_eq!(abbreviate("reserved hotel T0", 14), "res. hotel T0");
        assert_eq!(abbreviate("reserved hotel T0", 5), "res.…");
    }
}
