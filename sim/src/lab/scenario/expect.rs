//! Checking a run against a scenario's expectations.

use super::format::Expectation;
use crate::lab::RunReport;

/// The ways `report` differs from `expect`, in words (empty: as expected).
pub fn mismatches(expect: &Expectation, report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    let p = report.protocol.name();
    for (outcome, want) in &expect.outcomes {
        let got = report.outcomes.get(outcome).copied().unwrap_or(0);
        if got != *want {
            out.push(format!("{p}: expected {want} {outcome}, got {got}"));
        }
    }
    out.extend(violation_mismatches(expect, report));
    for (key, want) in &expect.final_state {
        let got = key
            .split_once('.')
            .and_then(|(s, r)| report.final_state.get(s)?.get(r).copied());
        if got != Some(*want) {
            out.push(format!(
                "{p}: expected {key} = {want}, got {}",
                got.map_or("nothing".into(), |g| g.to_string())
            ));
        }
    }
    for (name, min) in &expect.at_least {
        let got = report.metrics.get(name).unwrap_or(f64::NAN);
        if got.is_nan() || got < *min {
            out.push(format!("{p}: expected {name} >= {min}, got {got}"));
        }
    }
    for (name, max) in &expect.at_most {
        let got = report.metrics.get(name).unwrap_or(f64::NAN);
        if got.is_nan() || got > *max {
            out.push(format!("{p}: expected {name} <= {max}, got {got}"));
        }
    }
    for tx in &expect.anomaly_free {
        let named = report.metrics.anomaly_details.iter();
        if let Some(a) = named.clone().find(|a| a.txs.contains(tx)) {
            let n = named.filter(|a| a.txs.contains(tx)).count();
            out.push(format!(
                "{p}: expected no anomaly naming T{tx}, got {n} (first: {} at {}: {})",
                a.class.name(),
                a.resource,
                a.text
            ));
        }
    }
    out
}

/// `violations` is an exact set (empty: none at all); `violations_at_least`
/// only requires its names.
fn violation_mismatches(expect: &Expectation, report: &RunReport) -> Vec<String> {
    let p = report.protocol.name();
    let mut out = Vec::new();
    let exact = expect.violations_at_least.is_empty();
    let wanted = if exact {
        &expect.violations
    } else {
        &expect.violations_at_least
    };
    for want in wanted {
        if report.violations_of(want).next().is_none() {
            out.push(format!(
                "{p}: expected a violation of {want}, none reported"
            ));
        }
    }
    if exact {
        let mut seen: Vec<&str> = Vec::new();
        for v in &report.violations {
            let name = v.invariant.as_str();
            if !wanted.iter().any(|w| w == name) && !seen.contains(&name) {
                seen.push(name);
                out.push(format!(
                    "{p}: unexpected violation of {name}: {}",
                    v.message
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Metrics, Violation};
    use crate::protocols::Protocol;
    use std::collections::BTreeMap;

    fn report(invariants: &[&str]) -> RunReport {
        RunReport {
            protocol: Protocol::TwoPc,
            seed: 1,
            trace_hash: String::new(),
            outcomes: BTreeMap::new(),
            metrics: Metrics::default(),
            violations: invariants
                .iter()
                .map(|i| Violation {
                    invariant: (*i).to_string(),
                    tx: None,
                    trace_index: 0,
                    message: "m".into(),
                })
                .collect(),
            transactions: Vec::new(),
            final_state: BTreeMap::new(),
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn violations_is_an_exact_set() {
        let e = Expectation {
            violations: names(&["at_most_once"]),
            ..Expectation::default()
        };
        assert!(mismatches(&e, &report(&["at_most_once", "at_most_once"])).is_empty());
        let extra = mismatches(&e, &report(&["at_most_once", "conservation"]));
        assert_eq!(extra.len(), 1, "{extra:?}");
        assert!(extra[0].contains("unexpected violation of conservation"));
        let missing = mismatches(&e, &report(&[]));
        assert!(missing[0].contains("expected a violation of at_most_once"));
        let none = Expectation::default();
        assert_eq!(mismatches(&none, &report(&["termination"])).len(), 1);
    }

    #[test]
    fn violations_at_least_allows_others() {
        let e = Expectation {
            violations_at_least: names(&["at_most_once"]),
            ..Expectation::default()
        };
        assert!(mismatches(&e, &report(&["at_most_once", "conservation"])).is_empty());
        let missing = mismatches(&e, &report(&["conservation"]));
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].contains("expected a violation of at_most_once"));
    }

    #[test]
    fn anomaly_free_trips_on_a_named_transaction_only() {
        use crate::lab::anomaly::{Anomaly, AnomalyClass};
        let e = Expectation {
            anomaly_free: vec![1],
            ..Expectation::default()
        };
        let mut r = report(&[]);
        assert!(mismatches(&e, &r).is_empty(), "no anomaly at all");
        let mut lost = |txs: Vec<u32>| {
            r.metrics.anomaly_details.push(Anomaly {
                class: AnomalyClass::LostUpdate,
                txs,
                resource: "account.balance".into(),
                trace_index: 7,
                text: "T0's compensation restored 1000".into(),
            });
            mismatches(&e, &r)
        };
        assert!(lost(vec![0, 2]).is_empty(), "T1 not named");
        let got = lost(vec![0, 1]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("no anomaly naming T1, got 1"), "{got:?}");
    }
}

#[cfg(test)]
mod parse_tests {
    //! `violations_at_least` read from a file and validated.

    use crate::lab::scenario::{Scenario, ScenarioError};

    const BASE: &str = r#"
name = "t"
seed = 1
[[services]]
name = "payment"
resources = { sam = 1000 }
[[steps]]
name = "charge card"
service = "payment"
resource = "sam"
amount = 100
action = "charge"
compensation = "refund"
"#;

    fn with_expect(expect: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(
            format!("{BASE}[expect.2pc]\n{expect}\n").as_bytes(),
            "t.toml",
        )
    }

    fn invalid_field(r: Result<Scenario, ScenarioError>) -> String {
        match r {
            Err(ScenarioError::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn violations_at_least_is_read_and_checked() {
        let s = with_expect(r#"violations_at_least = ["at_most_once"]"#).unwrap();
        assert_eq!(s.file.expect["2pc"].violations_at_least, ["at_most_once"]);
        assert!(s.file.expect["2pc"].violations.is_empty());
        let typo = with_expect(r#"violations_at_least = ["at_most_one"]"#);
        assert_eq!(invalid_field(typo), "expect.2pc.violations_at_least");
        let typo = with_expect(r#"violations = ["at_most_one"]"#);
        assert_eq!(invalid_field(typo), "expect.2pc.violations");
    }

    #[test]
    fn violations_and_violations_at_least_exclude_each_other() {
        let both = with_expect(
            "violations = [\"conservation\"]\nviolations_at_least = [\"at_most_once\"]",
        );
        assert_eq!(invalid_field(both), "expect.2pc.violations_at_least");
    }

    #[test]
    fn anomaly_free_names_existing_transactions() {
        let s = with_expect("anomaly_free = [0]").unwrap();
        assert_eq!(s.file.expect["2pc"].anomaly_free, [0]);
        let beyond = with_expect("anomaly_free = [0, 1]");
        assert_eq!(invalid_field(beyond), "expect.2pc.anomaly_free[1]");
    }
}
