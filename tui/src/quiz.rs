//! Quiz mode: predict, then reveal. With `--quiz` (or the `a` key) play
//! and stepping stop at each `[[question]]` of the scenario; while the
//! question is open the outcomes are hidden (the comparison table, the
//! panes' outcome lines, the nodes' final marks, the presenter banners),
//! and a key per choice (`1`, `2`, ...) answers it. The answer is then
//! revealed, right or wrong, with the explanation, and the run goes on.
//!
//! A question is asked *before* its answer is on screen. One tied to an
//! event (`on`) stops the run with that event shown and nothing after it:
//! the event is the question's premise ("the coordinator crashed after
//! PREPARE: what do the participants do?"), what follows is the answer.
//! One tied to a time (`at_ms`) stops with every event before that time
//! shown, none at or after it, and the clock at that time.
//!
//! An answered question is not asked again when the cursor passes it a
//! second time (the room has seen the answer); turning quiz mode off and on
//! again forgets the answers, so a replay for another room asks them all.
//! Stepping back before an open question closes it; it is asked again when
//! the cursor reaches it.

use crate::action::Action;
use crate::app::App;
use crate::fold::{PaneView, Phase};
use crate::recording::PaneRun;
use txlab_sim::engine::SimTime;
use txlab_sim::lab::scenario::{Question, Scenario};
use txlab_sim::protocols::Protocol;

/// The quiz's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Quiz {
    /// Quiz mode is on.
    pub on: bool,
    /// Per question (file order): the choice the room gave, once answered.
    pub answers: Vec<Option<usize>>,
    /// The question open now (the run holds at it).
    pub asking: Option<usize>,
    /// The question whose answer is on screen (until the cursor moves).
    pub revealed: Option<usize>,
}

impl Quiz {
    /// A quiz, off, for `questions` questions.
    pub fn new(questions: usize) -> Quiz {
        Quiz {
            answers: vec![None; questions],
            ..Quiz::default()
        }
    }

    /// Forget every answer (another scenario, or quiz mode turned on).
    pub fn reset(&mut self, questions: usize) {
        *self = Quiz {
            on: self.on,
            ..Quiz::new(questions)
        };
    }

    /// Whether outcomes are hidden now: a question is open.
    pub fn hides_outcomes(&self) -> bool {
        self.asking.is_some()
    }

    /// Where a move of the cursor from `from` to `to` really ends, given
    /// the cursor `at` which each question is asked (the cursor just
    /// before its event): at the first unanswered question whose event
    /// the move would show (which opens, `from <= at < to`), never past an
    /// open one. A move back before an open question closes it.
    pub(crate) fn hold(&mut self, from: usize, to: usize, at: &[Option<usize>]) -> usize {
        let end = self.hold_at(from, to, at);
        if end != from {
            self.revealed = None;
        }
        end
    }

    fn hold_at(&mut self, from: usize, to: usize, at: &[Option<usize>]) -> usize {
        if !self.on {
            return to;
        }
        if let Some(q) = self.asking {
            // A branch can move the question, or take its moment away.
            let Some(c) = at.get(q).copied().flatten() else {
                self.asking = None;
                return to;
            };
            if to >= c {
                return c;
            }
            self.asking = None;
            return to;
        }
        if to <= from {
            return to;
        }
        let next = at
            .iter()
            .enumerate()
            .filter(|(q, _)| self.answers.get(*q).is_some_and(Option::is_none))
            .filter_map(|(q, c)| c.map(|c| (c, q)))
            .filter(|(c, _)| *c >= from && *c < to)
            .min();
        match next {
            Some((c, q)) => {
                self.asking = Some(q);
                c
            }
            None => to,
        }
    }
}

impl Quiz {
    /// The stop (as [`Quiz::hold`] takes them) of the first unanswered
    /// question at or after the cursor `from` whose time (`times`, for
    /// questions tied to one) the play clock has reached: play must stop
    /// there even when no event follows the time closely.
    pub(crate) fn due(
        &self,
        from: usize,
        clock: SimTime,
        at: &[Option<usize>],
        times: &[Option<SimTime>],
    ) -> Option<usize> {
        if !self.on || self.asking.is_some() {
            return None;
        }
        at.iter()
            .zip(times)
            .zip(&self.answers)
            .filter_map(|((c, t), a)| match (c, t, a) {
                (Some(c), Some(t), None) if *c >= from && *t <= clock => Some(*c),
                _ => None,
            })
            .min()
    }
}

/// The cursor at which each question is asked (`None`: its moment never
/// comes in this run): for `on`, where narration with the same trigger
/// appears (the event shown, nothing after it); for `at_ms`, just before
/// the first event at or after that time.
pub fn question_cursors(
    scenario: &Scenario,
    panes: &[PaneRun],
    cursor_of: &[Vec<u32>],
    times: &[SimTime],
) -> Vec<Option<usize>> {
    scenario
        .file
        .question
        .iter()
        .map(|q| {
            crate::moments::trigger_cursor(
                q.at_ms,
                q.on.as_deref(),
                q.protocol,
                panes,
                cursor_of,
                times,
            )
            .map(|c| if q.at_ms.is_some() { c - 1 } else { c })
        })
        .collect()
}

/// A protocol's name for a room: "2PC", "orchestrated saga", ...
pub fn protocol_title(p: Protocol) -> &'static str {
    match p {
        Protocol::TwoPc => "2PC",
        Protocol::Orchestrated => "orchestrated saga",
        Protocol::Choreographed => "choreographed saga",
    }
}

/// The key that answers choice `i` (0-based): `1` to `9`.
pub fn choice_key(i: usize) -> String {
    (i + 1).to_string()
}

