//! Rules for turning a workload knob that keep a scenario valid, shared
//! by `txlab sweep --swarm` and the property-test kit (which re-exports
//! them): these live outside the `testkit` feature so the CLI builds
//! without proptest.

use super::format::{EventFile, FaultFile, StepFile};
use crate::protocols::Protocol;
use crate::protocols::workload::StepKind;

/// Whether steps `i` and `i + 1` may form a parallel group (the rules
/// validation enforces, for a file with no group yet).
pub fn may_group(steps: &[StepFile], i: usize) -> bool {
    let (Some(a), Some(b)) = (steps.get(i), steps.get(i + 1)) else {
        return false;
    };
    let before = i.checked_sub(1).map(|p| steps[p].service.as_str());
    steps.iter().all(|s| s.group.is_none())
        && a.kind == b.kind
        && a.kind != StepKind::Pivot
        && a.service != b.service
        && before != Some(a.service.as_str())
        && before != Some(b.service.as_str())
        && b.reads.as_deref() != Some(a.name.as_str())
}

/// The crash of `service` tied to the first message of `protocol` that
/// reaches it, and its restart `down_ms` later (tied to the same event).
pub fn tied_crash(protocol: Protocol, service: &str, nth: u32, down_ms: u64) -> [FaultFile; 2] {
    let message = match protocol {
        Protocol::TwoPc => "prepare",
        Protocol::Orchestrated => "action",
        Protocol::Choreographed => "deliver",
    };
    let after = EventFile {
        message: Some(message.into()),
        to: Some(service.into()),
        nth,
        ..EventFile::default()
    };
    let fault = FaultFile {
        protocol: Some(protocol.name().into()),
        after: Some(after),
        ..FaultFile::default()
    };
    [
        FaultFile {
            crash: Some(service.into()),
            ..fault.clone()
        },
        FaultFile {
            delay_ms: Some(down_ms as f64),
            restart: Some(service.into()),
            ..fault
        },
    ]
}
