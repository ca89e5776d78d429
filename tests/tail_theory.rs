//! The `tail-latency` lesson against its theory, over many seeds rather
//! than the one seed the lesson pins.
//!
//! Derivation (before running): a hop takes a Pareto delay with minimum
//! 2 ms and alpha 1.5, so P(X > x) = (2/x)^1.5 (capped at 500 ms, which
//! only matters beyond 100 ms anyway). Without disk latency, the 2PC
//! coordinator's 100 ms vote timeout expires for a participant when its
//! PREPARE hop plus its vote hop take over 100 ms: P(X1 + X2 > 100) =
//! P(X1 > 98) + ∫ f(x) P(X2 > 100 - x) dx over [2, 98] = 0.00615 by
//! numerical integration (the one-big-jump estimate 2 (2/98)^1.5 gives
//! 0.0058). A booking has four participants, so it aborts with probability
//! 1 - (1 - 0.00615)^4 = 2.44 %.

use txlab::library::LIBRARY;
use txlab_sim::lab::run;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::protocols::Protocol;

/// The derived abort probability per booking.
const P_ABORT: f64 = 0.0244;

#[test]
fn two_pc_aborts_the_share_of_bookings_the_pareto_tail_predicts() {
    let (name, text) = LIBRARY
        .iter()
        .find(|(n, _)| *n == "tail-latency")
        .expect("the lesson exists");
    let lesson = Scenario::parse(text.as_bytes(), name).unwrap();
    let mut spec = lesson.spec_for(Protocol::TwoPc);
    spec.recording = false;
    let (mut aborted, mut bookings) = (0u32, 0u32);
    for seed in 0..40 {
        spec.seed = seed;
        let report = run(&spec).report;
        aborted += report.outcomes.get("aborted").copied().unwrap_or(0);
        bookings += report.outcomes.values().sum::<u32>();
    }
    assert_eq!(bookings, 40 * 100, "every booking reaches an outcome");
    // Binomial: mean n p, standard deviation sqrt(n p (1 - p)); four
    // standard deviations either side keeps a correct model green while a
    // timeout measured from the wrong moment, a missing hop or a vote sent
    // before the write would move the rate well outside.
    let n = bookings as f64;
    let mean = n * P_ABORT;
    let sd = (n * P_ABORT * (1.0 - P_ABORT)).sqrt();
    let got = aborted as f64;
    assert!(
        (got - mean).abs() <= 4.0 * sd,
        "2PC aborted {aborted} of {bookings} bookings; theory says {mean:.0} ± {:.0}",
        4.0 * sd
    );
}
