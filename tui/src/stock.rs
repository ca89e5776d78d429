//! The business state a pane has reached: every service's balances and
//! stock, from the starting amounts plus the changes the services report
//! as they apply them (each `Local` observation carries its delta; the
//! conservation checker holds those reports to the services' final
//! values, so what is shown is what was applied).

use txlab_sim::engine::Observation;
use txlab_sim::protocols::Obs;
use txlab_sim::protocols::workload::Workflow;

/// One resource of one service at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    /// The service ("payment").
    pub service: String,
    /// The resource ("sam", "seats").
    pub resource: String,
    /// Its amount before the run.
    pub start: i64,
    /// Its amount at the cursor.
    pub value: i64,
    /// Money (a step charges it), shown in dollars.
    pub money: bool,
}

impl Holding {
    /// The amount in words: "$800", "9".
    pub fn amount(&self) -> String {
        format_amount(self.value, self.money)
    }
}

/// An amount in words: dollars for money, a plain count for stock.
pub fn format_amount(value: i64, money: bool) -> String {
    match (money, value < 0) {
        (true, true) => format!("-${}", value.unsigned_abs()),
        (true, false) => format!("${value}"),
        (false, _) => value.to_string(),
    }
}

/// Every service's resources after the observations `obs` (a prefix of a
/// run's), in service order, then resource name order.
pub fn holdings(wf: &Workflow, obs: &[Observation<Obs>]) -> Vec<Holding> {
    let mut out: Vec<Holding> = Vec::new();
    // Where each (service, resource) lands in `out`, by service index.
    let mut at: Vec<Vec<(String, usize)>> = Vec::with_capacity(wf.services.len());
    for (i, svc) in wf.services.iter().enumerate() {
        let mut slots = Vec::new();
        for (res, start) in &svc.resources {
            // Money is what a step charges; everything else is stock.
            let money = wf.steps.iter().any(|s| {
                usize::from(s.service.0) == i && s.resource == *res && s.action == "charge"
            });
            slots.push((res.clone(), out.len()));
            out.push(Holding {
                service: svc.name.clone(),
                resource: res.clone(),
                start: *start,
                value: *start,
                money,
            });
        }
        at.push(slots);
    }
    for o in obs {
        if let Obs::Local { step, delta, .. } = &o.obs {
            let spec = wf.step(*step);
            let slot = at
                .get(usize::from(spec.service.0))
                .and_then(|s| s.iter().find(|(r, _)| *r == spec.resource));
            if let Some((_, k)) = slot {
                out[*k].value += delta;
            }
        }
    }
    out
}
