//! Swarm testing: each seed draws its own network, slow services and
//! faults from its fault stream, on top of what the scenario sets.

use crate::knobs::Contracts;
use rand::RngExt;
use txlab_sim::engine::rng::{Stream, stream};
use txlab_sim::lab::scenario::format::{
    FailureFile, FaultFile, LatencyFile, LinkFile, MessageFile, PartitionFile, ScenarioFile,
};
use txlab_sim::lab::scenario::{Limits, Scenario, ScenarioError};
use txlab_sim::protocols::Protocol;

/// The scenario for `seed`: the base with that seed, and in swarm mode
/// with network and faults drawn from the seed.
pub fn seed_scenario(base: &Scenario, seed: u64, swarm: bool) -> Result<Scenario, ScenarioError> {
    if !swarm {
        return Ok(base.with_seed(seed));
    }
    swarm_scenario(base, seed, Contracts::Kept)
}

/// The swarm's scenario for `seed`, its draws keeping the
/// countermeasures' contracts or, for a negative control, not.
pub fn swarm_scenario(
    base: &Scenario,
    seed: u64,
    contracts: Contracts,
) -> Result<Scenario, ScenarioError> {
    let mut file = base.file.clone();
    file.seed = seed;
    swarm_faults(&mut file, seed, contracts);
    Scenario::from_file(
        file,
        &format!("{}#swarm-{seed}", base.origin),
        Limits::default(),
    )
}

/// Draw the seed's trouble from its fault stream (independent of the run's
/// own randomness): the network (loss, duplication, ordering, a slow disk,
/// a long tail, slow links), slow and silent services, crashes (one of the
/// central node while requests arrive), and a partition (one-way or
/// between two nodes), and a drop or duplicate of one chosen message. What the scenario itself sets is kept: its faults,
/// its link overrides and a write latency it chose.
fn swarm_faults(file: &mut ScenarioFile, seed: u64, contracts: Contracts) {
    let mut rng = stream(seed, Stream::Faults);
    let mut names: Vec<String> = vec!["coordinator".into()];
    names.extend(file.services.iter().map(|s| s.name.clone()));
    draw_network(file, &mut rng, &names);
    draw_slow_steps(file, &mut rng);
    // An impatient client: repeated requests reach a central node that is
    // still at work (unless the scenario sets its own patience).
    if rng.random_bool(0.3) && file.timing.client_retry_ms.is_none() {
        file.timing.client_retry_ms = Some(rng.random_range(10..300u64));
    }
    let mut crashes = Vec::new();
    for _ in 0..rng.random_range(0..=2u32) {
        let node = names[rng.random_range(0..names.len())].clone();
        let at = rng.random_range(0..200u64);
        crashes.push((node, at, at + rng.random_range(10..300u64)));
    }
    if rng.random_bool(0.25) {
        crashes.push(central_down_at_arrival(file, &mut rng));
    }
    let mut faults = valid_crashes(&file.faults, crashes);
    if rng.random_bool(0.5) {
        faults.extend(draw_partition(&mut rng, &names));
    }
    file.faults.extend(faults);
    file.faults.sort_by_key(|f| f.at_ms);
    // Drawn last, so every earlier draw of a seed stays what it was.
    if rng.random_bool(0.3) {
        file.faults.push(draw_message_fault(&mut rng));
    }
    // Registers, countermeasures, fees, groups, tied crashes: after all
    // the rest, for the same reason.
    crate::knobs::draw_workload_knobs(file, &mut rng, contracts);
}

