//! Overriding one setting of a loaded scenario (`--set PATH=VALUE`), so an
//! exercise does not need a copied and edited file. The override goes
//! through the same deserializer and validator as the file itself: an
//! unknown path is an unknown field, a wrong type is a type error, a bad
//! value is refused as it would be in the file.

use super::{Limits, Scenario, ScenarioError};
use toml::Value;

/// `scenario` with every `PATH=VALUE` of `sets` applied, in order.
///
/// A path is dotted (`toggles.idempotency`, `network.latency.max_ms`);
/// an array element is named by its index (`failures[0].silent_replies`).
/// A value is TOML (`false`, `10`, `0.5`, `"text"`, `[1, 2]`); a bare word
/// that is not TOML is taken as a string.
pub fn apply(scenario: &Scenario, sets: &[String]) -> Result<Scenario, ScenarioError> {
    if sets.is_empty() {
        return Ok(scenario.clone());
    }
    let origin = &scenario.origin;
    let bad = |set: &str, message: String| ScenarioError::Invalid {
        file: origin.clone(),
        field: format!("--set {set}"),
        message,
        position: None,
    };
    let mut doc = Value::try_from(&scenario.file).expect("a scenario file always serializes");
    for set in sets {
        let (path, value) = set
            .split_once('=')
            .ok_or_else(|| bad(set, "expected PATH=VALUE".into()))?;
        let slot = slot(&mut doc, path.trim()).map_err(|m| bad(set, m))?;
        *slot = parse_value(value.trim());
    }
    let file = doc.try_into().map_err(|e: toml::de::Error| {
        bad(
            &sets.join(" --set "),
            super::words::in_words(e.message().trim()),
        )
    })?;
    Scenario::from_file(file, origin, Limits::default()).map_err(|e| match e {
        ScenarioError::Invalid { field, message, .. } => ScenarioError::Invalid {
            file: origin.clone(),
            field: format!("{field} (after --set {})", sets.join(" --set ")),
            message,
            position: None,
        },
        other => other,
    })
}

/// The place `path` names, creating a missing last key (optional fields
/// are absent from the serialized file; the deserializer then refuses a
/// key that is not a field at all).
fn slot<'a>(doc: &'a mut Value, path: &str) -> Result<&'a mut Value, String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    let mut here = doc;
    for part in path.split('.') {
        let (key, index) = split_index(part)?;
        let table = here
            .as_table_mut()
            .ok_or_else(|| format!("`{key}` is not inside a table"))?;
        here = if index.is_none() {
            table
                .entry(key.to_string())
                .or_insert(Value::Table(Default::default()))
        } else {
            table
                .get_mut(key)
                .ok_or_else(|| format!("the scenario has no list `{key}`"))?
        };
        if let Some(i) = index {
            let list = here
                .as_array_mut()
                .ok_or_else(|| format!("`{key}` is not a list"))?;
            let len = list.len();
            here = list
                .get_mut(i)
                .ok_or_else(|| format!("`{key}` has {len} entries, no [{i}]"))?;
        }
    }
    Ok(here)
}

/// `name` or `name[3]`.
fn split_index(part: &str) -> Result<(&str, Option<usize>), String> {
    let Some((key, rest)) = part.split_once('[') else {
        return Ok((part, None));
    };
    let index = rest
        .strip_suffix(']')
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| format!("`{part}`: expected name[index]"))?;
    Ok((key, Some(index)))
}

fn parse_value(text: &str) -> Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[[services]]\nname = \"car\"\nresources = { cars = 1 }\n\
                        [[steps]]\nname = \"book\"\nservice = \"car\"\nresource = \"cars\"\n\
                        amount = 1\n";

    fn base() -> Scenario {
        Scenario::parse(TEXT.as_bytes(), "x").unwrap()
    }

    fn set(s: &[&str]) -> Result<Scenario, ScenarioError> {
        let sets: Vec<String> = s.iter().map(|s| s.to_string()).collect();
        apply(&base(), &sets)
    }

    #[test]
    fn a_setting_changes_the_file_and_the_spec() {
        let s = set(&["toggles.idempotency=false", "network.write_latency_ms=10"]).unwrap();
        assert!(!s.file.toggles.idempotency);
        assert_eq!(s.file.network.write_latency_ms, 10);
        let s = set(&["timing.max_attempts=2", "steps[0].amount=3", "seed=9"]).unwrap();
        assert_eq!(s.file.timing.max_attempts, Some(2));
        assert_eq!(s.file.steps[0].amount, 3);
        assert_eq!(s.spec.seed, 9);
        assert_eq!(set(&[]).unwrap().file, base().file);
    }

    #[test]
    fn unknown_paths_wrong_types_and_bad_values_name_the_setting() {
        for (bad, needle) in [
            ("toggles.idempotncy=false", "idempotncy"),
            ("toggles.idempotency=7", "toggles.idempotency=7"),
            ("network.loss=2.0", "loss"),
            ("steps[4].amount=1", "no [4]"),
            ("toggles", "PATH=VALUE"),
            ("seed.x=1", "not inside a table"),
        ] {
            let err = set(&[bad]).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
            assert!(err.contains("--set"), "{bad}: {err}");
        }
    }
}
