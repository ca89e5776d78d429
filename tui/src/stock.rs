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

/// Every service's resources before the run, in service order, then
/// resource name order.
pub fn start(wf: &Workflow) -> Vec<Holding> {
    let mut out = Vec::new();
    for (i, svc) in wf.services.iter().enumerate() {
        for (res, start) in &svc.resources {
            // Money is what a step charges; everything else is stock.
            let money = wf.steps.iter().any(|s| {
                usize::from(s.service.0) == i && s.resource == *res && s.action == "charge"
            });
            out.push(Holding {
                service: svc.name.clone(),
                resource: res.clone(),
                start: *start,
                value: *start,
                money,
            });
        }
    }
    out
}

/// Apply one observation to `holdings` (as [`start`] made them): a
/// service's applied change moves its resource.
pub fn apply(wf: &Workflow, holdings: &mut [Holding], o: &Observation<Obs>) {
    let Obs::Local { step, delta, .. } = &o.obs else {
        return;
    };
    let spec = wf.step(*step);
    let i = usize::from(spec.service.0);
    let Some(svc) = wf.services.get(i) else {
        return;
    };
    let offset: usize = wf.services[..i].iter().map(|s| s.resources.len()).sum();
    if let Some(k) = svc.resources.keys().position(|r| *r == spec.resource) {
        holdings[offset + k].value += delta;
    }
}

/// Every service's resources after the observations `obs` (a prefix of a
/// run's), in service order, then resource name order.
pub fn holdings(wf: &Workflow, obs: &[Observation<Obs>]) -> Vec<Holding> {
    let mut out = start(wf);
    for o in obs {
        apply(wf, &mut out, o);
    }
    out
}
