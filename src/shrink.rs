//! Shrinking a failing scenario: drop faults, transactions and network
//! trouble one at a time for as long as the same invariant still breaks
//! (greedy delta debugging). What is left is the smallest schedule this
//! search finds that still shows the bug, ready to replay step by step.

use txlab_sim::lab::run;
use txlab_sim::lab::scenario::format::ScenarioFile;
use txlab_sim::lab::scenario::{Limits, Scenario};
use txlab_sim::protocols::Protocol;

/// The invariants `scenario` breaks, over all three protocols.
pub fn broken(scenario: &Scenario) -> Vec<String> {
    let mut v: Vec<String> = Protocol::ALL
        .iter()
        .flat_map(|p| {
            let mut spec = scenario.spec_for(*p);
            spec.recording = false;
            run(&spec).report.violations
        })
        .map(|v| v.invariant)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether `file` is valid and still breaks `invariant`.
fn still_fails(file: &ScenarioFile, invariant: &str) -> Option<Scenario> {
    let s = Scenario::from_file(file.clone(), "shrink", Limits::default()).ok()?;
    broken(&s).iter().any(|v| v == invariant).then_some(s)
}

/// Smaller variants of `file`, most aggressive first.
fn candidates(file: &ScenarioFile) -> Vec<ScenarioFile> {
    let mut out = Vec::new();
    // Each fault alone, and each fault with its partner (a crash with the
    // restart of the same node, a partition with its heal): removing one
    // half alone may leave the file invalid.
    for i in 0..file.faults.len() {
        let mut f = file.clone();
        let fault = f.faults.remove(i);
        out.push(f.clone());
        let partner = f.faults.iter().position(|g| {
            (fault.crash.is_some() && g.restart == fault.crash)
                || (fault
                    .partition
                    .as_ref()
                    .is_some_and(|p| g.heal.as_deref() == Some(&p.name)))
        });
        if let Some(j) = partner {
            f.faults.remove(j);
            out.push(f);
        }
    }
    if file.workload.transactions > 1 {
        for n in [
            1,
            file.workload.transactions / 2,
            file.workload.transactions - 1,
        ] {
            let mut f = file.clone();
            f.workload.transactions = n.max(1);
            // Failures that name transactions past the new count go too.
            for fl in &mut f.failures {
                fl.txs.retain(|t| *t < n.max(1));
            }
            out.push(f);
        }
    }
    for (loss, dup) in [(0.0, file.network.duplicate), (file.network.loss, 0.0)] {
        if (loss, dup) != (file.network.loss, file.network.duplicate) {
            let mut f = file.clone();
            f.network.loss = loss;
            f.network.duplicate = dup;
            out.push(f);
        }
    }
    out
}

/// Shrink `scenario` while it still breaks `invariant`.
pub fn shrink(scenario: &Scenario, invariant: &str) -> Scenario {
    let mut best = scenario.clone();
    // Each accepted step removes something, so this ends; the bound is a
    // guard against a pathological file.
    for _ in 0..500 {
        let next = candidates(&best.file)
            .into_iter()
            .find_map(|c| still_fails(&c, invariant));
        match next {
            Some(s) => best = s,
            None => break,
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_that_needs_no_fault_sheds_every_fault() {
        let text = crate::library::get("duplicate-payment").unwrap();
        let mut s = Scenario::parse(text.as_bytes(), "duplicate-payment").unwrap();
        // Add noise the bug does not need: two crashes and more bookings.
        s.file.workload.transactions = 4;
        for (at, node) in [(5, "car"), (9, "hotel")] {
            s.file
                .faults
                .push(txlab_sim::lab::scenario::format::FaultFile {
                    at_ms: at,
                    crash: Some(node.into()),
                    ..Default::default()
                });
            s.file
                .faults
                .push(txlab_sim::lab::scenario::format::FaultFile {
                    at_ms: at + 40,
                    restart: Some(node.into()),
                    ..Default::default()
                });
        }
        let s = Scenario::from_file(s.file, "noisy", Limits::default()).unwrap();
        assert!(broken(&s).contains(&"at_most_once".to_string()));
        let small = shrink(&s, "at_most_once");
        assert!(small.file.faults.is_empty(), "{:?}", small.file.faults);
        assert_eq!(small.file.workload.transactions, 1);
        assert!(broken(&small).contains(&"at_most_once".to_string()));
    }

    #[test]
    fn a_crash_the_bug_needs_is_kept() {
        let text = crate::library::get("lost-event-no-outbox").unwrap();
        let s = Scenario::parse(text.as_bytes(), "lost-event-no-outbox").unwrap();
        let small = shrink(&s, "event_iff_commit");
        assert!(
            small
                .file
                .faults
                .iter()
                .any(|f| f.crash.as_deref() == Some("hotel"))
        );
        assert!(broken(&small).contains(&"event_iff_commit".to_string()));
    }
}
