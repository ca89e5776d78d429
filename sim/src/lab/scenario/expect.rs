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
    let mut reported: Vec<&str> = report
        .violations
        .iter()
        .map(|v| v.invariant.as_str())
        .collect();
    reported.sort();
    reported.dedup();
    if expect.violations.is_empty() {
        for v in &report.violations {
            out.push(format!(
                "{p}: unexpected violation of {}: {}",
                v.invariant, v.message
            ));
        }
    } else {
        for want in &expect.violations {
            if !reported.contains(&want.as_str()) {
                out.push(format!(
                    "{p}: expected a violation of {want}, none reported"
                ));
            }
        }
    }
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
    out
}
