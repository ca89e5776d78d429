//! `Check::assert` panics at the caller's line, not inside the testkit
//! (issue 15: the panic pointed at sim/src/testkit/check.rs). Alone in its
//! file because it installs a panic hook, which is process-wide.

use payment_service::{SCENARIO, registry};
use std::sync::{Arc, Mutex};
use txlab_sim::custom::Invariant;
use txlab_sim::protocols::Outcome;
use txlab_sim::testkit::Check;

#[test]
fn a_failing_assert_points_at_the_callers_line() {
    let never_completes = Invariant::new("nothing_completes", |facts| {
        match facts.count(Outcome::Completed) {
            0 => Ok(()),
            n => Err(format!("{n} orders completed")),
        }
    });
    let check = Check::parse(SCENARIO, "payment.toml", registry())
        .unwrap()
        .invariant(never_completes)
        .repro_dir(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("location"))
        .cases(10);
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = Arc::clone(&seen);
    std::panic::set_hook(Box::new(move |info| {
        let at = info.location().map(|l| (l.file().to_string(), l.line()));
        *hook_seen.lock().unwrap() = at;
    }));
    let line = line!() + 1;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check.assert()));
    let _ = std::panic::take_hook();
    let payload = result.expect_err("a completed order breaks the invariant");
    let message = payload.downcast_ref::<String>().expect("a formatted panic");
    assert!(message.contains("nothing_completes"), "{message}");
    let (file, at) = seen.lock().unwrap().clone().expect("a location");
    assert!(file.ends_with("assert_location.rs"), "{file}:{at}");
    assert_eq!(at, line);
}
