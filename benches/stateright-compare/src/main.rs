//! TwoPhase with N RMs (default 8: 1,745,408 distinct states) explored by
//! stateright 0.31's DFS and by txlab's explorer (BFS, 1 and 2 threads),
//! on the *same* model code: txlab's packed `TwoPhase`, wrapped in
//! stateright's `Model` trait. Prints the median of five runs of each, in
//! distinct states per second.
//!
//! `cargo run --release --manifest-path benches/stateright-compare/Cargo.toml [N]`

use stateright::{Checker, Model as _, Property};
use std::time::Instant;
use txlab_sim::explore::{Model, Options, TwoPhase, TwoPhaseAction, explore};

/// txlab's TwoPhase seen through stateright's trait.
struct Wrapped(TwoPhase);

impl stateright::Model for Wrapped {
    type State = u64;
    type Action = TwoPhaseAction;

    fn init_states(&self) -> Vec<u64> {
        Model::init_states(&self.0)
    }
    fn actions(&self, state: &u64, actions: &mut Vec<TwoPhaseAction>) {
        Model::actions(&self.0, state, actions)
    }
    fn next_state(&self, state: &u64, action: TwoPhaseAction) -> Option<u64> {
        Model::next_state(&self.0, state, &action)
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::<Self>::always("consistent", |m, s| {
            let mut v = Vec::new();
            Model::violations(&m.0, s, false, &mut v);
            v.is_empty()
        })]
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure(label: &str, states_expected: u64, mut run: impl FnMut() -> u64) {
    let rates: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let states = run();
            let s = t.elapsed().as_secs_f64();
            assert_eq!(states, states_expected, "{label}");
            states as f64 / s
        })
        .collect();
    println!("{label:<28} {:>6.2} M distinct states/s (median of 5)", median(rates) / 1e6);
}

fn main() {
    let n: u32 = std::env::args().nth(1).map_or(8, |a| a.parse().expect("N"));
    let expected = 4u64.pow(n) + 2u64.pow(n) + 6u64.pow(n);
    let model = TwoPhase::new(n);
    println!("TwoPhase, {n} RMs: {expected} distinct states");
    for threads in [1, 2] {
        measure(&format!("stateright dfs, {threads} thread(s)"), expected, || {
            let c = Wrapped(model).checker().threads(threads).spawn_dfs().join();
            c.unique_state_count() as u64
        });
    }
    for threads in [1, 2] {
        let options = Options {
            threads,
            ..Options::default()
        };
        measure(&format!("txlab bfs, {threads} thread(s)"), expected, || {
            explore(&model, &options, &|_| {}).distinct_states
        });
    }
}
