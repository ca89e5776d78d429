//! The comparison table's metrics are the simulator's own running totals
//! ([`MetricsTally`](txlab_sim::lab::tally::MetricsTally)), which the fold
//! ([`crate::folder`]) feeds one event at a time. This test holds what the
//! fold feeds it (which observations and faults, in which order, up to
//! which event) to the simulator's metrics of the same prefix.

#[cfg(test)]
mod tests {
    use crate::fold::{FoldOptions, prefix_view};
    use crate::folder::Folder;
    use crate::recording::Recording;
    use txlab_sim::lab::metrics::metrics_without_anomalies;
    use txlab_sim::lab::outcome::latencies;
    use txlab_sim::lab::scenario::Scenario;

    /// At every 7th event of every pane of lessons that exercise each
    /// total (locks, crashes and partitions in 2PC; compensations, dirty
    /// reads and decisions, refused late actions in the sagas), the
    /// running totals give what the simulator's metrics give for the
    /// prefix. The lessons are checked to make each total non-zero
    /// somewhere, so a total the tally got wrong cannot hide behind zeros.
    #[test]
    fn running_totals_match_the_simulators_metrics_on_every_prefix() {
        let lessons = [
            "coordinator-crash-after-prepare",
            "partition-after-vote",
            "concurrent-sagas-anomaly",
            "lost-update-compensation",
            "compensation-before-action",
            "timeout-retry",
        ];
        let mut seen = [false; 6];
        for name in lessons {
            let path = format!("{}/../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).expect("lesson file");
            let rec = Recording::new(Scenario::parse(text.as_bytes(), name).unwrap(), vec![]);
            for run in &rec.panes {
                let mut f = Folder::new(run, FoldOptions::default());
                let len = run.world.trace().events().len();
                for n in (0..=len).step_by(7).chain([len]) {
                    f.advance(run, n);
                    let got = f.view(run).metrics;
                    let view = prefix_view(run, n);
                    let want = metrics_without_anomalies(&view, got_stats(&got), &latencies(&view));
                    assert_eq!(got, want, "{name}, {:?}, after {n} events", run.protocol);
                    let totals = [
                        got.lock_hold_ms,
                        got.blocked_ms,
                        got.compensations as f64,
                        got.dirty_reads as f64,
                        got.dirty_decisions as f64,
                        got.refused_late as f64 + got.retries as f64,
                    ];
                    for (s, t) in seen.iter_mut().zip(totals) {
                        *s |= t > 0.0;
                    }
                }
            }
        }
        assert_eq!(seen, [true; 6], "every total is exercised");
    }

    /// The engine's counters as the view copied them (they come from the
    /// event scan, which the snapshot tests cover; here they only feed
    /// the oracle the same numbers).
    fn got_stats(m: &txlab_sim::lab::Metrics) -> txlab_sim::engine::Stats {
        txlab_sim::engine::Stats {
            sent: m.messages_sent,
            delivered: m.messages_delivered,
            dropped: m.messages_dropped,
            duplicated: m.messages_duplicated,
            forced_writes: m.forced_log_writes,
            steps: m.events,
            ..Default::default()
        }
    }
}