/// Drop or duplicate the Nth message of one kind of one protocol: a
/// single narrow fault where random loss rarely lands ("search where bugs
/// live": the second PREPARE, the first reply, a repeated delivery).
fn draw_message_fault(rng: &mut impl RngExt) -> FaultFile {
    use txlab_sim::protocols::vocabulary::MESSAGES;
    let protocol = Protocol::ALL[rng.random_range(0..Protocol::ALL.len())];
    let words: Vec<&str> = MESSAGES
        .iter()
        .filter(|(p, _, _)| *p == Some(protocol))
        .map(|(_, w, _)| *w)
        .collect();
    let named = MessageFile {
        message: words[rng.random_range(0..words.len())].to_string(),
        nth: rng.random_range(1..=3u32),
        ..MessageFile::default()
    };
    let drop = rng.random_bool(0.5);
    FaultFile {
        protocol: Some(protocol.name().to_string()),
        drop: drop.then(|| named.clone()),
        duplicate: (!drop).then_some(named),
        ..FaultFile::default()
    }
}

/// Latency, loss, duplication, FIFO, the disk and up to two slow links.
fn draw_network(file: &mut ScenarioFile, rng: &mut impl RngExt, names: &[String]) {
    let n = &mut file.network;
    n.loss = f64::from(rng.random_range(0..=10u32)) / 100.0;
    n.duplicate = f64::from(rng.random_range(0..=20u32)) / 100.0;
    let write_latency_ms = rng.random_range(0..=20u64);
    if n.write_latency_ms == 0 {
        n.write_latency_ms = write_latency_ms;
    }
    if rng.random_bool(0.2) {
        n.fifo = true;
    }
    if rng.random_bool(0.2) {
        // A long tail over the scenario's own fastest delivery.
        let min_ms = match n.latency {
            LatencyFile::Uniform { min_ms, .. } | LatencyFile::Pareto { min_ms, .. } => min_ms,
        };
        n.latency = LatencyFile::Pareto {
            min_ms: min_ms.max(1),
            alpha: f64::from(rng.random_range(10..=30u32)) / 10.0,
            max_ms: rng.random_range(100..=500u64),
        };
    }
    for _ in 0..rng.random_range(0..=2u32) {
        let from = names[rng.random_range(0..names.len())].clone();
        let to = names[rng.random_range(0..names.len())].clone();
        let min_ms = rng.random_range(0..20u64);
        let link = LinkFile {
            latency: Some(LatencyFile::Uniform {
                min_ms,
                max_ms: min_ms + rng.random_range(0..200u64),
            }),
            loss: None,
            duplicate: rng
                .random_bool(0.3)
                .then(|| f64::from(rng.random_range(0..=50u32)) / 100.0),
            fifo: None,
            from,
            to,
        };
        // The scenario's own overrides are its lesson: leave them alone.
        let taken = n
            .links
            .iter()
            .any(|l| l.from == link.from && l.to == link.to);
        if link.from != link.to && !taken {
            n.links.push(link);
        }
    }
}

/// Sometimes one step answers late (past its timeout, often) and drops
/// its first replies: the caller cannot tell slow from lost.
fn draw_slow_steps(file: &mut ScenarioFile, rng: &mut impl RngExt) {
    if file.steps.is_empty() || !rng.random_bool(0.3) {
        return;
    }
    let step = file.steps[rng.random_range(0..file.steps.len())]
        .name
        .clone();
    let reply_delay_ms = rng.random_range(0..150u64);
    let silent_replies = if rng.random_bool(0.3) {
        rng.random_range(1..=2u8)
    } else {
        0
    };
    file.failures.push(FailureFile {
        step,
        reply_delay_ms,
        silent_replies,
        ..FailureFile::default()
    });
}

/// A crash of the central node whose downtime covers one arrival, so a
/// request reaches a node that is down and its client must retry.
fn central_down_at_arrival(file: &ScenarioFile, rng: &mut impl RngExt) -> (String, u64, u64) {
    let w = &file.workload;
    let i = u64::from(rng.random_range(0..w.transactions.max(1)));
    let arrival = w.start_ms + i * w.interval_ms;
    let at = arrival.saturating_sub(rng.random_range(0..=20u64));
    (
        "coordinator".into(),
        at,
        arrival + rng.random_range(10..300u64),
    )
}

