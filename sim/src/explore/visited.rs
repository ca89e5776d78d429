//! The set of fingerprints already seen. Fingerprints are already
//! well-mixed stable hashes, so the table hashes them by identity: no
//! `RandomState`, nothing that differs between processes.

// Determinism: this hash set never reaches a trace or a result (see
// `Visited`: fixed hasher, only `insert`/`contains`, never iterated).
use std::collections::HashSet; // deterministic: fixed hasher, never iterated (see Visited)
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher that passes a `u64` through unchanged.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys go in; fold anything else in deterministically.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Fingerprints seen so far. The one hash set in `sim`, and it cannot
/// reach a trace or a result: its hasher is fixed (no `RandomState`) and
/// the explorer only asks it `insert` and `contains`, never iterates it, so
/// its internal order is never observed. A sorted set would cost a log
/// factor on the explorer's hottest line.
pub type Visited = HashSet<u64, BuildHasherDefault<IdentityHasher>>; // membership only: order never observed

/// An empty set with room for `n` fingerprints.
pub fn visited_with_capacity(n: usize) -> Visited {
    Visited::with_capacity_and_hasher(n, BuildHasherDefault::default())
}
