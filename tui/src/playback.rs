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
    /// The time at the cursor.
    pub fn now(&self) -> SimTime {
        self.rec.time_at(self.cursor)
    }

    /// The time to show: the play clock while playing in simulated time
    /// (it runs through quiet stretches), else the cursor's.
    pub fn shown_time(&self) -> SimTime {
        if self.playing && self.sim_pace {
            self.clock.max(self.now())
        } else {
            self.now()
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
        self.clock = self.now();
    }

    /// Move the cursor, leaving the play clock where it is.
    pub(crate) fn jump(&mut self, cursor: usize) {
        let to = cursor.min(self.rec.steps.len());
        // Quiz mode holds the cursor at an open question.
        let to = self.quiz.hold(self.cursor, to, &self.rec.question_at);
        if self.quiz.asking.is_some() {
            self.playing = false;
        }
        self.cursor = to;
        self.refresh();
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
                let to = self.rec.steps.partition_point(|s| s.time <= clock);
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
        self.clock = self.now();
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