/// One partition, healed: a node cut off from everyone (or, sometimes,
/// from one other node), both ways or one way.
fn draw_partition(rng: &mut impl RngExt, names: &[String]) -> Vec<FaultFile> {
    let node = names[rng.random_range(0..names.len())].clone();
    let other = names[rng.random_range(0..names.len())].clone();
    let b = (rng.random_bool(0.3) && other != node).then(|| vec![other]);
    let at = rng.random_range(0..200u64);
    let name = "swarm-cut".to_string();
    vec![
        FaultFile {
            at_ms: at,
            partition: Some(PartitionFile {
                name: name.clone(),
                a: vec![node],
                b,
                one_way: rng.random_bool(0.3),
            }),
            ..FaultFile::default()
        },
        FaultFile {
            at_ms: at + rng.random_range(10..400u64),
            heal: Some(name),
            ..FaultFile::default()
        },
    ]
}

/// The drawn crashes `(node, crash_ms, restart_ms)` as faults, dropping
/// any that would crash a node already down (by the scenario's own
/// schedule or an earlier draw), so the file stays valid.
fn valid_crashes(base: &[FaultFile], crashes: Vec<(String, u64, u64)>) -> Vec<FaultFile> {
    let mut down: Vec<(String, u64, u64)> = Vec::new();
    let mut sorted: Vec<&FaultFile> = base.iter().collect();
    sorted.sort_by_key(|f| f.at_ms);
    for f in &sorted {
        if let Some(n) = &f.crash {
            down.push((n.clone(), f.at_ms, u64::MAX));
        }
        if let Some(n) = &f.restart {
            if let Some(d) = down.iter_mut().rev().find(|d| &d.0 == n) {
                d.2 = d.2.min(f.at_ms);
            }
        }
    }
    let mut out = Vec::new();
    for (node, at, back) in crashes {
        let overlaps = down
            .iter()
            .any(|(n, a, b)| *n == node && at <= *b && *a <= back);
        if overlaps {
            continue;
        }
        down.push((node.clone(), at, back));
        out.push(FaultFile {
            at_ms: at,
            crash: Some(node.clone()),
            ..FaultFile::default()
        });
        out.push(FaultFile {
            at_ms: back,
            restart: Some(node),
            ..FaultFile::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn happy(transactions: u32) -> Scenario {
        let text = crate::library::get("happy-path").unwrap();
        let mut s = Scenario::parse(text.as_bytes(), "happy-path").unwrap();
        s.file.workload.transactions = transactions;
        s.file.workload.interval_ms = 30;
        Scenario::from_file(s.file, "happy-path", Limits::default()).unwrap()
    }

    /// Downtime `(crash, restart)` of `node` in `file`.
    fn downtime(file: &ScenarioFile, node: &str) -> Vec<(u64, u64)> {
        // Faults tied to events have no time of their own.
        let at = |f: &FaultFile, n: &Option<String>| {
            (n.as_deref() == Some(node) && f.after.is_none()).then_some(f.at_ms)
        };
        let crashes = file.faults.iter().filter_map(|f| at(f, &f.crash));
        let restarts = file.faults.iter().filter_map(|f| at(f, &f.restart));
        crashes.zip(restarts).collect()
    }

    /// Every dimension the swarm draws shows up in a few hundred seeds,
    /// and every drawn file is valid.
    #[test]
    fn the_swarm_reaches_every_knob() {
        let base = happy(3);
        let arrivals: Vec<u64> = (0..3).map(|i| 1 + 30 * i).collect();
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        let mut off: BTreeMap<&str, u32> = BTreeMap::new();
        for seed in 0..400 {
            let f = seed_scenario(&base, seed, true).expect("valid").file;
            let n = &f.network;
            let mut hit = |k| *seen.entry(k).or_insert(0) += 1;
            if n.write_latency_ms > 0 {
                hit("slow disk");
            }
            if f.timing.client_retry_ms.is_some() {
                hit("impatient client");
            }
            if n.write_latency_ms == 0 {
                hit("instant disk");
            }
            if n.duplicate > 0.0 {
                hit("duplication");
            }
            if n.loss > 0.0 {
                hit("loss");
            }
            if n.fifo {
                hit("fifo");
            }
            if matches!(n.latency, LatencyFile::Pareto { .. }) {
                hit("long tail");
            }
            if n.links.iter().any(|l| l.latency.is_some()) {
                hit("slow link");
            }
            if n.links.iter().any(|l| l.duplicate.is_some()) {
                hit("duplicating link");
            }
            if f.failures.iter().any(|x| x.reply_delay_ms > 0) {
                hit("slow reply");
            }
            if f.failures.iter().any(|x| x.silent_replies > 0) {
                hit("silent reply");
            }
            let part = f.faults.iter().filter_map(|x| x.partition.as_ref());
            for p in part {
                hit(if p.one_way {
                    "one-way cut"
                } else {
                    "two-way cut"
                });
                if p.b.is_some() {
                    hit("cut between two nodes");
                }
            }
            let covers = downtime(&f, "coordinator")
                .iter()
                .any(|(a, b)| arrivals.iter().any(|t| a <= t && t < b));
            if covers {
                hit("arrival during central downtime");
            }
            if f.services.iter().any(|s| !downtime(&f, &s.name).is_empty()) {
                hit("service crash");
            }
            let t = &f.toggles;
            for (on, k) in [
                (t.semantic_lock, "semantic lock"),
                (t.commutative_updates, "commutative updates"),
                (t.pessimistic_view, "pessimistic view"),
                (t.reread_value, "reread value"),
                (t.version_file, "version file"),
                (
                    f.services.iter().any(|s| !s.registers.is_empty()),
                    "register",
                ),
                (
                    f.steps.iter().any(|s| s.compensation_amount.is_some()),
                    "fee",
                ),
                (f.steps.iter().any(|s| s.group.is_some()), "group"),
                (
                    f.faults
                        .iter()
                        .any(|x| x.after.is_some() && x.crash.is_some()),
                    "tied crash",
                ),
            ] {
                // Both values of every knob: on in some seeds, off in others.
                hit(if on { k } else { "off" });
                *off.entry(k).or_insert(0) += u32::from(!on);
            }
        }
        for (k, n) in &off {
            assert!(*n >= 5, "{k} is almost always on: {off:?}");
        }
        let all = [
            "slow disk",
            "impatient client",
            "instant disk",
            "duplication",
            "loss",
            "fifo",
            "long tail",
            "slow link",
            "duplicating link",
            "slow reply",
            "silent reply",
            "one-way cut",
            "two-way cut",
            "cut between two nodes",
            "arrival during central downtime",
            "service crash",
            "semantic lock",
            "commutative updates",
            "pessimistic view",
            "reread value",
            "version file",
            "register",
            "fee",
            "group",
            "tied crash",
        ];
        for k in all {
            assert!(seen.get(k).copied().unwrap_or(0) >= 5, "{k}: {seen:?}");
        }
    }

    #[test]
    fn the_swarm_keeps_what_the_scenario_sets() {
        let mut base = happy(1);
        base.file.network.write_latency_ms = 10;
        base.file.faults.push(FaultFile {
            at_ms: 5,
            crash: Some("coordinator".into()),
            ..FaultFile::default()
        });
        base.file.faults.push(FaultFile {
            at_ms: 400,
            restart: Some("coordinator".into()),
            ..FaultFile::default()
        });
        let base = Scenario::from_file(base.file, "base", Limits::default()).unwrap();
        for seed in 0..200 {
            let f = seed_scenario(&base, seed, true).expect("valid").file;
            assert_eq!(f.network.write_latency_ms, 10, "seed {seed}");
            // The scenario's own downtime stays, and no drawn crash of the
            // coordinator overlaps it.
            assert_eq!(downtime(&f, "coordinator")[0], (5, 400), "seed {seed}");
        }
    }
}
