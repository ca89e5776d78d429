//! Key handling: what each action does to the app, by what has the
//! keyboard (the filter prompt, the export prompt, an overlay, the main
//! screen).

use crate::action::Action;
use crate::app::{App, Inspect, Overlay, Theme};
use txlab_sim::engine::SimTime;

impl App {
    /// Apply one action.
    pub fn update(&mut self, action: Action) {
        if self.typing {
            return self.update_filter(action);
        }
        if self.export.prompt.is_some() {
            return self.update_export_prompt(action);
        }
        match &self.overlay {
            Overlay::None => self.update_main(action),
            // The help's pages (as many as the screen needs; the view
            // takes this modulo their count): ? or → on, ← back.
            Overlay::Help if matches!(action, Action::Help | Action::NextChange) => {
                self.help_page += 1
            }
            Overlay::Help if action == Action::PrevChange => {
                self.help_page = self.help_page.saturating_sub(1)
            }
            Overlay::Help | Overlay::Inspect(_) | Overlay::Anomalies => match action {
                Action::Back | Action::Help | Action::Confirm | Action::Anomalies => {
                    self.overlay = Overlay::None
                }
                Action::Quit => self.quit = true,
                _ => {}
            },
            Overlay::Picker { .. } => self.update_picker(action),
            Overlay::Sweep { .. } => self.update_sweep(action),
        }
    }

    pub(crate) fn update_main(&mut self, action: Action) {
        if self.update_quiz(action) {
            return;
        }
        let len = self.rec.steps.len();
        match action {
            Action::Quit => self.quit = true,
            Action::TogglePlay => self.toggle_play(),
            Action::Tick => {
                if self.playing {
                    self.tick();
                }
            }
            Action::StepForward => self.seek(self.cursor + 1),
            Action::StepBack => self.seek(self.cursor.saturating_sub(1)),
            Action::NextChange => self.step_visible(true),
            Action::PrevChange => self.step_visible(false),
            Action::NextMoment => self.jump_moment(true),
            Action::PrevMoment => self.jump_moment(false),
            Action::TogglePace => {
                self.sim_pace = !self.sim_pace;
                self.speed = self.speed.min(self.rates() - 1);
                self.sync_clock();
                self.status = format!("playback: {}", self.pace());
            }
            Action::ToggleBackground => {
                self.background = !self.background;
                self.stale = true;
                self.refresh();
                self.status = format!(
                    "background traffic (auditor reads): {}",
                    if self.background { "shown" } else { "hidden" }
                );
            }
            Action::ScrollUp(n) => {
                let rows = self.panes[self.focus].rows.len();
                self.scroll = (self.scroll + n).min(rows.saturating_sub(1));
            }
            Action::ScrollDown(n) => self.scroll = self.scroll.saturating_sub(n),
            Action::TogglePresent => {
                self.set_present(!self.present);
                self.status = format!("presenter mode {}", if self.present { "on" } else { "off" });
            }
            Action::CycleTheme => {
                let i = Theme::ALL
                    .iter()
                    .position(|t| *t == self.theme)
                    .unwrap_or(0);
                self.theme = Theme::ALL[(i + 1) % Theme::ALL.len()];
                self.status = format!("theme: {}", self.theme.name());
            }
            Action::TimeForward => {
                let t = self.now() + SimTime::from_millis(10);
                self.seek(self.rec.cursor_at_time(t + SimTime(1)).max(self.cursor + 1));
            }
            Action::TimeBack => {
                let t = self.now().saturating_sub(SimTime::from_millis(10));
                self.seek(
                    self.rec
                        .cursor_at_time(t + SimTime(1))
                        .min(self.cursor.saturating_sub(1)),
                );
            }
            Action::SpeedUp => self.speed = (self.speed + 1).min(self.rates() - 1),
            Action::SpeedDown => self.speed = self.speed.saturating_sub(1),
            Action::JumpStart => self.seek(0),
            Action::JumpEnd => self.seek(len),
            Action::Seek(f) => self.seek((f.clamp(0.0, 1.0) * len as f64).round() as usize),
            Action::FocusNext => self.set_focus((self.focus + 1) % 3),
            Action::FocusPrev => self.set_focus((self.focus + 2) % 3),
            Action::ToggleZoom => self.zoom = !self.zoom,
            Action::NextNode | Action::Down => self.move_node(1),
            Action::PrevNode | Action::Up => self.move_node(-1),
            Action::NextMessage => {
                let n = self.panes[self.focus].in_flight.len();
                self.message = match (n, self.message) {
                    (0, _) => None,
                    (_, None) => Some(0),
                    (_, Some(m)) => Some((m + 1) % n),
                };
            }
            Action::Inspect | Action::Confirm => {
                self.overlay = Overlay::Inspect(match self.message {
                    Some(m) => Inspect::Message(m),
                    None => Inspect::Node(self.node),
                })
            }
            Action::CrashRestart => self.crash_restart(),
            Action::DropMessage => self.message_fault(true),
            Action::DuplicateMessage => self.message_fault(false),
            Action::PartitionHeal => self.partition_heal(),
            Action::ToggleMirror => {
                self.mirror = !self.mirror;
                self.status = format!(
                    "mirror faults to all protocols: {}",
                    if self.mirror { "on" } else { "off" }
                );
            }
            Action::SaveBranch => self.save_branch(),
            Action::UndoBranch => self.undo_branch(),
            Action::CycleTx => self.cycle_tx(),
            Action::Export => self.open_export_prompt(),
            Action::Help => {
                self.help_page = 0;
                self.overlay = Overlay::Help;
            }
            Action::Picker => self.overlay = Overlay::Picker { selected: 0 },
            Action::Sweep => self.sweep(),
            Action::Anomalies => {
                self.anomalies = self
                    .rec
                    .panes
                    .iter()
                    .zip(&self.panes)
                    .map(|(run, view)| crate::fold::anomalies(run, view.shown))
                    .collect();
                self.overlay = Overlay::Anomalies;
            }
            Action::Filter => {
                self.typing = true;
                self.filter.clear();
            }
            Action::Back => {
                self.filter.clear();
                self.message = None;
            }
            Action::Click { pane, node } => {
                if pane < self.panes.len() && pane != self.focus {
                    self.set_focus(pane);
                }
                // Only a node that exists (a stale click cannot select one).
                if let Some(n) = node.filter(|n| *n < self.panes[self.focus].nodes.len()) {
                    self.node = n;
                    self.message = None;
                }
            }
            Action::Char(_) | Action::Backspace => {}
            Action::ToggleQuiz | Action::Answer(_) => {}
        }
    }

