//! The explorer, calibrated on Gray & Lamport's TwoPhase specification.

use txlab_sim::explore::{Explored, Model, Options, Strategy, TwoPhase, TwoPhaseAction, explore};

fn run<M: Model>(model: &M, strategy: Strategy, threads: usize) -> Explored<M::Action> {
    let options = Options {
        strategy,
        threads,
        ..Options::default()
    };
    explore(model, &options, &|_| {})
}

/// The number of distinct reachable states of TwoPhase with `n` RMs,
/// counted by hand from the specification (not from the explorer):
/// - TM in init: no decision was sent; each RM is working, aborted on its
///   own, or prepared with or without the TM knowing: 4 choices per RM.
/// - TM committed: every RM had prepared and the TM knew it; each RM is
///   prepared or has received Commit: 2 per RM.
/// - TM aborted: each RM is working, aborted without preparing, or prepared
///   or aborted after preparing, each of those two with or without the TM
///   having known it prepared before it aborted: 6 per RM.
///
/// This gives the published figures: 288 for 3 RMs (TLC; stateright's
/// examples/2pc.rs), 8,832 for 5 and 1,745,408 for 8 (stateright).
fn expected_states(n: u32) -> u64 {
    4u64.pow(n) + 2u64.pow(n) + 6u64.pow(n)
}

#[test]
fn formula_reproduces_the_published_counts() {
    assert_eq!(expected_states(3), 288);
    assert_eq!(expected_states(5), 8_832);
    assert_eq!(expected_states(8), 1_745_408);
}

#[test]
fn two_phase_counts_match_tlc_for_two_to_five_rms() {
    for n in 1..=5 {
        let r = run(&TwoPhase::new(n), Strategy::Bfs, 1);
        assert_eq!(r.distinct_states, expected_states(n), "{n} RMs");
        assert!(r.complete, "{n} RMs: exhausted");
        assert!(r.violations.is_empty(), "{n} RMs: consistency holds");
        // Terminal: everyone committed (one state), or the TM aborted and
        // every RM aborted, with the TM's prepared set any subset of the
        // RMs that prepared before it aborted: sum over k prepared of
        // C(n,k) 2^k = 3^n.
        assert_eq!(r.terminal.get("committed"), Some(&1), "{n} RMs");
        assert_eq!(r.terminal.get("aborted"), Some(&3u64.pow(n)), "{n} RMs");
    }
}

#[test]
fn dfs_and_parallel_bfs_count_the_same() {
    let model = TwoPhase::new(5);
    let one = run(&model, Strategy::Bfs, 1);
    let two = run(&model, Strategy::Bfs, 2);
    let four = run(&model, Strategy::Bfs, 4);
    let dfs = run(&model, Strategy::Dfs, 1);
    assert_eq!(one, two);
    assert_eq!(one, four);
    assert_eq!(dfs.distinct_states, one.distinct_states);
    assert_eq!(dfs.terminal, one.terminal);
}

#[test]
fn broken_two_phase_is_caught_with_a_shortest_counterexample() {
    let model = TwoPhase::new(3).commit_without_votes();
    let bfs = run(&model, Strategy::Bfs, 1);
    assert_eq!(bfs.violations.len(), 1);
    let found = &bfs.violations[0];
    assert_eq!(found.invariant, "consistent");
    // Shortest by hand: one RM aborts on its own, the TM commits without
    // votes, another RM receives Commit: three steps.
    assert_eq!(found.path.len(), 3, "{:?}", found.path);
    assert!(found.path.contains(&TwoPhaseAction::TmCommit));
    // Replaying the path reaches a state that breaks the invariant.
    let mut s = model.init_states()[0];
    for a in &found.path {
        s = model.next_state(&s, a).expect("enabled");
    }
    let mut broken = Vec::new();
    model.violations(&s, false, &mut broken);
    assert_eq!(broken, ["consistent"]);
    // Depth-first finds it too, never by a shorter path.
    let dfs = run(&model, Strategy::Dfs, 1);
    assert!(dfs.violations[0].path.len() >= found.path.len());
    // Identical across thread counts, counterexample included.
    assert_eq!(run(&model, Strategy::Bfs, 2), bfs);
}

/// A state bound stops the search at exactly that many states, the same
/// ones for one thread as for two (BFS admits states in frontier order),
/// and says the search is incomplete; a bound above the space's size
/// changes nothing. TwoPhase with 5 RMs has 8,832 states (above).
#[test]
fn a_state_bound_cuts_the_search_at_that_many_states_whatever_the_threads() {
    let model = TwoPhase::new(5);
    let bounded = |max: u64, threads: usize, strategy: Strategy| {
        let options = Options {
            strategy,
            max_states: Some(max),
            threads,
            ..Options::default()
        };
        explore(&model, &options, &|_| {})
    };
    let one = bounded(5_000, 1, Strategy::Bfs);
    assert_eq!(one.distinct_states, 5_000);
    assert!(!one.complete);
    assert_eq!(one, bounded(5_000, 2, Strategy::Bfs));
    let dfs = bounded(5_000, 1, Strategy::Dfs);
    assert_eq!((dfs.distinct_states, dfs.complete), (5_000, false));
    let roomy = bounded(8_832, 2, Strategy::Bfs);
    assert_eq!((roomy.distinct_states, roomy.complete), (8_832, true));
}

#[test]
fn a_depth_bound_makes_the_search_incomplete() {
    let r = explore(
        &TwoPhase::new(3),
        &Options {
            max_depth: Some(3),
            ..Options::default()
        },
        &|_| {},
    );
    assert!(!r.complete);
    assert_eq!(r.max_depth, 3);
    assert!(r.distinct_states < 288);
}
