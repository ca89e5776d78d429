//! `[[question]]`: a question the UI asks the room before it reveals what
//! happens (predict, then reveal). `txlab run` and `check` ignore them.
//!
//! A question is checked while it is parsed (through `try_from`), so every
//! mistake (an answer past the choices, one choice, an empty prompt, both
//! or neither of `at_ms` and `on`, an unknown event or protocol) is a
//! syntax error with the file, line and column of the question.

use super::load::NARRATION_EVENTS;
use crate::protocols::Protocol;
use serde::{Deserialize, Serialize};

/// A question, as written in the file (and valid: see the module doc).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "QuestionFields")]
pub struct Question {
    /// Ask at this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// Or at the first event of this kind (the narration events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// Only in this protocol's run (default: any, at the first to get
    /// there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The question.
    pub prompt: String,
    /// The possible answers, in the order shown (at least two).
    pub choices: Vec<String>,
    /// The right one: a 0-based index into `choices`.
    pub answer: usize,
    /// Why that answer is right, shown once the room has answered.
    #[serde(default)]
    pub explain: String,
}

/// The raw fields, before the checks that need more than one of them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFields {
    #[serde(default)]
    at_ms: Option<u64>,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    protocol: Option<Protocol>,
    prompt: String,
    choices: Vec<String>,
    answer: usize,
    #[serde(default)]
    explain: String,
}

impl TryFrom<QuestionFields> for Question {
    type Error = String;

    fn try_from(q: QuestionFields) -> Result<Question, String> {
        match (&q.at_ms, &q.on) {
            (None, None) | (Some(_), Some(_)) => {
                return Err("a question needs exactly one of at_ms and on".into());
            }
            (None, Some(on)) if !NARRATION_EVENTS.contains(&on.as_str()) => {
                return Err(format!(
                    "unknown event \"{on}\" in on (known: {})",
                    NARRATION_EVENTS.join(", ")
                ));
            }
            _ => {}
        }
        if q.prompt.trim().is_empty() {
            return Err("the question's prompt is empty".into());
        }
        if q.choices.len() < 2 {
            return Err(format!(
                "a question needs at least two choices, not {}",
                q.choices.len()
            ));
        }
        if let Some(i) = q.choices.iter().position(|c| c.trim().is_empty()) {
            return Err(format!("choice {i} is empty"));
        }
        if q.answer >= q.choices.len() {
            return Err(format!(
                "answer = {} is not among the {} choices (answers count from 0, so the last is {})",
                q.answer,
                q.choices.len(),
                q.choices.len() - 1
            ));
        }
        Ok(Question {
            at_ms: q.at_ms,
            on: q.on,
            protocol: q.protocol,
            prompt: q.prompt,
            choices: q.choices,
            answer: q.answer,
            explain: q.explain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scenario, ScenarioError};

    const BASE: &str = "name = \"q\"\n\
        [[services]]\nname = \"car\"\nresources = { cars = 1 }\n\
        [[steps]]\nname = \"book\"\nservice = \"car\"\nresource = \"cars\"\namount = 1\n";

    fn parse(extra: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(format!("{BASE}{extra}").as_bytes(), "lesson.toml")
    }

    /// The line of the first line of `extra` within the whole file.
    fn first_line() -> usize {
        BASE.lines().count() + 1
    }

    const GOOD: &str = "[[question]]\nat_ms = 120\nprotocol = \"2pc\"\n\
        prompt = \"What now?\"\nchoices = [\"abort\", \"wait\", \"commit\"]\nanswer = 1\n\
        explain = \"It must wait.\"\n";

    #[test]
    fn a_valid_question_loads_into_the_scenario() {
        let s = parse(GOOD).unwrap();
        let q = &s.file.question[0];
        assert_eq!(q.at_ms, Some(120));
        assert_eq!(q.protocol, Some(crate::protocols::Protocol::TwoPc));
        assert_eq!(q.choices.len(), 3);
        assert_eq!(q.answer, 1);
        assert_eq!(q.explain, "It must wait.");
        // Written back and read again, it is the same question.
        let again = Scenario::parse(s.to_toml().as_bytes(), "again").unwrap();
        assert_eq!(again.file.question, s.file.question);
    }

    /// Each mistake is an error at the question's line with its words.
    #[test]
    fn every_mistake_names_file_line_and_column() {
        let cases = [
            (
                GOOD.replace("answer = 1", "answer = 3"),
                "not among the 3 choices",
            ),
            (
                GOOD.replace("[\"abort\", \"wait\", \"commit\"]", "[\"wait\"]"),
                "at least two choices",
            ),
            (GOOD.replace("What now?", "  "), "prompt is empty"),
            (
                GOOD.replace("at_ms = 120", "on = \"crash\"\nat_ms = 1"),
                "exactly one",
            ),
            (GOOD.replace("at_ms = 120\n", ""), "exactly one"),
            (
                GOOD.replace("at_ms = 120", "on = \"crashh\""),
                "unknown event",
            ),
            (GOOD.replace("\"2pc\"", "\"3pc\""), "3pc"),
            (GOOD.replace("explain", "explian"), "explian"),
        ];
        for (text, words) in cases {
            let err = parse(&text).unwrap_err();
            let ScenarioError::Syntax {
                file,
                line,
                column,
                message,
            } = &err
            else {
                panic!("not a positioned error: {err}");
            };
            assert_eq!(file, "lesson.toml");
            assert!(message.contains(words), "{message} lacks {words}");
            // The position lies inside the question, not at the file's top.
            assert!(*line >= first_line(), "{err}");
            assert!(*column >= 1);
        }
    }

    #[test]
    fn narration_may_name_its_protocol() {
        let ok = "[[narration]]\non = \"crash\"\nprotocol = \"orchestrated\"\ntext = \"x\"\n";
        let s = parse(ok).unwrap();
        let p = s.file.narration[0].protocol;
        assert_eq!(p, Some(crate::protocols::Protocol::Orchestrated));
        let err = parse(&ok.replace("orchestrated", "orchestra")).unwrap_err();
        let ScenarioError::Syntax { line, .. } = err else {
            panic!("not positioned: {err}")
        };
        assert_eq!(line, first_line() + 2, "the protocol's own line");
    }
}
