//! Timer ids that carry their purpose and transaction, so a role needs no
//! side table to know what fired.

use super::workload::TxId;
use crate::engine::TimerId;

/// Pack a timer kind and a transaction into a [`TimerId`].
pub fn timer(kind: u8, tx: TxId) -> TimerId {
    TimerId((u64::from(kind) << 32) | u64::from(tx.0))
}

/// Unpack a [`TimerId`] made by [`timer`].
pub fn untimer(id: TimerId) -> (u8, TxId) {
    ((id.0 >> 32) as u8, TxId(id.0 as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(untimer(timer(7, TxId(123_456))), (7, TxId(123_456)));
    }
}
