//! The first version: idempotent by message id (the bug).

use std::collections::BTreeMap;
use txlab_sim::custom::{Answer, MessageId, Request, ServiceLogic};
use txlab_sim::protocols::workload::{Op, TxId};

/// Balances, the answers given per message, and what each saga paid.
#[derive(Clone, Debug)]
pub struct Payment {
    balances: BTreeMap<String, i64>,
    answered: BTreeMap<MessageId, Answer>,
    paid: BTreeMap<TxId, i64>,
}

impl Payment {
    /// A payment service holding `balances`.
    pub fn new(balances: &BTreeMap<String, i64>) -> Self {
        Payment {
            balances: balances.clone(),
            answered: BTreeMap::new(),
            paid: BTreeMap::new(),
        }
    }
}

impl ServiceLogic for Payment {
    fn handle(&mut self, req: &Request<'_>) -> Answer {
        // "We have seen this message before": but a resend is a new message.
        if let Some(previous) = self.answered.get(&req.message_id) {
            return previous.clone();
        }
        let balance = self.balances.entry(req.resource.to_string()).or_insert(0);
        let answer = match req.op {
            Op::Action if *balance < req.amount => Answer::Rejected("insufficient funds".into()),
            Op::Action => {
                *balance -= req.amount;
                *self.paid.entry(req.saga).or_insert(0) += req.amount;
                Answer::Done
            }
            Op::Compensation => {
                *balance += self.paid.remove(&req.saga).unwrap_or(0);
                Answer::Done
            }
        };
        self.answered.insert(req.message_id, answer.clone());
        answer
    }

    fn amounts(&self) -> BTreeMap<String, i64> {
        self.balances.clone()
    }
}
