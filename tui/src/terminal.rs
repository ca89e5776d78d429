//! The terminal: setup and restore, and the tokio event loop that turns
//! key presses, mouse clicks and playback ticks into actions. Real time
//! lives here and nowhere else.

use crate::action::{Action, action_for};
use crate::app::App;
use crate::view::{MainScreen, areas, pane_at, timeline_bar};
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, EventStream, KeyEventKind, MouseButton,
    MouseEventKind,
};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::layout::Rect;
use std::io;

/// Run the UI until the user quits. The terminal is restored on quit, on
/// Ctrl-C (a key press in raw mode) and on panic.
pub fn run(app: App) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    rt.block_on(async move {
        let mut terminal = ratatui::init();
        // ratatui's hook restores raw mode and the screen; ours runs first
        // and releases the mouse too.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(io::stdout(), DisableMouseCapture);
            previous(info);
        }));
        let _ = crossterm::execute!(io::stdout(), EnableMouseCapture);
        let result = event_loop(&mut terminal, app).await;
        let _ = crossterm::execute!(io::stdout(), DisableMouseCapture);
        ratatui::restore();
        result
    })
}

async fn event_loop(terminal: &mut DefaultTerminal, mut app: App) -> io::Result<()> {
    let mut events = EventStream::new();
    let mut beat = app.tick_interval();
    let mut playing = app.playing;
    let mut tick = playback(app.tick_interval());
    loop {
        let mut screen = Rect::default();
        terminal.draw(|f| {
            screen = f.area();
            f.render_widget(&MainScreen(&app), f.area());
        })?;
        if let Some(base) = app.export.request.take() {
            app.status = crate::export::write_exports(&app, screen, &base);
            continue;
        }
        if let Some(save) = app.save.take() {
            app.status = match write_atomically(&save.path, &save.text) {
                Ok(()) => format!("saved {}", save.path),
                Err(e) => format!("could not save {}: {e}", save.path),
            };
            continue;
        }
        if app.quit {
            return Ok(());
        }
        tokio::select! {
            _ = tick.tick(), if app.playing => app.update(Action::Tick),
            event = events.next() => match event {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press => {
                    if let Some(a) = action_for(k, app.entering_text()) {
                        app.update(a);
                    }
                }
                Some(Ok(Event::Mouse(m))) => {
                    let seeking = matches!(m.kind, MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left));
                    let line = areas(screen, &app).timeline;
                    match m.kind {
                        MouseEventKind::ScrollUp => app.update(Action::ScrollUp(3)),
                        MouseEventKind::ScrollDown => app.update(Action::ScrollDown(3)),
                        _ => {}
                    }
                    if m.kind == MouseEventKind::Down(MouseButton::Left) {
                        if let Some((pane, node)) = pane_at(&app, screen, m.column, m.row) {
                            app.update(Action::Click { pane, node });
                        }
                    }
                    if seeking && m.row == line.y {
                        let (x, w) = timeline_bar(&app, line);
                        if w > 0 && m.column >= x {
                            let f = f64::from(m.column - x) / f64::from(w);
                            app.update(Action::Seek(f));
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
        }
        // A new speed, or play after a pause, starts the beat afresh: the
        // time spent paused must not come back as a burst of ticks.
        if app.tick_interval() != beat || (app.playing && !playing) {
            beat = app.tick_interval();
            tick = playback(app.tick_interval());
        }
        playing = app.playing;
    }
}

/// The playback beat. Ticks missed while nobody polled (paused, or a slow
/// frame) are skipped, not replayed: tokio's default would fire them all
/// at once, which is how play used to jump ahead after a pause.
fn playback(period: std::time::Duration) -> tokio::time::Interval {
    let start = tokio::time::Instant::now() + period;
    let mut tick = tokio::time::interval_at(start, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Write beside the target and rename, so a file is never half-written.
fn write_atomically(path: &str, text: &str) -> io::Result<()> {
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::playback;
    use std::time::Duration;

    /// Guards against play jumping ahead after a pause: however long the
    /// beat goes unpolled, polling again yields one tick, then the beat.
    #[tokio::test(start_paused = true)]
    async fn a_long_pause_gives_one_tick_not_a_burst() {
        let period = Duration::from_millis(100);
        let mut tick = playback(period);
        tick.tick().await;
        // Paused for ten seconds: a hundred periods go unpolled.
        tokio::time::advance(Duration::from_secs(10)).await;
        tick.tick().await;
        let before = tokio::time::Instant::now();
        tick.tick().await;
        assert!(
            tokio::time::Instant::now() - before >= period,
            "the tick after the pause waited a whole period"
        );
    }
}
