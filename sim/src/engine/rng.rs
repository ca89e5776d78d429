//! Seeded randomness. One seed per run, forked into independent ChaCha8
//! streams per purpose, so that drawing more numbers for one purpose (say, a
//! fault added by the user) never shifts the numbers another purpose sees.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for. Each purpose gets its own ChaCha stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Latency, loss and duplication draws.
    Network,
    /// Fault parameters drawn by swarm testing.
    Faults,
    /// Workload generation: arrivals, which transactions fail.
    Workload,
    /// A node's own randomness (retry jitter), one stream per node.
    Node(u32),
}

impl Stream {
    fn number(self) -> u64 {
        match self {
            Stream::Network => 1,
            Stream::Faults => 2,
            Stream::Workload => 3,
            // Node streams start far from the fixed purposes.
            Stream::Node(n) => 1_000 + u64::from(n),
        }
    }
}

/// The random stream for `purpose` in the run seeded with `seed`.
pub fn stream(seed: u64, purpose: Stream) -> ChaCha8Rng {
    // What `fork(&seeded(seed), purpose)` gives, without copying the
    // generator's 256-byte buffer: a fresh generator is forked in place.
    let mut rng = seeded(seed);
    rng.set_stream(purpose.number());
    rng
}

/// The generator every stream of the run seeded with `seed` forks from:
/// expanding a seed costs more than forking, so a world that needs many
/// streams (one per node) expands it once.
pub fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The stream for `purpose` of the run whose [`seeded`] generator is
/// `base`: the same numbers [`stream`] gives for that seed and purpose.
pub fn fork(base: &ChaCha8Rng, purpose: Stream) -> ChaCha8Rng {
    let mut rng = base.clone();
    rng.set_stream(purpose.number());
    rng
}

/// The stream for one purpose of a run, made the first time it is drawn
/// from. Making a stream writes ~300 bytes of generator state, and a sweep
/// resets thousands of worlds whose nodes mostly never draw: those pay
/// nothing. A stream made late gives the numbers it would have given made
/// early, because no other stream shares its state.
#[derive(Clone, Debug)]
pub(crate) struct LazyStream {
    seed: u64,
    purpose: Stream,
    rng: Option<ChaCha8Rng>,
}

impl LazyStream {
    /// The stream [`stream`] gives for `seed` and `purpose`, not made yet.
    pub(crate) fn new(seed: u64, purpose: Stream) -> Self {
        LazyStream {
            seed,
            purpose,
            rng: None,
        }
    }

    /// The same purpose's stream under another seed, not made yet.
    pub(crate) fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.rng = None;
    }

    /// The stream, made now if this is its first draw.
    pub(crate) fn get(&mut self) -> &mut ChaCha8Rng {
        let (seed, purpose) = (self.seed, self.purpose);
        self.rng.get_or_insert_with(|| stream(seed, purpose))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map(|_| stream(7, Stream::Network).random())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]), "same seed, same stream");
        let net: u64 = stream(7, Stream::Network).random();
        let faults: u64 = stream(7, Stream::Faults).random();
        let other_seed: u64 = stream(8, Stream::Network).random();
        assert_ne!(net, faults);
        assert_ne!(net, other_seed);
    }

    #[test]
    fn a_fork_of_one_expanded_seed_is_the_stream() {
        for purpose in [Stream::Network, Stream::Node(0), Stream::Node(3)] {
            let want: Vec<u64> = (0..40)
                .map({
                    let mut r = stream(7, purpose);
                    move |_| r.random()
                })
                .collect();
            let fresh = seeded(7);
            let mut r = fork(&fresh, purpose);
            let got: Vec<u64> = (0..40).map(|_| r.random()).collect();
            assert_eq!(got, want, "{purpose:?}");
        }
    }

    #[test]
    fn a_lazy_stream_is_the_stream_whenever_it_is_made() {
        let want: Vec<u64> = {
            let mut r = stream(9, Stream::Node(2));
            (0..40).map(|_| r.random()).collect()
        };
        let mut lazy = LazyStream::new(7, Stream::Node(2));
        let _: u64 = lazy.get().random();
        // Reseeding forgets the draws made under the old seed.
        lazy.reseed(9);
        let got: Vec<u64> = (0..40).map(|_| lazy.get().random()).collect();
        assert_eq!(got, want);
        let other: u64 = LazyStream::new(9, Stream::Node(3)).get().random();
        assert_ne!(other, want[0], "another node, another stream");
    }
}
