//! Depth-first search: one path at a time, with the same visited set and
//! bounds as breadth-first search. Its counterexamples are the paths on
//! which it first met each error, not necessarily the shortest.

use super::Model;
use super::expand::{Expansion, expand};
use super::result::{Explored, Progress};
use super::search::Options;
use super::tree::Tree;
use super::visited::visited_with_capacity;

/// Report progress every this many states.
const PROGRESS_EVERY: u64 = 1 << 16;

struct Frame<S, A> {
    idx: u32,
    depth: u32,
    /// Successors still to visit, last first.
    rest: Vec<(A, S, u64)>,
}

/// Run a depth-first search.
pub(super) fn search<M: Model>(
    model: &M,
    options: &Options,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Explored<M::Action> {
    let mut tree = Tree::new();
    let mut visited = visited_with_capacity(1 << 10);
    let mut actions = Vec::new();
    let mut stack: Vec<Frame<M::State, M::Action>> = Vec::new();
    let mut roots: Vec<M::State> = model.init_states();
    roots.reverse();
    while let Some(root) = roots.pop() {
        if !visited.insert(model.fingerprint(&root)) {
            continue;
        }
        let idx = tree.add(None, None);
        let exp = expand(model, &root, &visited, &mut actions);
        push(&mut tree, &mut stack, idx, 0, exp);
        while let Some(top) = stack.last_mut() {
            let Some((action, state, fp)) = top.rest.pop() else {
                stack.pop();
                continue;
            };
            let (parent, depth) = (top.idx, top.depth + 1);
            if visited.contains(&fp) {
                continue;
            }
            let full = options.max_states.is_some_and(|max| tree.len() >= max);
            if full || options.max_depth.is_some_and(|max| depth > max) {
                tree.complete = false;
                continue;
            }
            visited.insert(fp);
            let idx = tree.add(Some(parent), Some(action));
            tree.max_depth = tree.max_depth.max(depth);
            let exp = expand(model, &state, &visited, &mut actions);
            push(&mut tree, &mut stack, idx, depth, exp);
            if tree.len() % PROGRESS_EVERY == 0 {
                progress(&Progress {
                    states: tree.len(),
                    transitions: tree.transitions,
                    depth,
                    queue: stack.len() as u64,
                });
            }
        }
    }
    progress(&Progress {
        states: tree.len(),
        transitions: tree.transitions,
        depth: tree.max_depth,
        queue: 0,
    });
    tree.finish()
}

/// Record an expanded state and, unless it is an error state, push its
/// successors to visit next.
fn push<S, A: Clone>(
    tree: &mut Tree<A>,
    stack: &mut Vec<Frame<S, A>>,
    idx: u32,
    depth: u32,
    exp: Expansion<S, A>,
) {
    if let Some((outcome, key)) = exp.outcome {
        tree.ended(outcome, key);
    }
    if !exp.violations.is_empty() {
        for v in exp.violations {
            tree.violated(v, idx);
        }
        return;
    }
    tree.transitions += exp.transitions;
    let mut rest = exp.successors;
    rest.reverse();
    stack.push(Frame { idx, depth, rest });
}
