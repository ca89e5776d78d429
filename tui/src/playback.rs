//! Playback and the cursor's moves: play and pause at a rate in simulated
//! time or in events, stepping by event or by visible change, jumping
//! between moments; and the two times the UI knows, the cursor's and the
//! screen's.

use crate::app::App;
use crate::fold::PaneView;
use txlab_sim::engine::SimTime;

/// Playback rates in simulated time: milliseconds of the run per second of
/// the room's time (at 5 ms/s a 500 ms block lasts 100 s on screen).
pub const SIM_RATES: [u32; 6] = [1, 5, 20, 100, 500, 2_000];
/// Playback rates in events per second (the other mode).
pub const EVENT_RATES: [u32; 8] = [1, 2, 5, 10, 20, 50, 100, 500];
/// The playback beat in simulated-time mode: each tick moves the clock by
/// the rate times this.
pub const FRAME: std::time::Duration = std::time::Duration::from_millis(40);

/// How play advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Milliseconds of simulated time per second: quiet stretches (a
    /// blocked participant waiting) take as long as they should.
    SimMs(u32),
    /// Events per second, whatever their times.
    Events(u32),
}

impl std::fmt::Display for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pace::SimMs(ms) => write!(f, "{ms} ms/s"),
            Pace::Events(n) => write!(f, "{n} ev/s"),
        }
    }
}

impl App {
    /// The cursor's time: that of the last event shown (zero at the
    /// start). Play resumes from here when the clock is behind it.
    pub fn now(&self) -> SimTime {
        self.rec.time_at(self.cursor)
    }

    /// The screen's "now", the one time every part of the screen shows
    /// (the title, the inspect box, the banners, an export): the play
    /// clock, never behind the cursor. Every move by hand sets the clock
    /// to the cursor's time, so this is the cursor's time, except where
    /// the clock has run on past the last event: while (or after) playing
    /// in simulated time through a quiet stretch, and at a question tied
    /// to a time (`at_ms`), which the run stops at. What is drawn is the
    /// state at that time: no event falls between the cursor's and it.
    pub fn shown_time(&self) -> SimTime {
        self.clock.max(self.now())
    }

    /// Set the play clock to the cursor's time after a move by hand,
    /// unless the move opened a question, whose own time the clock holds.
    pub(crate) fn sync_clock(&mut self) {
        if self.quiz.asking.is_none() {
            self.clock = self.now();
        }
    }

    /// The playback rate.
    pub fn pace(&self) -> Pace {
        if self.sim_pace {
            Pace::SimMs(SIM_RATES[self.speed.min(SIM_RATES.len() - 1)])
        } else {
            Pace::Events(EVENT_RATES[self.speed.min(EVENT_RATES.len() - 1)])
        }
    }

    pub(crate) fn rates(&self) -> usize {
        if self.sim_pace {
            SIM_RATES.len()
        } else {
            EVENT_RATES.len()
        }
    }

    /// Move the cursor by hand: the play clock follows it.
    pub(crate) fn seek(&mut self, cursor: usize) {
        self.jump(cursor);
        self.sync_clock();
    }

    /// Move the cursor, leaving the play clock where it is.
    pub(crate) fn jump(&mut self, cursor: usize) {
        let to = cursor.min(self.rec.steps.len());
        // Quiz mode holds the cursor at an open question.
        let asked = self.quiz.asking;
        let to = self.quiz.hold(self.cursor, to, &self.rec.question_at);
        if self.quiz.asking.is_some() {
            self.playing = false;
        }
        self.cursor = to;
        self.refresh();
        if let Some(q) = self.quiz.asking.filter(|q| asked != Some(*q)) {
            // The screen's time is the question's: a question at 2 ms is
            // asked at 2 ms, with only what happened before it on screen.
            let at = self.question_times()[q].unwrap_or(SimTime::ZERO);
            self.clock = at.max(self.now());
        }
    }

