//! Validation: every semantic check a scenario file must pass, each
//! naming the field it is about, and the translation into a run spec.

use super::ScenarioError;
use super::format::{Expectation, FaultFile, LatencyFile, PartitionFile, ScenarioFile};
use super::load::{CENTRAL, Limits, NARRATION_EVENTS, node_of};
use crate::engine::{Fault, Latency, LinkConfig, NodeId, PartitionId, ScheduledFault, SimTime};
use crate::lab::PlannedFault;
use crate::lab::checkers::INVARIANTS;
use crate::lab::run::RunSpec;
use crate::lab::script::{Script, parse_choice};
use crate::protocols::workload::{
    Arrival, ServiceId, ServiceSpec, StepFailure, StepId, StepKind, StepSpec, TxId, Workflow,
};
use crate::protocols::{Outcome, Protocol, Timing};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn report_metric(name: &str) -> Option<f64> {
    crate::lab::Metrics::default().get(name)
}

/// Bound on resource amounts and step amounts, so sums over every step of
/// every transaction stay far from `i64` overflow.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// What the faults seen so far declared, for checking the later ones.
/// Times are `None` for faults tied to events (their time is the run's).
#[derive(Default)]
struct FaultState {
    crashes: BTreeMap<NodeId, Option<u64>>,
    partitions: BTreeMap<String, (PartitionId, Option<u64>)>,
}

/// Checks a parsed file and builds its run spec.
pub(super) struct Validator<'a> {
    pub(super) file: &'a ScenarioFile,
    pub(super) origin: &'a str,
    pub(super) limits: Limits,
}

