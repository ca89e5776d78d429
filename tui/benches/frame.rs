//! Rendering cost on a long trace: one frame at 200×50, one step back, and
//! a jump to the next moment and back (`n`, `N`), on a contended scenario
//! stretched to about 100,000 merged events.
//!
//! Run with `cargo bench -p txlab-tui`.

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use txlab_sim::lab::scenario::Scenario;
use txlab_tui::action::Action;
use txlab_tui::app::App;
use txlab_tui::view::MainScreen;

fn big_app() -> App {
    let text = include_str!("../../scenarios/long-lived-contention.toml");
    let mut s = Scenario::parse(text.as_bytes(), "long-lived-contention").unwrap();
    // More bookings over a lossy network: a long trace.
    s.file.workload.transactions = 600;
    s.file.network.loss = 0.05;
    let s = Scenario::from_file(s.file, "bench", Default::default()).unwrap();
    let mut app = App::new(s, Vec::new());
    app.update(Action::JumpEnd);
    println!("merged trace: {} events", app.rec.steps.len());
    let (n, bytes) = app.checkpoint_memory();
    println!("fold checkpoints: {n}, about {} KiB", bytes / 1024);
    app
}

fn bench(c: &mut Criterion) {
    let mut app = big_app();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let mut g = c.benchmark_group("tui");
    g.sample_size(20);
    g.bench_function("render_frame_200x50_at_end", |b| {
        b.iter(|| {
            terminal
                .draw(|f| f.render_widget(&MainScreen(black_box(&app)), f.area()))
                .unwrap();
        })
    });
    g.bench_function("step_back_one_event_at_end", |b| {
        b.iter(|| {
            app.update(Action::StepBack);
            app.update(Action::StepForward);
        })
    });
    // `n` then `N` from the middle of the trace: each jump folds the
    // three panes at a new cursor (half the trace each time).
    app.update(Action::Seek(0.5));
    let moments = app.rec.moments.len();
    println!("moments: {moments}");
    g.bench_function("n_then_N_mid_trace", |b| {
        b.iter(|| {
            app.update(Action::NextMoment);
            app.update(Action::PrevMoment);
        })
    });
    g.bench_function("render_frame_200x50_mid_trace", |b| {
        b.iter(|| {
            terminal
                .draw(|f| f.render_widget(&MainScreen(black_box(&app)), f.area()))
                .unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
