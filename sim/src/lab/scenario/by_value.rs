//! Per-request values (`[workload] values`) and the by-value
//! countermeasure's threshold (`[toggles] by_value = { threshold = N }`):
//! their checks. Values are cycled over the transactions (transaction `i`
//! has `values[i % len]`), so a short pattern describes any number of
//! requests and changing `transactions` never invalidates the file.

use super::ScenarioError;
use super::validate::Validator;
use crate::protocols::workload::StepSpec;

/// Bound on a request's value: with the bound on amounts, a scaled amount
/// stays within the same limit (checked per step below).
const MAX_VALUE: u32 = 1_000_000;

impl Validator<'_> {
    /// The requests' values, checked: each at least 1, as many as there
    /// are transactions at most, and no step's amount times the largest
    /// value beyond `max_amount`.
    pub(super) fn values(
        &self,
        steps: &[StepSpec],
        max_amount: i64,
    ) -> Result<Vec<u32>, ScenarioError> {
        let w = &self.file.workload;
        if w.values.len() > w.transactions as usize {
            return self.err(
                format!("workload.values[{}]", w.transactions),
                format!(
                    "{} values for {} transaction{}: give at most one per transaction (they are cycled)",
                    w.values.len(),
                    w.transactions,
                    if w.transactions == 1 { "" } else { "s" }
                ),
            );
        }
        for (i, v) in w.values.iter().enumerate() {
            if !(1..=MAX_VALUE).contains(v) {
                return self.err(
                    format!("workload.values[{i}]"),
                    format!(
                        "a request's value is a multiplier of its amounts: 1..={MAX_VALUE}, not {v}"
                    ),
                );
            }
        }
        let largest = w.values.iter().enumerate().max_by_key(|(_, v)| **v);
        if let Some((i, v)) = largest {
            let over = steps
                .iter()
                .find(|s| s.amount.saturating_mul(i64::from(*v)) > max_amount);
            if let Some(s) = over {
                return self.err(
                    format!("workload.values[{i}]"),
                    format!(
                        "value {v} times step \"{}\"'s amount {} is more than {max_amount}",
                        s.name, s.amount
                    ),
                );
            }
        }
        Ok(w.values.clone())
    }

    /// The by-value threshold, if the countermeasure is on: at least 1.
    pub(super) fn by_value(&self) -> Result<(), ScenarioError> {
        match self.file.toggles.by_value {
            Some(b) if b.threshold == 0 => self.err(
                "toggles.by_value.threshold",
                "the threshold is the smallest risky value: at least 1",
            ),
            _ => Ok(()),
        }
    }
}
