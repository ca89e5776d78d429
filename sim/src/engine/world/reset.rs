//! Reusing a world: back to its first step under another seed, keeping
//! every allocation (a sweep runs thousands of seeds of one scenario).

use super::World;
use crate::engine::rng::{Stream, stream};
use crate::engine::{Node, SimTime, Stats};

impl<N: Node> World<N> {
    /// Back to the moment before the first step, under another seed: every
    /// node at its boot state with an empty log, the fault schedule and
    /// the event-tied faults as they were armed then (faults added during
    /// the run are forgotten), an empty queue and trace. The run that
    /// follows is the run a new world built with `seed` would make, trace
    /// hash included; only the allocations are kept, so a sweep pays for
    /// building a world once, not once per seed.
    pub fn reset(&mut self, seed: u64) {
        if self.started {
            self.faults.clone_from(&self.armed.0);
            self.triggers.rewind(self.armed.1);
        }
        for slot in self.nodes.iter_mut() {
            // Reuse the allocations unless a clone shares them.
            match std::sync::Arc::get_mut(&mut slot.state) {
                Some(state) => state.clone_from(&*slot.boot),
                None => slot.state = std::sync::Arc::clone(&slot.boot),
            }
            slot.up = true;
            slot.incarnation = 0;
            // A node that wrote nothing (a client, say) needs nothing
            // here, not even the atomic check whether a clone shares it.
            if !slot.durable.is_empty() {
                match std::sync::Arc::get_mut(&mut slot.durable) {
                    Some(log) => log.clear(),
                    None => slot.durable = std::sync::Arc::default(),
                }
            }
            slot.timers.clear();
            slot.blocked = false;
            slot.inbox.clear();
            slot.rng.reseed(seed);
        }
        self.now = SimTime::ZERO;
        self.started = false;
        self.queue.clear();
        self.net.reset(stream(seed, Stream::Network));
        self.next_fault = 0;
        self.released.clear();
        self.next_msg = 0;
        self.next_token = 0;
        self.trace.clear();
        self.stats = Stats::default();
        self.outbox.clear();
        // A world in chosen mode stays in it, with nothing pending.
        if let Some(pool) = &mut self.pool {
            pool.clear();
        }
        self.script.clear();
    }
}
