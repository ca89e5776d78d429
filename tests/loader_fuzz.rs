//! The scenario loader never panics, whatever it is fed.

use proptest::prelude::*;
use txlab_sim::lab::scenario::Scenario;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Scenario::parse(&bytes, "fuzz");
    }

    #[test]
    fn mutated_library_files_never_panic(
        which in 0..txlab::library::LIBRARY.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8),
    ) {
        let mut bytes = txlab::library::LIBRARY[which].1.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        if let Ok(s) = Scenario::parse(&bytes, "mutant") {
            // Whatever loads must also run without panicking.
            for p in txlab_sim::protocols::Protocol::ALL {
                let mut spec = s.spec_for(p);
                spec.max_steps = 20_000;
                let _ = txlab_sim::lab::run(&spec);
            }
        }
    }
}
