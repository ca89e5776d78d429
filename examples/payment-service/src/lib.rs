//! A payment service written the way a user of a saga framework would
//! write it, in two versions, and property-tested with txlab's testkit.
//!
//! - [`v1::Payment`] deduplicates by the **message id**. Network duplicates
//!   and broker redeliveries keep their id, so it looks idempotent; but
//!   when the orchestrator times out and sends the command again (as an
//!   outbox relay republishing would), the resend has a new id, and Sam is
//!   charged twice.
//! - [`v2::Payment`] deduplicates by the **business key** (saga, step,
//!   operation), records a refund that arrives before its charge, and
//!   refuses the late charge.
//!
//! [`registry`] and [`registry_v1`] name them `"payment"`, the name
//! `payment.toml` (the [`SCENARIO`]) uses.
#![warn(missing_docs)]

pub mod v1;
pub mod v2;

use txlab_sim::custom::{Invariant, Registry};
use txlab_sim::protocols::Outcome;

/// The scenario: reserve an item at the (built-in) shop, then charge Sam
/// $100 at our payment service.
pub const SCENARIO: &str = include_str!("../payment.toml");

/// Sam's starting balance and the price, as in [`SCENARIO`].
pub const START: i64 = 1_000;
/// The price of one order.
pub const PRICE: i64 = 100;

/// The fixed service, registered as `"payment"`.
pub fn registry() -> Registry {
    Registry::new().register("payment", v2::Payment::new)
}

/// The buggy first version, registered under the same name (so a repro
/// written against it replays against either).
pub fn registry_v1() -> Registry {
    Registry::new().register("payment", v1::Payment::new)
}

/// Sam pays exactly the price of each completed order, and nothing for
/// the others.
pub fn sam_pays_per_order() -> Invariant {
    Invariant::new("sam_pays_per_order", |facts| {
        let expected = START - PRICE * i64::from(facts.count(Outcome::Completed));
        let sam = facts.amount("payment", "sam");
        if sam == expected {
            Ok(())
        } else {
            Err(format!(
                "Sam has ${sam}, expected ${expected} after {} completed orders",
                facts.count(Outcome::Completed)
            ))
        }
    })
}
