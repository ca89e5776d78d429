//! Helpers shared by the UI's test files (and the end-to-end test, which
//! includes this file by path).

/// `text` (a scenario file) without its `[[question]]` tables, so a test
/// can ask a question of its own without the lesson's getting in the way.
pub fn without_questions(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line.trim() == "[[question]]";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
