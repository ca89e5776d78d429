//! The lesson library: every file in `scenarios/`, embedded in the binary
//! so `txlab list` and `txlab run NAME` work from any directory.

/// The scenario the main job opens.
pub const DEFAULT: &str = "flight-sold-out";

/// The contention workload `txlab anomalies` measures by default.
pub const CONTENTION: &str = "isolation-contention";

/// Name and TOML text of every lesson, in teaching order.
pub const LIBRARY: &[(&str, &str)] = &[
    ("happy-path", include_str!("../scenarios/happy-path.toml")),
    (
        "flight-sold-out",
        include_str!("../scenarios/flight-sold-out.toml"),
    ),
    (
        "retry-5xx-not-4xx",
        include_str!("../scenarios/retry-5xx-not-4xx.toml"),
    ),
    (
        "compensation-not-rollback",
        include_str!("../scenarios/compensation-not-rollback.toml"),
    ),
    (
        "coordinator-crash-after-prepare",
        include_str!("../scenarios/coordinator-crash-after-prepare.toml"),
    ),
    (
        "cooperative-termination",
        include_str!("../scenarios/cooperative-termination.toml"),
    ),
    (
        "cooperative-termination-all-yes",
        include_str!("../scenarios/cooperative-termination-all-yes.toml"),
    ),
    (
        "coordinator-crash-after-commit-logged",
        include_str!("../scenarios/coordinator-crash-after-commit-logged.toml"),
    ),
    (
        "participant-crash-after-vote",
        include_str!("../scenarios/participant-crash-after-vote.toml"),
    ),
    (
        "partition-before-vote",
        include_str!("../scenarios/partition-before-vote.toml"),
    ),
    (
        "partition-after-vote",
        include_str!("../scenarios/partition-after-vote.toml"),
    ),
    (
        "explore-2pc-three-participants",
        include_str!("../scenarios/explore-2pc-three-participants.toml"),
    ),
    (
        "duplicate-payment",
        include_str!("../scenarios/duplicate-payment.toml"),
    ),
    (
        "duplicate-payment-idempotent",
        include_str!("../scenarios/duplicate-payment-idempotent.toml"),
    ),
    (
        "timeout-retry",
        include_str!("../scenarios/timeout-retry.toml"),
    ),
    (
        "timeout-retry-no-idempotency",
        include_str!("../scenarios/timeout-retry-no-idempotency.toml"),
    ),
    (
        "payment-timeout-succeeded",
        include_str!("../scenarios/payment-timeout-succeeded.toml"),
    ),
    (
        "compensation-before-action",
        include_str!("../scenarios/compensation-before-action.toml"),
    ),
    (
        "refund-twice",
        include_str!("../scenarios/refund-twice.toml"),
    ),
    (
        "refund-twice-no-idempotency",
        include_str!("../scenarios/refund-twice-no-idempotency.toml"),
    ),
    (
        "compensation-fails-stuck",
        include_str!("../scenarios/compensation-fails-stuck.toml"),
    ),
    (
        "lost-event-no-outbox",
        include_str!("../scenarios/lost-event-no-outbox.toml"),
    ),
    (
        "choreography-tracing",
        include_str!("../scenarios/choreography-tracing.toml"),
    ),
    (
        "customer-enrolment",
        include_str!("../scenarios/customer-enrolment.toml"),
    ),
    (
        "enrolment-styles",
        include_str!("../scenarios/enrolment-styles.toml"),
    ),
    (
        "concurrent-sagas-anomaly",
        include_str!("../scenarios/concurrent-sagas-anomaly.toml"),
    ),
    (
        "concurrent-sagas-semantic-lock",
        include_str!("../scenarios/concurrent-sagas-semantic-lock.toml"),
    ),
    (
        "latency-buildup",
        include_str!("../scenarios/latency-buildup.toml"),
    ),
    (
        "tail-latency",
        include_str!("../scenarios/tail-latency.toml"),
    ),
    (
        "parallel-fan-out",
        include_str!("../scenarios/parallel-fan-out.toml"),
    ),
    ("slow-disk", include_str!("../scenarios/slow-disk.toml")),
    (
        "long-lived-transaction",
        include_str!("../scenarios/long-lived-transaction.toml"),
    ),
    (
        "isolation-contention",
        include_str!("../scenarios/isolation-contention.toml"),
    ),
    (
        "lost-update-compensation",
        include_str!("../scenarios/lost-update-compensation.toml"),
    ),
    (
        "dirty-read-refund",
        include_str!("../scenarios/dirty-read-refund.toml"),
    ),
    (
        "countermeasure-semantic_lock",
        include_str!("../scenarios/countermeasure-semantic_lock.toml"),
    ),
    (
        "countermeasure-commutative_updates",
        include_str!("../scenarios/countermeasure-commutative_updates.toml"),
    ),
    (
        "countermeasure-version_file",
        include_str!("../scenarios/countermeasure-version_file.toml"),
    ),
    (
        "countermeasure-pessimistic_view",
        include_str!("../scenarios/countermeasure-pessimistic_view.toml"),
    ),
    (
        "countermeasure-reread_value",
        include_str!("../scenarios/countermeasure-reread_value.toml"),
    ),
    (
        "long-lived-contention",
        include_str!("../scenarios/long-lived-contention.toml"),
    ),
];

/// The text of the lesson called `name`.
pub fn get(name: &str) -> Option<&'static str> {
    LIBRARY.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
