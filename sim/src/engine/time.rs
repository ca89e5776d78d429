//! Virtual time. The simulator never reads a clock: every instant and every
//! duration is a [`SimTime`] counted in microseconds from the start of the run.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant or a span of virtual time, in microseconds.
///
/// One type serves both roles on purpose: protocol code adds delays to `now`
/// constantly, and a second newtype would only add conversions.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimTime(us)
    }

    /// `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms.saturating_mul(1_000))
    }

    /// `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s.saturating_mul(1_000_000))
    }

    /// Microseconds since the start.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Milliseconds since the start, with fractions.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }

    /// `self + d`, stopping at [`SimTime::MAX`].
    pub const fn saturating_add(self, d: SimTime) -> Self {
        SimTime(self.0.saturating_add(d.0))
    }

    /// `self - d`, stopping at zero.
    pub const fn saturating_sub(self, d: SimTime) -> Self {
        SimTime(self.0.saturating_sub(d.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        self.saturating_add(rhs)
    }
}

impl AddAssign for SimTime {
    fn add_assign(&mut self, rhs: SimTime) {
        *self = *self + rhs;
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        self.saturating_sub(rhs)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us % 1_000 == 0 {
            write!(f, "{}ms", us / 1_000)
        } else {
            write!(f, "{}.{:03}ms", us / 1_000, us % 1_000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimTime(1), SimTime::MAX);
        assert_eq!(SimTime(1) - SimTime(5), SimTime::ZERO);
        assert_eq!(SimTime::from_millis(3).as_micros(), 3_000);
    }

    #[test]
    fn display_is_milliseconds() {
        assert_eq!(SimTime::from_millis(12).to_string(), "12ms");
        assert_eq!(SimTime(12_345).to_string(), "12.345ms");
    }
}