impl Validator<'_> {
    pub(super) fn err<T>(
        &self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<T, ScenarioError> {
        Err(ScenarioError::Invalid {
            file: self.origin.into(),
            field: field.into(),
            message: message.into(),
            position: None,
        })
    }

    fn too_large(&self, what: &str, actual: u64, max: u64) -> Result<(), ScenarioError> {
        if actual > max {
            return Err(ScenarioError::TooLarge {
                file: self.origin.into(),
                what: what.into(),
                actual,
                max,
            });
        }
        Ok(())
    }

    fn probability(&self, field: String, p: f64) -> Result<f64, ScenarioError> {
        if !(0.0..=1.0).contains(&p) {
            return self.err(field, format!("probability {p} is outside 0..1"));
        }
        Ok(p)
    }

    pub(super) fn node(&self, field: String, name: &str) -> Result<NodeId, ScenarioError> {
        match node_of(self.file, name) {
            Some(n) => Ok(n),
            None => self.err(
                field,
                format!("unknown node \"{name}\" (known: {})", self.known()),
            ),
        }
    }

    fn known(&self) -> String {
        let mut names: Vec<&str> = vec!["coordinator"];
        names.extend(self.file.services.iter().map(|s| s.name.as_str()));
        names.join(", ")
    }

    /// The run spec, or the first problem found.
    pub(super) fn spec(&self) -> Result<RunSpec, ScenarioError> {
        let f = self.file;
        let l = self.limits;
        self.too_large(
            "the number of services",
            f.services.len() as u64,
            l.max_services as u64,
        )?;
        self.too_large(
            "the number of steps",
            f.steps.len() as u64,
            l.max_steps as u64,
        )?;
        self.too_large(
            "workload.transactions",
            u64::from(f.workload.transactions),
            u64::from(l.max_transactions),
        )?;
        self.too_large(
            "the number of faults",
            f.faults.len() as u64,
            l.max_faults as u64,
        )?;
        let mut workflow = self.workflow()?;
        if f.toggles.pessimistic_view {
            workflow = crate::protocols::countermeasure::pessimistic_view(&workflow);
        }
        let (net, write_latency) = self.network()?;
        let (faults, planned) = self.faults()?;
        self.narration()?;
        self.expectations()?;
        // By default the run may go on 30 s past the last fault and the last
        // arrival, so every transaction has time to finish once faults end.
        let last_fault = faults.iter().map(|f| f.at.0 / 1_000).max().unwrap_or(0);
        let last_tx = TxId(workflow.transactions.saturating_sub(1));
        let last_arrival = workflow.arrival_of(last_tx).0 / 1_000;
        // A fault tied to an event counts from the last arrival: a guess at
        // its time, good enough for a default stop.
        let last_fault = planned
            .iter()
            .map(|p| crate::lab::planned::reach_ms(p, last_arrival))
            .fold(last_fault, u64::max);
        let horizon_ms = f
            .horizon_ms
            .unwrap_or(last_fault.max(last_arrival).saturating_add(30_000));
        self.too_large("horizon_ms", horizon_ms, l.max_horizon_ms)?;
        let mut spec = RunSpec::new(Protocol::TwoPc, f.seed, workflow);
        spec.workflow = Arc::clone(&spec.workflow);
        spec.net = net;
        spec.write_latency = write_latency;
        spec.faults = faults;
        spec.planned = planned;
        spec.script = self.script()?;
        spec.toggles = f.toggles.clone();
        spec.timing = self.timing();
        spec.horizon = SimTime::from_millis(horizon_ms);
        Ok(spec)
    }

    fn workflow(&self) -> Result<Workflow, ScenarioError> {
        let f = self.file;
        let services = self.services()?;
        let steps = self.steps(&services)?;
        if f.workload.transactions == 0 {
            return self.err("workload.transactions", "at least one transaction");
        }
        let failures = self.failures(&steps)?;
        let values = self.values(&steps, MAX_AMOUNT)?;
        self.by_value()?;
        Ok(Workflow {
            services: f
                .services
                .iter()
                .map(|s| ServiceSpec {
                    name: s.name.clone(),
                    resources: s.resources.clone(),
                    registers: s.registers.iter().cloned().collect(),
                })
                .collect(),
            steps,
            transactions: f.workload.transactions,
            arrival: Arrival {
                start: SimTime::from_millis(f.workload.start_ms),
                interval: SimTime::from_millis(f.workload.interval_ms),
            },
            failures,
            values,
        })
    }

    /// Service name → index, after checking the names.
    fn services(&self) -> Result<BTreeMap<&str, usize>, ScenarioError> {
        let f = self.file;
        if f.services.is_empty() {
            return self.err("services", "no services: add at least one [[services]]");
        }
        let mut seen = BTreeMap::new();
        for (i, s) in f.services.iter().enumerate() {
            let field = format!("services[{i}].name");
            if CENTRAL.contains(&s.name.as_str()) {
                return self.err(
                    field,
                    format!("\"{}\" is reserved for the coordinator", s.name),
                );
            }
            if ["client", "auditor"].contains(&s.name.as_str()) {
                return self.err(
                    field,
                    format!("\"{}\" is reserved for a node every run has", s.name),
                );
            }
            if let Some(r) = s.registers.iter().find(|r| !s.resources.contains_key(*r)) {
                let msg = format!("register \"{r}\" is not one of the service's resources");
                return self.err(format!("services[{i}].registers"), msg);
            }
            if seen.insert(s.name.as_str(), i).is_some() {
                return self.err(field, format!("service \"{}\" is declared twice", s.name));
            }
            if let Some((r, v)) = s
                .resources
                .iter()
                .find(|(_, v)| !(0..=MAX_AMOUNT).contains(*v))
            {
                let msg = format!("{r} = {v} is outside 0..={MAX_AMOUNT}");
                return self.err(format!("services[{i}].resources"), msg);
            }
        }
        Ok(seen)
    }

    fn steps(&self, services: &BTreeMap<&str, usize>) -> Result<Vec<StepSpec>, ScenarioError> {
        let f = self.file;
        if f.steps.is_empty() {
            return self.err("steps", "the workflow is empty: add at least one [[steps]]");
        }
        let mut steps = Vec::new();
        for (i, s) in f.steps.iter().enumerate() {
            let field = |k: &str| format!("steps[{i}].{k}");
            let Some(&svc) = services.get(s.service.as_str()) else {
                let msg = format!(
                    "unknown service \"{}\" (known: {})",
                    s.service,
                    self.known()
                );
                return self.err(field("service"), msg);
            };
            if !f.services[svc].resources.contains_key(&s.resource) {
                let msg = format!(
                    "service \"{}\" has no resource \"{}\"",
                    s.service, s.resource
                );
                return self.err(field("resource"), msg);
            }
            if !(0..=MAX_AMOUNT).contains(&s.amount) {
                return self.err(
                    field("amount"),
                    format!("the amount must lie in 0..={MAX_AMOUNT} (0: the step only reads)"),
                );
            }
            let reads = self.reads(i, &steps)?;
            steps.push(StepSpec {
                name: s.name.clone(),
                service: ServiceId(svc as u16),
                resource: s.resource.clone(),
                amount: s.amount,
                compensation_amount: self.compensation_amount(i, s)?,
                kind: s.kind,
                action: s.action.clone(),
                compensation: s.compensation.clone(),
                reads,
                group: s.group.clone(),
            });
        }
        self.groups(&steps)?;
        let mut pivots = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == StepKind::Pivot);
        if let (Some(_), Some((second, _))) = (pivots.next(), pivots.next()) {
            let msg = "two steps are marked pivot; a saga has at most one";
            return self.err(format!("steps[{second}].kind"), msg);
        }
        Ok(steps)
    }

    /// Isolation: the step `steps[i].reads` names, which must come
    /// earlier and run at the same service on the same resource.
    fn reads(&self, i: usize, earlier: &[StepSpec]) -> Result<Option<StepId>, ScenarioError> {
        let s = &self.file.steps[i];
        let Some(name) = &s.reads else {
            return Ok(None);
        };
        let field = format!("steps[{i}].reads");
        let Some(j) = earlier.iter().position(|e| &e.name == name) else {
            let msg = format!(
                "\"{name}\" is not an earlier step (a step relies on a read made before it)"
            );
            return self.err(field, msg);
        };
        let e = &earlier[j];
        let svc = &self.file.services[e.service.index()].name;
        if svc != &s.service || e.resource != s.resource {
            let msg = format!(
                "\"{name}\" reads {svc}.{}, not {}.{}: a step can rely only on a read of its own resource",
                e.resource, s.service, s.resource
            );
            return self.err(field, msg);
        }
        Ok(Some(StepId(j as u16)))
    }

    /// Parallel groups: consecutive members of one kind, no pivot among
    /// several, each at its own service, none at a service of the stage
    /// just before (a choreographed event then triggers at most one step
    /// per service), and no member relying on a sibling's read.
    fn groups(&self, steps: &[StepSpec]) -> Result<(), ScenarioError> {
        let wf = Workflow {
            services: Vec::new(),
            steps: steps.to_vec(),
            transactions: 1,
            arrival: Arrival::default(),
            failures: Vec::new(),
            values: Vec::new(),
        };
        let mut seen = BTreeSet::new();
        for stage in wf.stages() {
            let first = &steps[usize::from(stage.start)];
            let field = |i: u16| format!("steps[{i}].group");
            if let Some(g) = &first.group {
                if g.trim().is_empty() {
                    return self.err(field(stage.start), "a group needs a name".to_string());
                }
                if stage.len() == 1 && first.kind == StepKind::Pivot {
                    let msg = "a pivot cannot run in a parallel group: it is the saga's single go/no-go point";
                    return self.err(field(stage.start), msg.to_string());
                }
                if !seen.insert(g.clone()) {
                    let msg = format!(
                        "group \"{g}\" appears twice apart: a group's steps must be consecutive"
                    );
                    return self.err(field(stage.start), msg);
                }
            }
            if stage.len() < 2 {
                continue;
            }
            if self.file.toggles.pessimistic_view {
                let msg = "pessimistic_view reorders the steps, which would break this parallel group: use one or the other";
                return self.err(field(stage.start), msg);
            }
            let before = wf.stage_before(StepId(stage.start)).unwrap_or(0..0);
            for i in stage.clone() {
                let s = &steps[usize::from(i)];
                let problem = if s.kind == StepKind::Pivot {
                    Some("a pivot cannot run in a parallel group: it is the saga's single go/no-go point".to_string())
                } else if s.kind != first.kind {
                    Some("a group's steps must all be of one kind".to_string())
                } else if (stage.start..i).any(|j| steps[usize::from(j)].service == s.service) {
                    Some("two steps of one group run at the same service".to_string())
                } else if before
                    .clone()
                    .any(|j| steps[usize::from(j)].service == s.service)
                {
                    Some(
                        "a group's step runs at a service of the stage just before the group"
                            .to_string(),
                    )
                } else if s.reads.is_some_and(|r| stage.contains(&r.0)) {
                    Some("a step cannot rely on a read of its own group".to_string())
                } else {
                    None
                };
                if let Some(msg) = problem {
                    return self.err(field(i), msg);
                }
            }
        }
        Ok(())
    }

    fn failures(&self, steps: &[StepSpec]) -> Result<Vec<StepFailure>, ScenarioError> {
        let mut out = Vec::new();
        for (i, fl) in self.file.failures.iter().enumerate() {
            let field = |k: &str| format!("failures[{i}].{k}");
            let Some(step) = steps.iter().position(|s| s.name == fl.step) else {
                let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
                return self.err(
                    field("step"),
                    format!("unknown step \"{}\" (known: {})", fl.step, names.join(", ")),
                );
            };
            let p = self.probability(field("transient_probability"), fl.transient_probability)?;
            if let Some(tx) = fl
                .txs
                .iter()
                .find(|t| **t >= self.file.workload.transactions)
            {
                return self.err(
                    field("txs"),
                    format!(
                        "transaction {tx} does not exist (there are {})",
                        self.file.workload.transactions
                    ),
                );
            }
            out.push(StepFailure {
                step: Some(StepId(step as u16)),
                reject: fl.reject,
                transient_per_mille: (p * 1000.0).round() as u16,
                reply_delay: SimTime::from_millis(fl.reply_delay_ms),
                silent_replies: fl.silent_replies,
                compensation_fails: fl.compensation_fails,
                txs: fl.txs.iter().map(|t| TxId(*t)).collect(),
            });
        }
        Ok(out)
    }

    fn latency(&self, field: String, l: &LatencyFile) -> Result<Latency, ScenarioError> {
        match *l {
            LatencyFile::Uniform { min_ms, max_ms } => {
                if min_ms > max_ms {
                    return self.err(field, format!("min_ms {min_ms} is above max_ms {max_ms}"));
                }
                Ok(Latency::uniform_ms(min_ms, max_ms))
            }
            LatencyFile::Pareto {
                min_ms,
                alpha,
                max_ms,
            } => {
                if !(alpha.is_finite() && alpha > 0.0) {
                    return self.err(
                        field,
                        format!("alpha must be a positive number, not {alpha}"),
                    );
                }
                if min_ms > max_ms || min_ms == 0 {
                    return self.err(field, "need 0 < min_ms <= max_ms");
                }
                Ok(Latency::Pareto {
                    min: SimTime::from_millis(min_ms),
                    alpha,
                    max: SimTime::from_millis(max_ms),
                })
            }
        }
    }

    fn network(&self) -> Result<(crate::engine::NetConfig, SimTime), ScenarioError> {
        let n = &self.file.network;
        let default = LinkConfig {
            latency: self.latency("network.latency".into(), &n.latency)?,
            loss_probability: self.probability("network.loss".into(), n.loss)?,
            duplicate_probability: self.probability("network.duplicate".into(), n.duplicate)?,
            fifo: n.fifo,
        };
        let mut links = BTreeMap::new();
        for (i, l) in n.links.iter().enumerate() {
            let field = |k: &str| format!("network.links[{i}].{k}");
            let from = self.node(field("from"), &l.from)?;
            let to = self.node(field("to"), &l.to)?;
            let mut c = default;
            if let Some(lat) = &l.latency {
                c.latency = self.latency(field("latency"), lat)?;
            }
            if let Some(p) = l.loss {
                c.loss_probability = self.probability(field("loss"), p)?;
            }
            if let Some(p) = l.duplicate {
                c.duplicate_probability = self.probability(field("duplicate"), p)?;
            }
            if let Some(fifo) = l.fifo {
                c.fifo = fifo;
            }
            links.insert((from, to), c);
        }
        let net = crate::engine::NetConfig { default, links };
        Ok((net, SimTime::from_millis(n.write_latency_ms)))
    }

    /// The time schedule every protocol shares, and the planned faults
    /// (tied to events or messages, or for one protocol).
    #[allow(clippy::type_complexity)]
    fn faults(&self) -> Result<(Vec<ScheduledFault>, Vec<PlannedFault>), ScenarioError> {
        let mut seen = FaultState::default();
        let mut out = Vec::new();
        let mut planned = Vec::new();
        for (i, fl) in self.file.faults.iter().enumerate() {
            let protocol = self.fault_protocol(i, fl)?;
            if let Some(p) = self.message_fault(i, fl, protocol)? {
                planned.push(p);
                continue;
            }
            // Ordering checks need times; a fault tied to an event has none.
            let at = fl.after.is_none().then_some(fl.at_ms);
            let fault = match fl {
                FaultFile {
                    crash: Some(n),
                    restart: None,
                    partition: None,
                    heal: None,
                    ..
                } => {
                    let id = self.node(format!("faults[{i}].crash"), n)?;
                    seen.crashes.insert(id, at);
                    Fault::Crash(id)
                }
                FaultFile {
                    crash: None,
                    restart: Some(n),
                    partition: None,
                    heal: None,
                    ..
                } => self.restart(i, at, n, &seen)?,
                FaultFile {
                    crash: None,
                    restart: None,
                    partition: Some(p),
                    heal: None,
                    ..
                } => self.partition(i, at, p, &mut seen)?,
                FaultFile {
                    crash: None,
                    restart: None,
                    partition: None,
                    heal: Some(name),
                    ..
                } => self.heal(i, at, name, &seen)?,
                _ => {
                    let msg = "give exactly one of crash, restart, partition, heal, \
                               drop, duplicate, delay";
                    return self.err(format!("faults[{i}]"), msg);
                }
            };
            match self.planned(i, fl, fault.clone(), protocol)? {
                Some(p) => planned.push(p),
                None => out.push(ScheduledFault::new(SimTime::from_millis(fl.at_ms), fault)),
            }
        }
        Ok((out, planned))
    }

    fn restart(
        &self,
        i: usize,
        at_ms: Option<u64>,
        n: &str,
        seen: &FaultState,
    ) -> Result<Fault, ScenarioError> {
        let id = self.node(format!("faults[{i}].restart"), n)?;
        match (seen.crashes.get(&id), at_ms) {
            (Some(Some(t)), Some(at_ms)) if *t >= at_ms => self.err(
                format!("faults[{i}].at_ms"),
                format!("restart of \"{n}\" at {at_ms} ms is not after its crash at {t} ms"),
            ),
            (Some(_), _) => Ok(Fault::Restart(id)),
            (None, _) => self.err(
                format!("faults[{i}].restart"),
                format!("\"{n}\" restarts but never crashed before"),
            ),
        }
    }

    fn partition(
        &self,
        i: usize,
        at_ms: Option<u64>,
        p: &PartitionFile,
        seen: &mut FaultState,
    ) -> Result<Fault, ScenarioError> {
        let field = |k: &str| format!("faults[{i}].partition.{k}");
        if seen.partitions.contains_key(&p.name) || p.name == "all" {
            return self.err(
                field("name"),
                format!("partition name \"{}\" is already used", p.name),
            );
        }
        let side = |names: &[String], k: &str| -> Result<Vec<NodeId>, ScenarioError> {
            names.iter().map(|n| self.node(field(k), n)).collect()
        };
        let a = side(&p.a, "a")?;
        if a.is_empty() {
            return self.err(field("a"), "side a is empty");
        }
        let b = match &p.b {
            Some(b) => side(b, "b")?,
            None => (0..=self.file.services.len() as u32)
                .map(NodeId)
                .filter(|n| !a.contains(n))
                .collect(),
        };
        let id = PartitionId(seen.partitions.len() as u32 + 1);
        seen.partitions.insert(p.name.clone(), (id, at_ms));
        Ok(Fault::Partition {
            id,
            a,
            b,
            one_way: p.one_way,
        })
    }

    fn heal(
        &self,
        i: usize,
        at_ms: Option<u64>,
        name: &str,
        seen: &FaultState,
    ) -> Result<Fault, ScenarioError> {
        if name == "all" {
            return Ok(Fault::HealAll);
        }
        match (seen.partitions.get(name), at_ms) {
            (Some((_, Some(t))), Some(at_ms)) if *t > at_ms => self.err(
                format!("faults[{i}].at_ms"),
                format!("heal of \"{name}\" at {at_ms} ms comes before the partition at {t} ms"),
            ),
            (Some((id, _)), _) => Ok(Fault::Heal(*id)),
            (None, _) => self.err(
                format!("faults[{i}].heal"),
                format!("no partition named \"{name}\" starts before this heal"),
            ),
        }
    }

    fn timing(&self) -> Timing {
        let t = &self.file.timing;
        let d = Timing::default();
        let ms = |v: Option<u64>, default: SimTime| v.map_or(default, SimTime::from_millis);
        Timing {
            vote_timeout: ms(t.vote_timeout_ms, d.vote_timeout),
            retransmit: ms(t.retransmit_ms, d.retransmit),
            inquiry: ms(t.inquiry_ms, d.inquiry),
            lock_wait: ms(t.lock_wait_ms, d.lock_wait),
            step_timeout: ms(t.step_timeout_ms, d.step_timeout),
            max_attempts: t.max_attempts.unwrap_or(d.max_attempts).max(1),
            backoff_base: ms(t.backoff_base_ms, d.backoff_base),
            backoff_max: ms(t.backoff_max_ms, d.backoff_max),
            compensation_attempts: t
                .compensation_attempts
                .unwrap_or(d.compensation_attempts)
                .max(1),
            decision_send_delay: ms(t.decision_send_delay_ms, d.decision_send_delay),
            redelivery: ms(t.redelivery_ms, d.redelivery),
            saga_deadline: ms(t.saga_deadline_ms, d.saga_deadline),
            client_retry: ms(t.client_retry_ms, d.client_retry).max(SimTime::from_millis(1)),
        }
    }

    fn narration(&self) -> Result<(), ScenarioError> {
        for (i, n) in self.file.narration.iter().enumerate() {
            match (&n.at_ms, &n.on) {
                (None, None) | (Some(_), Some(_)) => {
                    return self.err(
                        format!("narration[{i}]"),
                        "give exactly one of at_ms and on",
                    );
                }
                (None, Some(on)) if !NARRATION_EVENTS.contains(&on.as_str()) => {
                    return self.err(
                        format!("narration[{i}].on"),
                        format!(
                            "unknown event \"{on}\" (known: {})",
                            NARRATION_EVENTS.join(", ")
                        ),
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `violations` (exactly these) or `violations_at_least`, never both,
    /// naming known invariants.
    fn expected_violations(&self, proto: &str, e: &Expectation) -> Result<(), ScenarioError> {
        if !e.violations.is_empty() && !e.violations_at_least.is_empty() {
            return self.err(
                format!("expect.{proto}.violations_at_least"),
                "give either violations (exactly these) or violations_at_least, not both",
            );
        }
        let listed = [
            ("violations", &e.violations),
            ("violations_at_least", &e.violations_at_least),
        ];
        for (key, names) in listed {
            if let Some(v) = names.iter().find(|v| !INVARIANTS.contains(&v.as_str())) {
                return self.err(
                    format!("expect.{proto}.{key}"),
                    format!(
                        "unknown invariant \"{v}\" (known: {})",
                        INVARIANTS.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    fn expectations(&self) -> Result<(), ScenarioError> {
        for (proto, e) in &self.file.expect {
            let field = |k: &str| format!("expect.{proto}.{k}");
            if !Protocol::ALL.iter().any(|p| p.name() == proto) {
                return self.err(
                    format!("expect.{proto}"),
                    "unknown protocol (known: 2pc, orchestrated, choreographed)",
                );
            }
            if let Some(o) = e
                .outcomes
                .keys()
                .find(|o| !Outcome::ALL.iter().any(|x| x.name() == o.as_str()))
            {
                let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.name()).collect();
                return self.err(
                    field("outcomes"),
                    format!("unknown outcome \"{o}\" (known: {})", names.join(", ")),
                );
            }
            self.expected_violations(proto, e)?;
            let txs = self.file.workload.transactions;
            if let Some(i) = e.anomaly_free.iter().position(|t| *t >= txs) {
                return self.err(
                    format!("{}[{i}]", field("anomaly_free")),
                    format!("no transaction {} (there are {txs})", e.anomaly_free[i]),
                );
            }
            if let Some(m) = e
                .at_least
                .keys()
                .chain(e.at_most.keys())
                .find(|m| report_metric(m).is_none())
            {
                return self.err(
                    field("at_least"),
                    format!(
                        "unknown metric \"{m}\" (known: {})",
                        crate::lab::Metrics::NAMES.join(", ")
                    ),
                );
            }
            for key in e.final_state.keys() {
                let ok = key.split_once('.').is_some_and(|(svc, res)| {
                    self.file
                        .services
                        .iter()
                        .any(|s| s.name == svc && s.resources.contains_key(res))
                });
                if !ok {
                    return self.err(
                        field("final"),
                        format!("\"{key}\" is not a service.resource of this scenario"),
                    );
                }
            }
        }
        Ok(())
    }
}

/// `compensation_amount`: a semantic compensation may keep a fee, but never
/// gives back more than the action took, nor nothing at all.
impl Validator<'_> {
    fn compensation_amount(
        &self,
        i: usize,
        s: &super::format::StepFile,
    ) -> Result<i64, ScenarioError> {
        match s.compensation_amount {
            None => Ok(s.amount),
            Some(c) if (1..=s.amount).contains(&c) => Ok(c),
            Some(_) => self.err(
                format!("steps[{i}].compensation_amount"),
                format!(
                    "the compensation gives back 1..={} (at most the action's amount)",
                    s.amount
                ),
            ),
        }
    }
}

/// `[explore]`: the path in words becomes the choices the world follows.
impl Validator<'_> {
    pub(super) fn script(&self) -> Result<Option<Arc<Script>>, ScenarioError> {
        let Some(e) = &self.file.explore else {
            return Ok(None);
        };
        let mut choices = Vec::with_capacity(e.path.len());
        for (i, words) in e.path.iter().enumerate() {
            let choice = parse_choice(words, |name| node_of(self.file, name));
            match choice {
                Ok(c) => choices.push(c),
                Err(message) => return self.err(format!("explore.path[{i}]"), message),
            }
        }
        if !e.invariant.is_empty() && !INVARIANTS.contains(&e.invariant.as_str()) {
            return self.err(
                "explore.invariant",
                format!("unknown invariant \"{}\"", e.invariant),
            );
        }
        Ok(Some(Arc::new(Script {
            protocol: e.protocol,
            invariant: e.invariant.clone(),
            choices,
        })))
    }
}
