//! The event queue, ordered by (time, sequence number) so events at the
//! same time run in the order they were scheduled.
//!
//! It is a calendar queue: a ring of buckets ~1 ms wide covering the next
//! ~262 ms, plus a heap for anything later. The bucket being drained is kept
//! sorted, so a pop is a `Vec::pop`; other buckets are plain vectors until
//! their turn comes. This relies on what a simulator guarantees: nothing is
//! scheduled before the last event popped. Payloads live in a slab so the
//! buckets move small keys.

use super::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// log2 of the bucket width in microseconds (1,024 µs).
const SHIFT: u32 = 10;
/// Buckets in the ring (a window of about 262 ms: most message delays and
/// timeouts land inside it; a small ring is also cheap to create, which
/// matters when a sweep builds thousands of short worlds).
const RING: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    at: SimTime,
    seq: u64,
    slot: u32,
}

impl Key {
    fn bucket(&self) -> u64 {
        self.at.0 >> SHIFT
    }
}

/// A min-queue of items keyed by time, ties broken by insertion order.
pub struct EventQueue<T> {
    ring: Vec<Vec<Key>>,
    /// One bit per ring slot: set when the slot holds keys. Finding the next
    /// non-empty bucket is then a few word scans, however sparse the run.
    occupied: [u64; RING / 64],
    /// Keys in the ring.
    in_ring: usize,
    /// Absolute index of the bucket being drained; it is sorted descending
    /// and non-empty whenever the ring is not.
    current: u64,
    /// Keys beyond the ring's window.
    far: BinaryHeap<Reverse<Key>>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
    seq: u64,
    /// The time of the last item popped; nothing may be scheduled earlier.
    last: SimTime,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            ring: (0..RING).map(|_| Vec::new()).collect(),
            occupied: [0; RING / 64],
            in_ring: 0,
            current: 0,
            far: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
            last: SimTime::ZERO,
        }
    }
}

/// A clone of an empty queue allocates nothing until its first push (the
/// explorer clones worlds in chosen mode, whose queue stays empty).
impl<T: Clone> Clone for EventQueue<T> {
    fn clone(&self) -> Self {
        if self.is_empty() && self.slab.is_empty() {
            return EventQueue {
                ring: Vec::new(),
                last: self.last,
                ..EventQueue::unallocated()
            };
        }
        EventQueue {
            ring: self.ring.clone(),
            occupied: self.occupied,
            in_ring: self.in_ring,
            current: self.current,
            far: self.far.clone(),
            slab: self.slab.clone(),
            free: self.free.clone(),
            seq: self.seq,
            last: self.last,
        }
    }
}

impl<T> EventQueue<T> {
    /// An empty queue whose ring is allocated by the first push.
    fn unallocated() -> Self {
        EventQueue {
            ring: Vec::new(),
            occupied: [0; RING / 64],
            in_ring: 0,
            current: 0,
            far: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
            last: SimTime::ZERO,
        }
    }

    fn slot(&self, bucket: u64) -> usize {
        (bucket % RING as u64) as usize
    }

    /// Empty the queue and start its sequence numbers again, keeping the
    /// buckets' and the slab's allocations (a sweep reuses one queue for
    /// thousands of runs). Afterwards it behaves exactly like a new queue.
    pub fn clear(&mut self) {
        for slot in self.occupied_slots() {
            self.ring[slot].clear();
        }
        self.occupied = [0; RING / 64];
        self.in_ring = 0;
        self.current = 0;
        self.far.clear();
        self.slab.clear();
        self.free.clear();
        self.seq = 0;
        self.last = SimTime::ZERO;
    }

