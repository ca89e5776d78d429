//! Gray & Lamport's TwoPhase specification ("Consensus on Transaction
//! Commit", 2006, section 3 and appendix A.2), the abstract two-phase
//! commit model whose distinct-state counts TLC and stateright publish. It
//! calibrates the explorer: exploring it must give exactly those counts.
//!
//! The variables: each resource manager's state (working, prepared,
//! committed, aborted), the transaction manager's state (init, committed,
//! aborted), the set of RMs the TM knows prepared, and the messages ever
//! sent, as a set (a message once sent can be received any number of
//! times). The actions:
//!
//! - `TMRcvPrepared(rm)`: in init, the TM learns from a Prepared message.
//! - `TMCommit`: in init, with every RM known prepared, the TM commits and
//!   sends Commit. `TMAbort`: in init, it aborts and sends Abort.
//! - `RMPrepare(rm)`: a working RM prepares and sends Prepared.
//!   `RMChooseToAbort(rm)`: a working RM aborts on its own.
//! - `RMRcvCommitMsg(rm)` / `RMRcvAbortMsg(rm)`: an RM receives the
//!   decision.
//!
//! The invariant (TCConsistent): no RM has committed while another aborted.
//!
//! A state is packed into one `u64`: two bits per RM state, two for the TM
//! state, then one bit per RM for the prepared set and for the Prepared
//! messages, and one each for Commit and Abort.

use super::Model;
use crate::engine::stable_hash;

/// The most RMs a packed state holds (4 bits per RM plus 4 must fit in 64).
pub const MAX_RMS: u32 = 15;

const WORKING: u64 = 0;
const PREPARED: u64 = 1;
const COMMITTED: u64 = 2;
const ABORTED: u64 = 3;
const TM_INIT: u64 = 0;
const TM_COMMITTED: u64 = 1;
const TM_ABORTED: u64 = 2;

/// One step of the specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TwoPhaseAction {
    /// The TM receives `Prepared` from an RM.
    TmRcvPrepared(u8),
    /// The TM commits.
    TmCommit,
    /// The TM aborts.
    TmAbort,
    /// An RM prepares.
    RmPrepare(u8),
    /// An RM aborts on its own.
    RmChooseToAbort(u8),
    /// An RM receives `Commit`.
    RmRcvCommitMsg(u8),
    /// An RM receives `Abort`.
    RmRcvAbortMsg(u8),
}

/// The TwoPhase specification for a number of RMs.
#[derive(Clone, Copy, Debug)]
pub struct TwoPhase {
    rms: u32,
    /// Negative control: the TM may commit without every RM prepared.
    commit_without_votes: bool,
}

impl TwoPhase {
    /// The specification for `rms` resource managers (1 to [`MAX_RMS`]).
    pub fn new(rms: u32) -> Self {
        assert!((1..=MAX_RMS).contains(&rms), "TwoPhase: 1 to {MAX_RMS} RMs");
        TwoPhase {
            rms,
            commit_without_votes: false,
        }
    }

    /// A broken variant whose TM may commit before every RM prepared (a
    /// negative control: consistency must then fail).
    pub fn commit_without_votes(mut self) -> Self {
        self.commit_without_votes = true;
        self
    }

    fn rm(self, s: u64, rm: u32) -> u64 {
        (s >> (2 * rm)) & 3
    }
    fn set_rm(self, s: u64, rm: u32, v: u64) -> u64 {
        (s & !(3 << (2 * rm))) | (v << (2 * rm))
    }
    fn tm_shift(self) -> u32 {
        2 * self.rms
    }
    fn tm(self, s: u64) -> u64 {
        (s >> self.tm_shift()) & 3
    }
    fn set_tm(self, s: u64, v: u64) -> u64 {
        (s & !(3 << self.tm_shift())) | (v << self.tm_shift())
    }
    fn tm_prepared_bit(self, rm: u32) -> u64 {
        1 << (2 * self.rms + 2 + rm)
    }
    fn prepared_msg_bit(self, rm: u32) -> u64 {
        1 << (3 * self.rms + 2 + rm)
    }
    fn commit_bit(self) -> u64 {
        1 << (4 * self.rms + 2)
    }
    fn abort_bit(self) -> u64 {
        1 << (4 * self.rms + 3)
    }
    fn all_prepared(self, s: u64) -> bool {
        (0..self.rms).all(|r| s & self.tm_prepared_bit(r) != 0)
    }
}

impl Model for TwoPhase {
    type State = u64;
    type Action = TwoPhaseAction;

    fn init_states(&self) -> Vec<u64> {
        // Every RM working, TM in init, nothing prepared, no messages.
        vec![0]
    }

    fn actions(&self, &s: &u64, out: &mut Vec<TwoPhaseAction>) {
        use TwoPhaseAction::*;
        let tm_init = self.tm(s) == TM_INIT;
        if tm_init && (self.commit_without_votes || self.all_prepared(s)) {
            out.push(TmCommit);
        }
        if tm_init {
            out.push(TmAbort);
        }
        for r in 0..self.rms {
            let rm = r as u8;
            let state = self.rm(s, r);
            if tm_init && s & self.prepared_msg_bit(r) != 0 && s & self.tm_prepared_bit(r) == 0 {
                out.push(TmRcvPrepared(rm));
            }
            if state == WORKING {
                out.push(RmPrepare(rm));
                out.push(RmChooseToAbort(rm));
            }
            if s & self.commit_bit() != 0 && state != COMMITTED {
                out.push(RmRcvCommitMsg(rm));
            }
            if s & self.abort_bit() != 0 && state != ABORTED {
                out.push(RmRcvAbortMsg(rm));
            }
        }
    }

    fn next_state(&self, &s: &u64, action: &TwoPhaseAction) -> Option<u64> {
        use TwoPhaseAction::*;
        Some(match *action {
            TmRcvPrepared(rm) => s | self.tm_prepared_bit(u32::from(rm)),
            TmCommit => self.set_tm(s, TM_COMMITTED) | self.commit_bit(),
            TmAbort => self.set_tm(s, TM_ABORTED) | self.abort_bit(),
            RmPrepare(rm) => {
                self.set_rm(s, u32::from(rm), PREPARED) | self.prepared_msg_bit(u32::from(rm))
            }
            RmChooseToAbort(rm) | RmRcvAbortMsg(rm) => self.set_rm(s, u32::from(rm), ABORTED),
            RmRcvCommitMsg(rm) => self.set_rm(s, u32::from(rm), COMMITTED),
        })
    }

    fn fingerprint(&self, s: &u64) -> u64 {
        stable_hash(s)
    }

    fn violations(&self, &s: &u64, _terminal: bool, out: &mut Vec<String>) {
        let any = |v| (0..self.rms).any(|r| self.rm(s, r) == v);
        if any(COMMITTED) && any(ABORTED) {
            out.push("consistent".into());
        }
    }

    fn outcome(&self, &s: &u64, terminal: bool) -> Option<String> {
        if !terminal {
            return None;
        }
        let all = |v| (0..self.rms).all(|r| self.rm(s, r) == v);
        Some(if all(COMMITTED) {
            "committed".into()
        } else if all(ABORTED) {
            "aborted".into()
        } else {
            "mixed".into()
        })
    }
}
