//! Breadth-first search, level by level.
//!
//! Each level's frontier is expanded in parallel chunks against the set of
//! states seen in earlier levels (read-only meanwhile); the chunks are then
//! merged one by one in frontier order, which alone decides which new
//! states get in and in what order. So the counts, the states' order and
//! the counterexamples are the same for one thread as for many.

use super::Model;
use super::expand::{Expansion, expand};
use super::result::{Explored, Progress};
use super::search::Options;
use super::tree::Tree;
use super::visited::{Visited, visited_with_capacity};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One chunk's expansions.
type Chunk<M> = Vec<Expansion<<M as Model>::State, <M as Model>::Action>>;

/// States per parallel work item.
const CHUNK: usize = 256;

/// Frontier states expanded before their successors are merged: bounds the
/// memory a level's expansions take (successors are whole states), and
/// lets the state bound stop a level part way. Merging in frontier order
/// keeps the result independent of it.
const BATCH: usize = 16 * CHUNK;

/// Run a breadth-first search.
pub(super) fn search<M: Model>(
    model: &M,
    options: &Options,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Explored<M::Action> {
    let mut tree = Tree::new();
    let mut visited = visited_with_capacity(1 << 10);
    let mut frontier: Vec<(u32, M::State)> = Vec::new();
    for state in model.init_states() {
        if visited.insert(model.fingerprint(&state)) {
            frontier.push((tree.add(None, None), state));
        }
    }
    let mut depth = 0u32;
    while !frontier.is_empty() {
        progress(&Progress {
            states: tree.len(),
            transitions: tree.transitions,
            depth,
            queue: frontier.len() as u64,
        });
        let deeper_allowed = options.max_depth.is_none_or(|max| depth < max);
        let room = options.max_states.unwrap_or(u64::MAX);
        let mut next = Vec::new();
        for batch in frontier.chunks(BATCH) {
            let expanded = expand_level(model, batch, &visited, options.threads);
            for ((idx, _), exp) in batch.iter().zip(expanded) {
                merge(
                    &mut tree,
                    &mut visited,
                    *idx,
                    exp,
                    deeper_allowed,
                    room,
                    &mut next,
                );
            }
        }
        if !next.is_empty() {
            depth += 1;
            tree.max_depth = depth;
        }
        frontier = next;
    }
    progress(&Progress {
        states: tree.len(),
        transitions: tree.transitions,
        depth,
        queue: 0,
    });
    tree.finish()
}

/// Fold one expanded state into the tree; new successors join `next`.
fn merge<S, A: Clone>(
    tree: &mut Tree<A>,
    visited: &mut Visited,
    idx: u32,
    exp: Expansion<S, A>,
    deeper_allowed: bool,
    room: u64,
    next: &mut Vec<(u32, S)>,
) {
    if let Some((outcome, key)) = exp.outcome {
        tree.ended(outcome, key);
    }
    if !exp.violations.is_empty() {
        // A state that breaks an invariant is an error state: report it,
        // do not explore past it.
        for v in exp.violations {
            tree.violated(v, idx);
        }
        return;
    }
    tree.transitions += exp.transitions;
    for (action, state, fp) in exp.successors {
        // One lookup: `insert` says whether the state is new. A state the
        // bounds then keep out stays marked seen, which changes nothing:
        // once a bound keeps one state out it keeps every later one out
        // too (the state bound stays reached; the depth bound holds for
        // the whole last level).
        if !visited.insert(fp) {
            continue;
        }
        if !deeper_allowed || tree.len() >= room {
            tree.complete = false;
            continue;
        }
        next.push((tree.add(Some(idx), Some(action)), state));
    }
}

/// Expand every state of a level, in order; in parallel when asked to.
fn expand_level<M: Model>(
    model: &M,
    frontier: &[(u32, M::State)],
    seen: &Visited,
    threads: usize,
) -> Vec<Expansion<M::State, M::Action>> {
    let expand_chunk = |chunk: &[(u32, M::State)]| {
        let mut actions = Vec::new();
        chunk
            .iter()
            .map(|(_, s)| expand(model, s, seen, &mut actions))
            .collect::<Vec<_>>()
    };
    if threads <= 1 || frontier.len() <= CHUNK {
        return expand_chunk(frontier);
    }
    let chunks: Vec<&[(u32, M::State)]> = frontier.chunks(CHUNK).collect();
    let next_chunk = AtomicUsize::new(0);
    // One slot per chunk, filled by whichever worker took it; read back in
    // chunk order, so the merge does not depend on scheduling.
    let done: Mutex<Vec<Option<Chunk<M>>>> = Mutex::new((0..chunks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next_chunk.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(i) else {
                        return;
                    };
                    let out = expand_chunk(chunk);
                    done.lock().expect("no worker panicked")[i] = Some(out);
                }
            });
        }
    });
    done.into_inner()
        .expect("no worker panicked")
        .into_iter()
        .flat_map(|c| c.expect("every chunk expanded"))
        .collect()
}