    /// Schedule `item` at `at` (not before the last item popped).
    pub fn push(&mut self, at: SimTime, item: T) {
        if self.ring.is_empty() {
            self.ring = (0..RING).map(|_| Vec::new()).collect();
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(item);
                s
            }
            None => {
                self.slab.push(Some(item));
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 queued events")
            }
        };
        assert!(
            at >= self.last,
            "event queue: scheduled before the last event popped"
        );
        let key = Key {
            at,
            seq: self.seq,
            slot,
        };
        self.seq += 1;
        if self.is_empty() {
            // An empty queue may start its window anywhere.
            self.current = key.bucket();
        } else if key.bucket() < self.current {
            self.rewind(key.bucket());
        }
        self.place(key);
    }

    /// Move the window back to bucket `b`, which is empty (every bucket
    /// between the last pop and the current one is), evicting ring keys that
    /// fall past the new window's end to the far heap. Rare: it happens when
    /// the queue held only later events and an earlier one is scheduled.
    fn rewind(&mut self, b: u64) {
        self.current = b;
        let end = b + RING as u64;
        // Only occupied slots can hold keys past the new end.
        for slot in self.occupied_slots() {
            if self.ring[slot].iter().all(|k| k.bucket() < end) {
                continue;
            }
            let far = &mut self.far;
            let mut evicted = 0;
            self.ring[slot].retain(|k| {
                let keep = k.bucket() < end;
                if !keep {
                    far.push(Reverse(*k));
                    evicted += 1;
                }
                keep
            });
            self.in_ring -= evicted;
            if self.ring[slot].is_empty() {
                self.occupied[slot / 64] &= !(1 << (slot % 64));
            }
        }
    }

    /// The occupied slots, in slot order, as they are now. It reads a copy
    /// of the bitmap, so the caller may change the ring while iterating; it
    /// allocates nothing (a sweep clears and rewinds a queue every run).
    fn occupied_slots(&self) -> impl Iterator<Item = usize> + use<T> {
        let words = self.occupied;
        (0..words.len()).flat_map(move |w| {
            let mut bits = words[w];
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let slot = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(slot)
            })
        })
    }

    /// Slots from the current one to the next occupied one (wrapping):
    /// the rest of the current word, the other words, then the start of the
    /// current word.
    fn distance_to_next_occupied(&self) -> Option<u64> {
        const WORDS: usize = RING / 64;
        let start = self.slot(self.current);
        for i in 0..=WORDS {
            let w = (start / 64 + i) % WORDS;
            let mut bits = self.occupied[w];
            if i == 0 {
                bits &= !0u64 << (start % 64);
            } else if i == WORDS {
                bits &= (1u64 << (start % 64)).wrapping_sub(1);
            }
            if bits != 0 {
                let slot = w * 64 + bits.trailing_zeros() as usize;
                return Some(((slot + RING - start) % RING) as u64);
            }
        }
        None
    }

    fn place(&mut self, key: Key) {
        let b = key.bucket();
        if b >= self.current + RING as u64 {
            self.far.push(Reverse(key));
            return;
        }
        let slot = self.slot(b);
        self.occupied[slot / 64] |= 1 << (slot % 64);
        let bucket = &mut self.ring[slot];
        if b == self.current {
            // The drained bucket stays sorted descending: pops take the end.
            let pos = bucket.partition_point(|k| k > &key);
            bucket.insert(pos, key);
        } else {
            bucket.push(key);
        }
        self.in_ring += 1;
    }

    /// Move to the next non-empty bucket, pulling far keys into the window
    /// as it slides, and sort it.
    fn settle(&mut self) {
        let slot = self.slot(self.current);
        if !self.ring[slot].is_empty() {
            return;
        }
        self.occupied[slot / 64] &= !(1 << (slot % 64));
        match self.distance_to_next_occupied() {
            Some(d) => self.current += d,
            None => match self.far.peek() {
                Some(Reverse(k)) => self.current = k.bucket(),
                None => return,
            },
        }
        self.pull_far();
        let slot = self.slot(self.current);
        self.ring[slot].sort_unstable_by(|a, b| b.cmp(a));
    }

    fn pull_far(&mut self) {
        let end = self.current + RING as u64;
        while let Some(Reverse(k)) = self.far.peek().copied() {
            if k.bucket() >= end {
                break;
            }
            self.far.pop();
            // Straight into its bucket; the current one is sorted by settle.
            let slot = self.slot(k.bucket());
            self.ring[slot].push(k);
            self.occupied[slot / 64] |= 1 << (slot % 64);
            self.in_ring += 1;
        }
    }

    /// The time of the earliest item.
    pub fn peek_time(&self) -> Option<SimTime> {
        if self.ring.is_empty() {
            return None;
        }
        self.ring[self.slot(self.current)].last().map(|k| k.at)
    }

    /// Remove and return the earliest item.
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        if self.ring.is_empty() {
            return None;
        }
        let slot = self.slot(self.current);
        let k = self.ring[slot].pop()?;
        self.in_ring -= 1;
        if self.ring[slot].is_empty() {
            self.settle();
        }
        let item = self.slab[k.slot as usize]
            .take()
            .expect("a queued slot holds its item");
        self.free.push(k.slot);
        self.last = k.at;
        Some((k.at, item))
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.in_ring + self.far.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remove every item for which `keep` is false.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let slab = &mut self.slab;
        let free = &mut self.free;
        let mut stay = |k: &Key| {
            let s = slab[k.slot as usize].as_ref().is_some_and(&mut keep);
            if !s {
                slab[k.slot as usize] = None;
                free.push(k.slot);
            }
            s
        };
        let mut in_ring = 0;
        self.occupied = [0; RING / 64];
        for (slot, bucket) in self.ring.iter_mut().enumerate() {
            bucket.retain(&mut stay);
            in_ring += bucket.len();
            if !bucket.is_empty() {
                self.occupied[slot / 64] |= 1 << (slot % 64);
            }
        }
        self.in_ring = in_ring;
        self.far.retain(|Reverse(k)| stay(k));
        if !self.ring.is_empty() && self.ring[self.slot(self.current)].is_empty() {
            self.settle();
        }
    }

    /// Visit every item, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (SimTime, &T)> {
        self.ring
            .iter()
            .flatten()
            .chain(self.far.iter().map(|Reverse(k)| k))
            .filter_map(|k| self.slab[k.slot as usize].as_ref().map(|t| (k.at, t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn ties_break_by_insertion_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), 'b');
        q.push(SimTime(1), 'a');
        q.push(SimTime(5), 'c');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, c)| c)).collect();
        assert_eq!(order, ['a', 'b', 'c']);
    }

    #[test]
    fn slots_are_reused_and_retain_frees_them() {
        let mut q = EventQueue::default();
        for i in 0..10u32 {
            q.push(SimTime(u64::from(i)), i);
        }
        q.retain(|i| i % 2 == 0);
        assert_eq!(q.len(), 5);
        q.push(SimTime(0), 99);
        assert_eq!(q.slab.len(), 10, "a freed slot is reused");
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, i)| i)).collect();
        assert_eq!(order, [0, 99, 2, 4, 6, 8], "ties by insertion order");
    }

    #[test]
    fn far_future_events_come_back_in_order() {
        let mut q = EventQueue::default();
        let hour = 3_600_000_000;
        // The first push opens the window an hour ahead; the next ones
        // rewind it.
        q.push(SimTime(hour), 3);
        q.push(SimTime(10), 1);
        q.push(SimTime(hour * 2), 4);
        q.push(SimTime(5_000_000), 2);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, i)| i)).collect();
        assert_eq!(order, [1, 2, 3, 4]);
    }

    /// One operation of the differential test.
    #[derive(Clone, Debug)]
    enum Op {
        /// Push at (last popped time + delay).
        Push(u64),
        Pop,
        /// Drop items whose value is divisible by this.
        Retain(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => prop_oneof![0..2_000u64, 0..20_000_000u64].prop_map(Op::Push),
            3 => Just(Op::Pop),
            1 => (2..5u32).prop_map(Op::Retain),
        ]
    }

    proptest! {
        /// The calendar queue pops exactly what an ordered map keyed by
        /// (time, insertion order) would.
        #[test]
        fn matches_an_ordered_map(ops in proptest::collection::vec(op(), 1..400)) {
            let mut q = EventQueue::default();
            let mut reference: BTreeMap<(SimTime, u64), u32> = BTreeMap::new();
            let (mut now, mut seq, mut value) = (SimTime::ZERO, 0u64, 0u32);
            for op in ops {
                match op {
                    Op::Push(d) => {
                        let at = now + SimTime(d);
                        q.push(at, value);
                        reference.insert((at, seq), value);
                        seq += 1;
                        value += 1;
                    }
                    Op::Pop => {
                        let want = reference.pop_first().map(|((t, _), v)| (t, v));
                        let got = q.pop();
                        prop_assert_eq!(got, want);
                        if let Some((t, _)) = got {
                            now = t;
                        }
                    }
                    Op::Retain(m) => {
                        q.retain(|v| v % m != 0);
                        reference.retain(|_, v| *v % m != 0);
                    }
                }
                prop_assert_eq!(q.len(), reference.len());
                prop_assert_eq!(q.peek_time(), reference.keys().next().map(|k| k.0));
            }
        }
    }
}