/// The most choices a question can offer keys for.
pub const MAX_CHOICES: usize = 9;

/// A pane with its outcome marks hidden: nodes that reached an end
/// (committed, aborted, compensated, stuck) show as hidden.
pub fn masked(view: &PaneView) -> PaneView {
    let mut v = view.clone();
    for n in &mut v.nodes {
        if matches!(
            n.phase,
            Phase::Committed | Phase::Aborted | Phase::Compensated | Phase::Stuck
        ) {
            n.phase = Phase::Hidden;
            n.detail.clear();
        }
    }
    v
}

impl App {
    /// Quiz mode on (forgetting earlier answers) or off.
    pub fn set_quiz(&mut self, on: bool) {
        self.quiz.on = on;
        self.quiz.reset(self.rec.scenario.file.question.len());
        let n = self.quiz.answers.len();
        self.status = match (on, n) {
            (false, _) => "quiz mode off".into(),
            (true, 0) => "quiz mode on, but this scenario has no questions".into(),
            (true, 1) => "quiz mode on: the run stops at its question".into(),
            (true, n) => format!("quiz mode on: the run stops at each of its {n} questions"),
        };
    }

    /// Per question, the time it is tied to (`at_ms`; `None` for one
    /// tied to an event).
    pub(crate) fn question_times(&self) -> Vec<Option<SimTime>> {
        self.rec
            .scenario
            .file
            .question
            .iter()
            .map(|q| q.at_ms.map(SimTime::from_millis))
            .collect()
    }

    /// The open question, if any.
    pub fn open_question(&self) -> Option<&Question> {
        self.quiz
            .asking
            .and_then(|q| self.rec.scenario.file.question.get(q))
    }

    /// The quiz's share of an action; `true` when it took the action.
    pub(crate) fn update_quiz(&mut self, action: Action) -> bool {
        match action {
            Action::ToggleQuiz => self.set_quiz(!self.quiz.on),
            Action::Answer(k) => self.answer(k),
            Action::TogglePlay
            | Action::NextChange
            | Action::StepForward
            | Action::NextMoment
            | Action::TimeForward
            | Action::JumpEnd
                if self.quiz.asking.is_some() =>
            {
                self.playing = false;
                self.status = self.answer_hint();
            }
            Action::Back | Action::Confirm if self.quiz.revealed.is_some() => {
                self.quiz.revealed = None;
            }
            _ => return false,
        }
        true
    }

    fn answer_hint(&self) -> String {
        let n = self.open_question().map_or(0, |q| q.choices.len());
        format!(
            "the room answers first: keys 1–{} (a: quiz mode off)",
            n.min(MAX_CHOICES)
        )
    }

    fn answer(&mut self, k: usize) {
        let Some(q) = self.quiz.asking else {
            self.status = if self.quiz.on {
                "no question is open".into()
            } else {
                "no question is open (a: quiz mode on)".into()
            };
            return;
        };
        let question = &self.rec.scenario.file.question[q];
        if k >= question.choices.len() {
            self.status = self.answer_hint();
            return;
        }
        let right = k == question.answer;
        self.status = if right {
            format!("right: {}", question.choices[k])
        } else {
            format!(
                "not quite: the answer is {}) {}",
                choice_key(question.answer),
                question.choices[question.answer]
            )
        };
        self.quiz.answers[q] = Some(k);
        self.quiz.asking = None;
        // Play resumes from the question's time (the clock holds it since
        // the question opened), not from where the clock ran on.
        self.clock = self.shown_time();
        self.quiz.revealed = Some(q);
    }
}

#[cfg(test)]
mod tests {
    use super::Quiz;

    #[test]
    fn a_move_stops_at_the_first_unanswered_question_it_passes() {
        let at = [Some(10), Some(5), None];
        let mut q = Quiz::new(3);
        assert_eq!(q.hold(0, 20, &at), 20, "off: no stop");
        q.on = true;
        assert_eq!(q.hold(0, 20, &at), 5);
        assert_eq!(q.asking, Some(1));
        assert_eq!(q.hold(5, 20, &at), 5, "held while open");
        assert_eq!(q.hold(5, 3, &at), 3, "back before it closes it");
        assert_eq!(q.asking, None);
        assert_eq!(q.hold(3, 6, &at), 5, "and it is asked again");
        q.answers[1] = Some(0);
        q.asking = None;
        assert_eq!(q.hold(5, 20, &at), 10, "answered: on to the next");
        q.answers[0] = Some(2);
        q.asking = None;
        assert_eq!(q.hold(0, 20, &at), 20, "all answered: never again");
        // An open question whose moment a branch took away closes.
        let mut q = Quiz::new(1);
        q.on = true;
        assert_eq!(q.hold(0, 9, &[Some(4)]), 4);
        assert_eq!(q.hold(4, 9, &[None]), 9);
        assert_eq!(q.asking, None);
    }

    /// A question's stop is the cursor just before its event: a move that
    /// ends there does not ask it yet (the event is not shown), a move
    /// from there on asks it without moving (it would show the event).
    #[test]
    fn a_question_is_asked_by_the_move_past_its_stop() {
        let at = [Some(5)];
        let mut q = Quiz::new(1);
        q.on = true;
        assert_eq!(q.hold(0, 5, &at), 5);
        assert_eq!(q.asking, None, "nothing past its stop is on screen yet");
        assert_eq!(q.hold(5, 6, &at), 5);
        assert_eq!(q.asking, Some(0));
        q.answers[0] = Some(0);
        q.asking = None;
        assert_eq!(q.hold(5, 6, &at), 6, "answered: the run goes on");
    }
}
