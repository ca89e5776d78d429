//! Shrinking a failing scenario: drop faults, transactions, network
//! trouble (loss, duplication, a slow disk, slow links, a long tail) and
//! slow or silent services one at a time for as long as the same invariant still breaks
//! (greedy delta debugging). What is left is the smallest schedule this
//! search finds that still shows the bug, ready to replay step by step.

use txlab_sim::lab::run;
use txlab_sim::lab::scenario::format::{FailureFile, LatencyFile, NetworkFile, ScenarioFile};
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
            // Failures that name only transactions past the new count go
            // too (an empty list would mean every transaction).
            f.failures.retain_mut(|fl| {
                let named = !fl.txs.is_empty();
                fl.txs.retain(|t| *t < n.max(1));
                !named || !fl.txs.is_empty()
            });
            out.push(f);
        }
    }
    out.extend(gentler_networks(file));
    out.extend(kinder_services(file));
    if file.timing.client_retry_ms.is_some() {
        // A patient client again (the default retry).
        let mut f = file.clone();
        f.timing.client_retry_ms = None;
        out.push(f);
    }
    out
}

/// The network with one kind of trouble less: no loss, no duplication, a
/// faster disk (instant, then half as slow), one link override fewer, no
/// long tail, no FIFO.
fn gentler_networks(file: &ScenarioFile) -> Vec<ScenarioFile> {
    let n = &file.network;
    let mut out = Vec::new();
    let mut with = |change: &dyn Fn(&mut NetworkFile)| {
        let mut f = file.clone();
        change(&mut f.network);
        if f.network != file.network {
            out.push(f);
        }
    };
    with(&|n| n.loss = 0.0);
    with(&|n| n.duplicate = 0.0);
    with(&|n| n.write_latency_ms = 0);
    with(&|n| n.write_latency_ms /= 2);
    for i in 0..n.links.len() {
        with(&|n| {
            n.links.remove(i);
        });
    }
    if let LatencyFile::Pareto { min_ms, .. } = n.latency {
        with(&|n| {
            n.latency = LatencyFile::Uniform {
                min_ms,
                max_ms: min_ms,
            }
        });
    }
    with(&|n| n.fifo = false);
    out
}

/// Planned failures one at a time: each dropped, then made prompt (no
/// reply delay) and talkative (no silent replies).
fn kinder_services(file: &ScenarioFile) -> Vec<ScenarioFile> {
    let mut out = Vec::new();
    for i in 0..file.failures.len() {
        let mut f = file.clone();
        f.failures.remove(i);
        out.push(f);
        let mut with = |change: &dyn Fn(&mut FailureFile)| {
            let mut f = file.clone();
            change(&mut f.failures[i]);
            if f.failures[i] != file.failures[i] {
                out.push(f);
            }
        };
        with(&|x| x.reply_delay_ms = 0);
        with(&|x| x.silent_replies = 0);
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
    use txlab_sim::lab::scenario::format::{FailureFile, LinkFile};

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
    fn a_violation_that_needs_no_slowness_sheds_the_slow_disk_links_and_services() {
        let text = crate::library::get("duplicate-payment").unwrap();
        let mut s = Scenario::parse(text.as_bytes(), "duplicate-payment").unwrap();
        let lesson = s.file.clone();
        // Slowness the bug does not need, kept under every timeout so it
        // causes no retry (a retry without idempotency would be a second
        // way to break at_most_once): a slow disk, a short tail, a slow
        // link, a slow service, FIFO.
        let n = &mut s.file.network;
        n.write_latency_ms = 4;
        n.fifo = true;
        n.latency = LatencyFile::Pareto {
            min_ms: 2,
            alpha: 2.0,
            max_ms: 12,
        };
        n.links.push(LinkFile {
            from: "hotel".into(),
            to: "coordinator".into(),
            latency: Some(LatencyFile::Uniform {
                min_ms: 5,
                max_ms: 12,
            }),
            loss: None,
            duplicate: None,
            fifo: None,
        });
        s.file.failures.push(FailureFile {
            step: "book flight".into(),
            reply_delay_ms: 8,
            ..FailureFile::default()
        });
        let s = Scenario::from_file(s.file, "slow", Limits::default()).unwrap();
        assert!(broken(&s).contains(&"at_most_once".to_string()));
        let small = shrink(&s, "at_most_once").file;
        assert_eq!(small.network.write_latency_ms, 0);
        assert!(!small.network.fifo);
        assert!(matches!(small.network.latency, LatencyFile::Uniform { .. }));
        // The duplicating link is the bug: it stays, alone.
        assert_eq!(small.network.links, lesson.network.links);
        assert!(small.failures.is_empty(), "{:?}", small.failures);
    }

    #[test]
    fn a_slow_silent_service_can_be_made_prompt_or_talkative() {
        let text = crate::library::get("happy-path").unwrap();
        let mut file = Scenario::parse(text.as_bytes(), "happy-path").unwrap().file;
        file.failures.push(FailureFile {
            step: "charge card".into(),
            reply_delay_ms: 30,
            silent_replies: 2,
            ..FailureFile::default()
        });
        let plans: Vec<(u64, u8)> = candidates(&file)
            .iter()
            .flat_map(|f| {
                f.failures
                    .iter()
                    .map(|x| (x.reply_delay_ms, x.silent_replies))
            })
            .collect();
        assert!(plans.contains(&(0, 2)), "{plans:?}");
        assert!(plans.contains(&(30, 0)), "{plans:?}");
    }

    #[test]
    fn a_message_fault_the_bug_needs_is_kept_and_its_repro_round_trips() {
        use txlab_sim::lab::scenario::format::{FaultFile, MessageFile};
        let text = crate::library::get("happy-path").unwrap();
        let mut file = Scenario::parse(text.as_bytes(), "happy-path").unwrap().file;
        file.toggles.idempotency = false;
        // The bug: the orchestrator's charge reaches payment twice. Noise:
        // a dropped answer to the client and a crash of the car service.
        let charge = MessageFile {
            message: "action".into(),
            to: Some("payment".into()),
            ..MessageFile::default()
        };
        file.faults.push(FaultFile {
            duplicate: Some(charge),
            ..FaultFile::default()
        });
        file.faults.push(FaultFile {
            drop: Some(MessageFile {
                message: "answer".into(),
                ..MessageFile::default()
            }),
            ..FaultFile::default()
        });
        for (at_ms, crash, restart) in [(3, Some("car"), None), (90, None, Some("car"))] {
            file.faults.push(FaultFile {
                at_ms,
                crash: crash.map(Into::into),
                restart: restart.map(Into::into),
                ..FaultFile::default()
            });
        }
        let s = Scenario::from_file(file, "dup", Limits::default()).unwrap();
        let small = shrink(&s, "at_most_once");
        assert_eq!(small.file.faults.len(), 1, "{:?}", small.file.faults);
        assert!(small.file.faults[0].duplicate.is_some());
        let again = Scenario::parse(small.to_toml().as_bytes(), "repro").unwrap();
        assert_eq!(again.file, small.file);
        assert!(broken(&again).contains(&"at_most_once".to_string()));
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
