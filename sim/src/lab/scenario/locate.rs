//! Where a field is in the text: validation names a field by its path
//! (`faults[3].after.message`); this finds its line and column, so every
//! semantic error points at the file the way a syntax error does.

use super::ScenarioError;
use toml::de::{DeTable, DeValue};

/// 1-based line and column of byte `offset` in `text`.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `e` with the position of its field in `text`, when it has a field.
pub(super) fn position(e: ScenarioError, text: &str) -> ScenarioError {
    match e {
        ScenarioError::Invalid {
            file,
            field,
            message,
            position: None,
        } => {
            let position = span_of(text, &field).map(|at| line_column(text, at));
            ScenarioError::Invalid {
                file,
                field,
                message,
                position,
            }
        }
        other => other,
    }
}

/// The start of the deepest part of `path` found in `text`.
fn span_of(text: &str, path: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut found = None;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let Some(value) = table.get(key) else {
            return found;
        };
        found = Some(value.span().start);
        let mut value = value.get_ref();
        if let Some(i) = index {
            let DeValue::Array(items) = value else {
                return found;
            };
            let Some(item) = items.get(i) else {
                return found;
            };
            found = Some(item.span().start);
            value = item.get_ref();
        }
        match value {
            DeValue::Table(t) => table = t,
            _ => return found,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_path_finds_its_line_and_column() {
        let text =
            "name = \"x\"\n[[faults]]\nat_ms = 1\n\n[[faults]]\nafter = { message = \"prepar\" }\n";
        let at = span_of(text, "faults[1].after.message").unwrap();
        assert_eq!(line_column(text, at), (6, 21));
        // A path that goes deeper than the text still finds the deepest part.
        let at = span_of(text, "faults[0].at_ms.nothing").unwrap();
        assert_eq!(line_column(text, at), (3, 9));
        assert_eq!(span_of(text, "services[0].name"), None);
        // A missing key points at the table that lacks it.
        let at = span_of(text, "faults[1].after.nth").unwrap();
        assert_eq!(line_column(text, at), (6, 9));
    }
}
