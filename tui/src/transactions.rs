//! The per-transaction view: node lines show every node's latest
//! transaction, or one transaction throughout (a key cycles through them),
//! so a lesson with several bookings can be followed one booking at a time.

use crate::app::App;
use txlab_sim::protocols::workload::TxId;

impl App {
    /// Transactions in the scenario's workload.
    pub fn transactions(&self) -> u32 {
        self.rec
            .panes
            .first()
            .map_or(0, |p| p.spec.workflow.transactions)
    }

    /// What the node lines show, in words ("each node's latest
    /// transaction", "T1 only").
    pub fn tx_view_words(&self) -> String {
        match self.tx_view {
            None => "each node's latest transaction".into(),
            Some(tx) => format!("{tx} only (of {})", self.transactions()),
        }
    }

    /// All, then T0, T1, ... and back to all.
    pub(crate) fn cycle_tx(&mut self) {
        let n = self.transactions();
        self.tx_view = match self.tx_view {
            None if n > 0 => Some(TxId(0)),
            Some(TxId(t)) if t + 1 < n => Some(TxId(t + 1)),
            _ => None,
        };
        self.stale = true;
        self.seek(self.cursor);
        self.status = format!("node lines show {}", self.tx_view_words());
    }
}
