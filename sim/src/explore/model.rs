//! What the explorer explores: a [`Model`] is a transition system given as
//! initial states, the actions enabled in a state and the state each one
//! leads to, with invariants judged in every state.

/// A finite transition system the explorer can enumerate.
///
/// Everything here must be deterministic: the same state gives the same
/// actions in the same order and the same successors, and
/// [`Model::fingerprint`] is a stable hash (no per-process keys), so that a
/// search gives the same result on every run and with any thread count.
pub trait Model: Sync {
    /// A state of the system.
    type State: Clone + Send + Sync;
    /// One step from a state to the next.
    type Action: Clone + Send + Sync;

    /// The initial states, in a fixed order.
    fn init_states(&self) -> Vec<Self::State>;

    /// The actions enabled in `state`, in a fixed order. An action that
    /// would leave the state unchanged should not be listed.
    fn actions(&self, state: &Self::State, out: &mut Vec<Self::Action>);

    /// The state `action` leads to, or `None` if it turns out disabled.
    fn next_state(&self, state: &Self::State, action: &Self::Action) -> Option<Self::State>;

    /// A stable 64-bit hash of everything in `state` that can influence
    /// what happens next or what an invariant says. Two states with the
    /// same fingerprint are treated as one.
    fn fingerprint(&self, state: &Self::State) -> u64;

    /// Push the name of every invariant `state` breaks. `terminal` is true
    /// when no action is enabled: liveness properties ("every transaction
    /// ends") are judged only there.
    fn violations(&self, state: &Self::State, terminal: bool, out: &mut Vec<String>);

    /// How `state` ended, in a word ("committed", "blocked", ...), if it
    /// is an end state: one tallied under "terminal". `terminal` is true
    /// when no action is enabled; a model may also count states where
    /// only faults are left (the run has ended; the environment could
    /// still crash a node).
    fn outcome(&self, state: &Self::State, terminal: bool) -> Option<String>;

    /// What identifies an end state's configuration: end states with the
    /// same key are tallied once. By default the fingerprint; a model whose
    /// fingerprint also holds bookkeeping of the search (how often a timer
    /// fired on the way) leaves that out here, so that one ending is not
    /// counted once per history that led to it.
    fn end_key(&self, state: &Self::State) -> u64 {
        self.fingerprint(state)
    }
}
