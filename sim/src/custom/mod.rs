//! Your own services in txlab's sagas.
//!
//! Implement [`ServiceLogic`] for one service's business logic: what an
//! action and a compensation do to the service's own state, for a
//! (saga, step, idempotency key, message id, payload) request, answering
//! [`Answer::Done`], [`Answer::Rejected`] (4xx-like, final) or
//! [`Answer::Transient`] (5xx-like, retried). Idempotency is yours to choose
//! (by [`IdempotencyKey`], by [`MessageId`], or none), and so is what a
//! crash forgets ([`ServiceLogic::on_crash`]).
//!
//! Name it in a [`Registry`], name the registry entry in a scenario file
//! (`[[services]] logic = "payment"`), and [`Registry::attach`] the
//! registry to the loaded scenario: the orchestrated and the choreographed
//! saga then run your logic in that service's node, behind txlab's
//! messaging (commands, replies, broker, outbox, write-ahead log), under
//! the scenario's network and faults, with every built-in checker on.
//! Add your own [`Invariant`]s over the final state and the observations.
//!
//! Two-phase commit keeps txlab's built-in participant: its prepare /
//! vote / commit state machine *is* the protocol, so a user service in a
//! 2PC run is played by the built-in one with the same resources.
//!
//! The property-test harness built on this is `txlab_sim::testkit` (feature
//! `testkit`); docs/testkit.md walks through it.

mod invariant;
mod logic;
mod plugged;
mod registry;

pub use invariant::{Facts, Invariant, violations};
pub use logic::{Answer, IdempotencyKey, MessageId, Request, ServiceLogic};
pub(crate) use plugged::Call;
pub use plugged::{Plugged, Plugins, Snapshot};
pub use registry::Registry;
