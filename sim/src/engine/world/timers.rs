//! A node's armed timers.

use crate::engine::TimerId;

/// The timers a node has armed, each with the token of its live schedule,
/// kept sorted by timer id in one vector. A node arms few timers at a
/// time, so a sorted vector answers as fast as a tree, and clearing it for
/// the next run of a sweep keeps its allocation where a tree frees every
/// node. Iteration is in timer-id order, as a `BTreeMap`'s was, so the
/// explorer's state hashes do not change.
#[derive(Clone, Debug, Default)]
pub(in crate::engine) struct ArmedTimers(Vec<(TimerId, u64)>);

impl ArmedTimers {
    fn find(&self, timer: TimerId) -> Result<usize, usize> {
        self.0.binary_search_by_key(&timer, |(t, _)| *t)
    }

    /// The token of `timer`'s live schedule, if it is armed.
    pub(in crate::engine) fn get(&self, timer: &TimerId) -> Option<&u64> {
        self.find(*timer).ok().map(|i| &self.0[i].1)
    }

    /// Arm `timer` under `token`, replacing an earlier schedule of it.
    pub(in crate::engine) fn insert(&mut self, timer: TimerId, token: u64) {
        match self.find(timer) {
            Ok(i) => self.0[i].1 = token,
            Err(i) => self.0.insert(i, (timer, token)),
        }
    }

    /// Disarm `timer` (nothing happens if it is not armed).
    pub(in crate::engine) fn remove(&mut self, timer: &TimerId) {
        if let Ok(i) = self.find(*timer) {
            self.0.remove(i);
        }
    }

    /// Disarm every timer, keeping the allocation.
    pub(in crate::engine) fn clear(&mut self) {
        self.0.clear();
    }

    /// How many timers are armed.
    pub(in crate::engine) fn len(&self) -> usize {
        self.0.len()
    }

    /// The armed timers, in id order.
    pub(in crate::engine) fn keys(&self) -> impl Iterator<Item = &TimerId> {
        self.0.iter().map(|(t, _)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64, u64),
        Remove(u64),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Few distinct ids, so re-arming and removing armed timers is common.
        prop_oneof![
            5 => (0..12u64, any::<u64>()).prop_map(|(t, k)| Op::Insert(t, k)),
            3 => (0..12u64).prop_map(Op::Remove),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// The table answers exactly as the ordered map it replaced.
        #[test]
        fn matches_an_ordered_map(ops in proptest::collection::vec(op(), 1..200)) {
            let mut table = ArmedTimers::default();
            let mut reference: BTreeMap<TimerId, u64> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(t, k) => {
                        table.insert(TimerId(t), k);
                        reference.insert(TimerId(t), k);
                    }
                    Op::Remove(t) => {
                        table.remove(&TimerId(t));
                        reference.remove(&TimerId(t));
                    }
                    Op::Clear => {
                        table.clear();
                        reference.clear();
                    }
                }
                prop_assert_eq!(table.len(), reference.len());
                prop_assert!(table.keys().eq(reference.keys()));
                for t in 0..12 {
                    prop_assert_eq!(table.get(&TimerId(t)), reference.get(&TimerId(t)));
                }
            }
        }
    }
}
