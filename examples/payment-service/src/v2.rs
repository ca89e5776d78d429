//! The fixed version: idempotent by business key, with a null
//! compensation for a refund that overtakes its charge.

use std::collections::BTreeMap;
use txlab_sim::custom::{Answer, IdempotencyKey, Request, ServiceLogic};
use txlab_sim::protocols::workload::Op;

/// Balances and the answer given per business key.
#[derive(Clone, Debug)]
pub struct Payment {
    balances: BTreeMap<String, i64>,
    answered: BTreeMap<IdempotencyKey, Answer>,
}

impl Payment {
    /// A payment service holding `balances`.
    pub fn new(balances: &BTreeMap<String, i64>) -> Self {
        Payment {
            balances: balances.clone(),
            answered: BTreeMap::new(),
        }
    }

    fn charge(&mut self, req: &Request<'_>) -> Answer {
        let refund = IdempotencyKey {
            op: Op::Compensation,
            ..req.key
        };
        // The refund overtook the charge: it was recorded as a null
        // compensation, so the late charge must not go through.
        if self.answered.contains_key(&refund) {
            return Answer::Rejected("refunded before it was charged".into());
        }
        let balance = self.balances.entry(req.resource.to_string()).or_insert(0);
        if *balance < req.amount {
            return Answer::Rejected("insufficient funds".into());
        }
        *balance -= req.amount;
        Answer::Done
    }

    fn refund(&mut self, req: &Request<'_>) -> Answer {
        let charge = IdempotencyKey {
            op: Op::Action,
            ..req.key
        };
        if self.answered.get(&charge) == Some(&Answer::Done) {
            *self.balances.entry(req.resource.to_string()).or_insert(0) += req.amount;
        }
        Answer::Done
    }
}

impl ServiceLogic for Payment {
    fn handle(&mut self, req: &Request<'_>) -> Answer {
        if let Some(previous) = self.answered.get(&req.key) {
            return previous.clone();
        }
        let answer = match req.op {
            Op::Action => self.charge(req),
            Op::Compensation => self.refund(req),
        };
        self.answered.insert(req.key, answer.clone());
        answer
    }

    fn amounts(&self) -> BTreeMap<String, i64> {
        self.balances.clone()
    }
}