    /// One playback tick: in simulated-time mode the clock moves on by the
    /// rate times [`FRAME`] and the cursor shows every event it passed; in
    /// events mode one event.
    pub(crate) fn tick(&mut self) {
        let len = self.rec.steps.len();
        if self.cursor >= len {
            self.playing = false;
            return;
        }
        match self.pace() {
            Pace::SimMs(ms) => {
                let frame_us = FRAME.as_micros() as u64;
                self.clock = self.clock.max(self.now()) + SimTime(u64::from(ms) * frame_us / 1_000);
                let clock = self.clock;
                let mut to = self.rec.steps.partition_point(|s| s.time <= clock);
                // A question tied to a time the clock has passed stops the
                // run there, even with no event soon after it.
                let times = self.question_times();
                if let Some(c) = self
                    .quiz
                    .due(self.cursor, clock, &self.rec.question_at, &times)
                {
                    to = to.max(c + 1);
                }
                if to > self.cursor {
                    self.jump(to);
                }
            }
            Pace::Events(_) => self.seek(self.cursor + 1),
        }
        if self.cursor >= len {
            self.playing = false;
        }
    }

    /// Play or pause. Play at the end starts again from the beginning.
    pub(crate) fn toggle_play(&mut self) {
        if self.playing {
            self.playing = false;
            return;
        }
        if self.cursor >= self.rec.steps.len() {
            self.seek(0);
        }
        // The clock resumes where it stopped (every cursor move by hand
        // has set it to the cursor's time).
        self.playing = true;
    }

    /// Step to the next (or previous) event that changes what is drawn:
    /// a step that only moves a timer or a background read is skipped.
    /// Back lands on the first event of the earlier picture, so → then ←
    /// returns where it started.
    pub(crate) fn step_visible(&mut self, forward: bool) {
        let len = self.rec.steps.len();
        let here = self.panes.clone();
        let differs =
            |a: &[PaneView], b: &[PaneView]| a.iter().zip(b).any(|(x, y)| !same_drawing(x, y));
        let mut c = self.cursor;
        if forward {
            while c < len {
                c += 1;
                self.jump(c);
                if differs(&self.panes, &here) || self.quiz.asking.is_some() {
                    break;
                }
            }
        } else {
            while c > 0 {
                c -= 1;
                self.jump(c);
                if differs(&self.panes, &here) {
                    break;
                }
            }
            let earlier = self.panes.clone();
            while c > 0 {
                self.jump(c - 1);
                if differs(&self.panes, &earlier) {
                    self.jump(c);
                    break;
                }
                c -= 1;
            }
        }
        self.sync_clock();
    }

    /// Jump to the next (or previous) moment.
    pub(crate) fn jump_moment(&mut self, forward: bool) {
        let m = if forward {
            self.rec.moments.iter().find(|m| m.cursor > self.cursor)
        } else {
            self.rec.moments.iter().rfind(|m| m.cursor < self.cursor)
        };
        match m.cloned() {
            Some(m) => {
                self.seek(m.cursor);
                self.status = m.what;
            }
            None => {
                self.status = if forward {
                    "no more moments: this is the last".into()
                } else {
                    "no earlier moment".into()
                }
            }
        }
    }

    /// Playback interval for the current rate.
    pub fn tick_interval(&self) -> std::time::Duration {
        match self.pace() {
            Pace::SimMs(_) => FRAME,
            Pace::Events(n) => std::time::Duration::from_micros(1_000_000 / u64::from(n)),
        }
    }
}

/// Whether two views of a pane draw the same picture (the event count and
/// the running metrics aside: they move with every step).
fn same_drawing(a: &PaneView, b: &PaneView) -> bool {
    a.nodes == b.nodes
        && a.rows == b.rows
        && a.in_flight_count == b.in_flight_count
        && a.outcomes == b.outcomes
        && a.violations == b.violations
}