    pub(crate) fn update_filter(&mut self, action: Action) {
        match action {
            Action::Char(c) => self.filter.push(c),
            Action::Backspace => {
                self.filter.pop();
            }
            Action::Confirm => self.typing = false,
            Action::Back => {
                self.typing = false;
                self.filter.clear();
            }
            Action::Quit => self.quit = true,
            _ => {}
        }
    }

    pub(crate) fn set_focus(&mut self, pane: usize) {
        self.focus = pane;
        self.message = None;
    }

    pub(crate) fn move_node(&mut self, by: isize) {
        let visible = self.visible_nodes(self.focus);
        if visible.is_empty() {
            return;
        }
        let at = visible.iter().position(|n| *n == self.node).unwrap_or(0) as isize;
        let next = (at + by).rem_euclid(visible.len() as isize) as usize;
        self.node = visible[next];
        self.message = None;
    }

    pub(crate) fn update_picker(&mut self, action: Action) {
        let Overlay::Picker { selected } = self.overlay.clone() else {
            return;
        };
        let n = self.catalog.len().max(1);
        match action {
            Action::Down => {
                self.overlay = Overlay::Picker {
                    selected: (selected + 1) % n,
                }
            }
            Action::Up => {
                self.overlay = Overlay::Picker {
                    selected: (selected + n - 1) % n,
                }
            }
            Action::Confirm => {
                if let Some(e) = self.catalog.get(selected) {
                    match &e.scenario {
                        Ok(s) => self.open(s.clone()),
                        Err(why) => self.status = format!("{}: {why}", e.name),
                    }
                }
                self.overlay = Overlay::None;
            }
            Action::Back | Action::Picker => self.overlay = Overlay::None,
            Action::Quit => self.quit = true,
            _ => {}
        }
    }
}
