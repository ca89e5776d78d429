//! The lessons as a workshop uses them: every narration line and question
//! is reached in its run (in the protocol it names), every lesson asks at
//! least two questions whose answers are among the choices, and every
//! lesson has a takeaway for the handout and the guide.

use txlab::library::LIBRARY;
use txlab_sim::engine::SimTime;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;
use txlab_tui::moments::matches_on;
use txlab_tui::recording::{PaneRun, Recording};

/// Whether a line tied to `at_ms` or `on` is reached in `pane`.
fn reached(pane: &PaneRun, at_ms: Option<u64>, on: Option<&str>) -> bool {
    let events = pane.world.trace().events();
    match (at_ms, on) {
        (Some(ms), _) => events
            .last()
            .is_some_and(|e| e.time >= SimTime::from_millis(ms)),
        (None, Some(on)) => (0..events.len()).any(|i| matches_on(pane, i, on)),
        _ => false,
    }
}

/// The panes a line concerns: the one it names, or any of the three.
fn fires(rec: &Recording, protocol: Option<Protocol>, at: Option<u64>, on: Option<&str>) -> bool {
    rec.panes
        .iter()
        .filter(|p| protocol.is_none_or(|q| q == p.protocol))
        .any(|p| reached(p, at, on))
}

fn lessons() -> Vec<Scenario> {
    LIBRARY
        .iter()
        .map(|(n, t)| Scenario::parse(t.as_bytes(), n).unwrap())
        .collect()
}

#[test]
fn every_narration_line_fires_in_the_run_it_concerns() {
    let mut never = Vec::new();
    for s in lessons() {
        let rec = Recording::new(s.clone(), vec![]);
        for (i, n) in s.file.narration.iter().enumerate() {
            let ok = fires(&rec, n.protocol, n.at_ms, n.on.as_deref());
            // The UI's own cursor agrees: the line is shown at some point.
            if !ok || rec.narration_at[i].is_none() {
                never.push(format!("{}: narration {i} \"{}\"", s.name(), n.text));
            }
        }
    }
    assert!(never.is_empty(), "never shown:\n{}", never.join("\n"));
}

/// The strip shows the latest line in file order that has fired, so a
/// line written after one that fires later would never be seen: lines are
/// in the order they fire.
#[test]
fn narration_lines_are_written_in_the_order_they_fire() {
    let mut out = Vec::new();
    for s in lessons() {
        let rec = Recording::new(s.clone(), vec![]);
        let at: Vec<usize> = rec.narration_at.iter().flatten().copied().collect();
        if at.windows(2).any(|w| w[0] > w[1]) {
            out.push(format!("{}: {:?}", s.name(), rec.narration_at));
        }
    }
    assert!(out.is_empty(), "out of order:\n{}", out.join("\n"));
}

#[test]
fn every_lesson_asks_two_questions_that_can_be_asked_and_answered() {
    let mut problems = Vec::new();
    for s in lessons() {
        let qs = &s.file.question;
        if qs.len() < 2 {
            problems.push(format!("{}: {} questions", s.name(), qs.len()));
        }
        let rec = Recording::new(s.clone(), vec![]);
        for (i, q) in qs.iter().enumerate() {
            if q.answer >= q.choices.len() || q.explain.trim().is_empty() {
                problems.push(format!("{}: question {i} has no valid answer", s.name()));
            }
            if !fires(&rec, q.protocol, q.at_ms, q.on.as_deref()) {
                problems.push(format!("{}: question {i} is never asked", s.name()));
            }
        }
        if s.file.takeaway.trim().is_empty() {
            problems.push(format!("{}: no takeaway", s.name()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Negative control: a line tied to an event that never happens in the
/// protocol it names is caught.
#[test]
fn a_line_that_never_fires_is_caught() {
    let text = LIBRARY.iter().find(|(n, _)| *n == "happy-path").unwrap().1;
    let s = Scenario::parse(text.as_bytes(), "happy-path").unwrap();
    let rec = Recording::new(s, vec![]);
    assert!(!fires(&rec, None, None, Some("stuck")));
    assert!(!fires(
        &rec,
        Some(Protocol::Orchestrated),
        None,
        Some("decision")
    ));
    assert!(fires(&rec, Some(Protocol::TwoPc), None, Some("decision")));
    assert!(!fires(&rec, None, Some(3_600_000), None));
}

fn lesson(name: &str) -> Scenario {
    let text = LIBRARY.iter().find(|(n, _)| *n == name).unwrap().1;
    Scenario::parse(text.as_bytes(), name).unwrap()
}

/// choreography-tracing's claim: while the flight consumer is down, the
/// tracker (built from the bus events alone, by correlation id) places
/// each booking after its second step; once it is back, all complete.
#[test]
fn the_tracker_shows_where_each_choreographed_booking_waits() {
    use txlab_sim::lab::run;
    use txlab_sim::lab::tracker::{Tracked, track};
    let mut spec = lesson("choreography-tracing").spec_for(Protocol::Choreographed);
    spec.recording = true;
    let r = run(&spec);
    let obs = r.world.trace().observations();
    let until = |ms: u64| {
        let n = obs.partition_point(|o| o.time <= SimTime::from_millis(ms));
        track(&obs[..n])
    };
    let waiting: Vec<Tracked> = until(500).values().map(|t| t.state).collect();
    assert_eq!(waiting, vec![Tracked::Forward(2); 3], "car and hotel done");
    let end: Vec<Tracked> = track(obs).values().map(|t| t.state).collect();
    assert_eq!(end, vec![Tracked::Completed; 3]);
}

/// compensation-not-rollback's fee is accepted by conservation and
/// saga_shape, but a fee-keeping refund applied twice is still caught
/// (negative control): duplicates everywhere, idempotency off.
#[test]
fn a_compensation_that_keeps_a_fee_is_conserved_and_a_double_one_is_not() {
    use txlab_sim::lab::run;
    use txlab_sim::lab::scenario::overrides::apply;
    let s = lesson("compensation-not-rollback");
    let r = run(&s.spec_for(Protocol::Orchestrated)).report;
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert_eq!(r.final_state["payment"]["sam"], 950);
    let sets = ["network.duplicate=1.0", "toggles.idempotency=false"].map(String::from);
    let broken = apply(&s, &sets).unwrap();
    let r = run(&broken.spec_for(Protocol::Orchestrated)).report;
    let names: Vec<&str> = r.violations.iter().map(|v| v.invariant.as_str()).collect();
    assert!(names.contains(&"conservation"), "{names:?}");
    assert!(names.contains(&"at_most_once"), "{names:?}");
}
