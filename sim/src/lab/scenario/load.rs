//! Parsing and validating a scenario, and turning it into a [`RunSpec`].

use super::ScenarioError;
use super::format::{FaultFile, LatencyFile, ScenarioFile};
use crate::engine::{Fault, Latency, LinkConfig, NodeId, PartitionId, ScheduledFault, SimTime};
use crate::lab::checkers::INVARIANTS;
use crate::lab::run::RunSpec;
use crate::protocols::workload::{
    Arrival, ServiceId, ServiceSpec, StepFailure, StepId, StepKind, StepSpec, TxId, Workflow,
};
use crate::protocols::{Outcome, Protocol, Timing};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Size limits, so a hostile or mistaken file fails fast instead of
/// exhausting memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes in the file.
    pub max_bytes: usize,
    /// Services.
    pub max_services: usize,
    /// Steps.
    pub max_steps: usize,
    /// Transactions.
    pub max_transactions: u32,
    /// Faults.
    pub max_faults: usize,
    /// Virtual time.
    pub max_horizon_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_services: 32,
            max_steps: 32,
            max_transactions: 10_000,
            max_faults: 1_000,
            max_horizon_ms: 3_600_000,
        }
    }
}

/// Names of the central node (node 0) in any protocol.
const CENTRAL: [&str; 4] = ["coordinator", "orchestrator", "broker", "central"];

/// Events narration can be tied to.
pub const NARRATION_EVENTS: [&str; 9] = [
    "crash",
    "restart",
    "partition",
    "heal",
    "decision",
    "in_doubt",
    "compensation",
    "stuck",
    "retry",
];

/// A loaded, valid scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file as written (for saving and repro files).
    pub file: ScenarioFile,
    /// Where it came from (a path, or `library:NAME`).
    pub origin: String,
    /// The run it describes (protocol set per run).
    pub spec: RunSpec,
}

impl Scenario {
    /// Parse `bytes` from `origin` with the default limits.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Scenario, ScenarioError> {
        Self::parse_with(bytes, origin, Limits::default())
    }

    /// Parse with explicit limits.
    pub fn parse_with(
        bytes: &[u8],
        origin: &str,
        limits: Limits,
    ) -> Result<Scenario, ScenarioError> {
        let not = |message: &str| ScenarioError::NotAScenario {
            file: origin.to_string(),
            message: message.to_string(),
        };
        if bytes.len() > limits.max_bytes {
            return Err(ScenarioError::TooLarge {
                file: origin.into(),
                what: "the file (bytes)".into(),
                actual: bytes.len() as u64,
                max: limits.max_bytes as u64,
            });
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(not("the file is empty"));
        }
        if bytes.contains(&0) {
            return Err(not("the file is binary, not a TOML scenario"));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            not(&format!(
                "the file is not UTF-8 text (bad byte at offset {})",
                e.valid_up_to()
            ))
        })?;
        let file: ScenarioFile = toml::from_str(text).map_err(|e| syntax(origin, text, &e))?;
        Self::from_file(file, origin, limits)
    }

    /// Validate a parsed file.
    pub fn from_file(
        file: ScenarioFile,
        origin: &str,
        limits: Limits,
    ) -> Result<Scenario, ScenarioError> {
        let spec = Validator {
            file: &file,
            origin,
            limits,
        }
        .spec()?;
        Ok(Scenario {
            file,
            origin: origin.to_string(),
            spec,
        })
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// The same scenario with another seed.
    pub fn with_seed(&self, seed: u64) -> Scenario {
        let mut s = self.clone();
        s.file.seed = seed;
        s.spec.seed = seed;
        s
    }

    /// The spec for one protocol.
    pub fn spec_for(&self, protocol: Protocol) -> RunSpec {
        self.spec.with_protocol(protocol)
    }

    /// The file as TOML (what `txlab run` reads back identically).
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.file).expect("a scenario file always serializes")
    }

    /// The node id a name in the file refers to.
    pub fn node(&self, name: &str) -> Option<NodeId> {
        node_of(&self.file, name)
    }

    /// The name of node `id` in a file (service name, or `coordinator`).
    pub fn node_name(&self, id: NodeId) -> String {
        match id.0 {
            0 => "coordinator".into(),
            n => self.file.services[(n - 1) as usize].name.clone(),
        }
    }
}

fn report_metric(name: &str) -> Option<f64> {
    crate::lab::Metrics::default().get(name)
}

fn node_of(file: &ScenarioFile, name: &str) -> Option<NodeId> {
    if CENTRAL.contains(&name) {
        return Some(NodeId(0));
    }
    file.services
        .iter()
        .position(|s| s.name == name)
        .map(|i| NodeId(i as u32 + 1))
}

/// A TOML error with its position.
fn syntax(origin: &str, text: &str, e: &toml::de::Error) -> ScenarioError {
    let offset = e.span().map_or(0, |s| s.start).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ScenarioError::Syntax {
        file: origin.into(),
        line,
        column,
        message: e.message().trim().to_string(),
    }
}

struct Validator<'a> {
    file: &'a ScenarioFile,
    origin: &'a str,
    limits: Limits,
}

impl Validator<'_> {
    fn err<T>(
        &self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<T, ScenarioError> {
        Err(ScenarioError::Invalid {
            file: self.origin.into(),
            field: field.into(),
            message: message.into(),
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

    fn node(&self, field: String, name: &str) -> Result<NodeId, ScenarioError> {
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

    fn spec(&self) -> Result<RunSpec, ScenarioError> {
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
        let workflow = self.workflow()?;
        let (net, write_latency) = self.network()?;
        let faults = self.faults()?;
        self.narration()?;
        self.expectations()?;
        let last_fault = faults.iter().map(|f| f.at.0 / 1_000).max().unwrap_or(0);
        let horizon_ms = f.horizon_ms.unwrap_or(last_fault + 30_000);
        self.too_large("horizon_ms", horizon_ms, l.max_horizon_ms)?;
        let mut spec = RunSpec::new(Protocol::TwoPc, f.seed, workflow);
        spec.workflow = Arc::clone(&spec.workflow);
        spec.net = net;
        spec.write_latency = write_latency;
        spec.faults = faults;
        spec.toggles = f.toggles.clone();
        spec.timing = self.timing();
        spec.horizon = SimTime::from_millis(horizon_ms);
        Ok(spec)
    }

    fn workflow(&self) -> Result<Workflow, ScenarioError> {
        let f = self.file;
        if f.services.is_empty() {
            return self.err("services", "no services: add at least one [[services]]");
        }
        let mut seen = BTreeMap::new();
        for (i, s) in f.services.iter().enumerate() {
            if CENTRAL.contains(&s.name.as_str()) {
                return self.err(
                    format!("services[{i}].name"),
                    format!("\"{}\" is reserved for the coordinator", s.name),
                );
            }
            if seen.insert(s.name.as_str(), i).is_some() {
                return self.err(
                    format!("services[{i}].name"),
                    format!("service \"{}\" is declared twice", s.name),
                );
            }
        }
        if f.steps.is_empty() {
            return self.err("steps", "the workflow is empty: add at least one [[steps]]");
        }
        let mut steps = Vec::new();
        for (i, s) in f.steps.iter().enumerate() {
            let field = |k: &str| format!("steps[{i}].{k}");
            let Some(&svc) = seen.get(s.service.as_str()) else {
                return self.err(
                    field("service"),
                    format!(
                        "unknown service \"{}\" (known: {})",
                        s.service,
                        self.known()
                    ),
                );
            };
            if !f.services[svc].resources.contains_key(&s.resource) {
                return self.err(
                    field("resource"),
                    format!(
                        "service \"{}\" has no resource \"{}\"",
                        s.service, s.resource
                    ),
                );
            }
            if s.amount <= 0 {
                return self.err(field("amount"), "the amount must be positive");
            }
            steps.push(StepSpec {
                name: s.name.clone(),
                service: ServiceId(svc as u16),
                resource: s.resource.clone(),
                amount: s.amount,
                kind: s.kind,
                action: s.action.clone(),
                compensation: s.compensation.clone(),
            });
        }
        let pivots: Vec<usize> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == StepKind::Pivot)
            .map(|(i, _)| i)
            .collect();
        if pivots.len() > 1 {
            return self.err(
                format!("steps[{}].kind", pivots[1]),
                "two steps are marked pivot; a saga has at most one",
            );
        }
        if f.workload.transactions == 0 {
            return self.err("workload.transactions", "at least one transaction");
        }
        let failures = self.failures(&steps)?;
        Ok(Workflow {
            services: f
                .services
                .iter()
                .map(|s| ServiceSpec {
                    name: s.name.clone(),
                    resources: s.resources.clone(),
                })
                .collect(),
            steps,
            transactions: f.workload.transactions,
            arrival: Arrival {
                start: SimTime::from_millis(f.workload.start_ms),
                interval: SimTime::from_millis(f.workload.interval_ms),
            },
            failures,
        })
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
            let mut c = default.clone();
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

    fn faults(&self) -> Result<Vec<ScheduledFault>, ScenarioError> {
        let mut partitions: BTreeMap<&str, (PartitionId, u64)> = BTreeMap::new();
        let mut crashes: BTreeMap<NodeId, u64> = BTreeMap::new();
        let mut out = Vec::new();
        let all: Vec<NodeId> = (0..=self.file.services.len() as u32).map(NodeId).collect();
        for (i, fl) in self.file.faults.iter().enumerate() {
            let field = |k: &str| format!("faults[{i}].{k}");
            let at = SimTime::from_millis(fl.at_ms);
            let fault = match fl {
                FaultFile {
                    crash: Some(n),
                    restart: None,
                    partition: None,
                    heal: None,
                    ..
                } => {
                    let id = self.node(field("crash"), n)?;
                    crashes.insert(id, fl.at_ms);
                    Fault::Crash(id)
                }
                FaultFile {
                    crash: None,
                    restart: Some(n),
                    partition: None,
                    heal: None,
                    ..
                } => {
                    let id = self.node(field("restart"), n)?;
                    match crashes.get(&id) {
                        Some(t) if *t < fl.at_ms => Fault::Restart(id),
                        Some(t) => {
                            return self.err(
                                field("at_ms"),
                                format!(
                                    "restart of \"{n}\" at {} ms is not after its crash at {t} ms",
                                    fl.at_ms
                                ),
                            );
                        }
                        None => {
                            return self.err(
                                field("restart"),
                                format!("\"{n}\" restarts but never crashed before"),
                            );
                        }
                    }
                }
                FaultFile {
                    crash: None,
                    restart: None,
                    partition: Some(p),
                    heal: None,
                    ..
                } => {
                    if partitions.contains_key(p.name.as_str()) || p.name == "all" {
                        return self.err(
                            field("partition.name"),
                            format!("partition name \"{}\" is already used", p.name),
                        );
                    }
                    let a =
                        p.a.iter()
                            .map(|n| self.node(field("partition.a"), n))
                            .collect::<Result<Vec<_>, _>>()?;
                    if a.is_empty() {
                        return self.err(field("partition.a"), "side a is empty");
                    }
                    let b = match &p.b {
                        Some(b) => b
                            .iter()
                            .map(|n| self.node(field("partition.b"), n))
                            .collect::<Result<Vec<_>, _>>()?,
                        None => all.iter().copied().filter(|n| !a.contains(n)).collect(),
                    };
                    let id = PartitionId(partitions.len() as u32 + 1);
                    partitions.insert(&p.name, (id, fl.at_ms));
                    Fault::Partition {
                        id,
                        a,
                        b,
                        one_way: p.one_way,
                    }
                }
                FaultFile {
                    crash: None,
                    restart: None,
                    partition: None,
                    heal: Some(name),
                    ..
                } => {
                    if name == "all" {
                        Fault::HealAll
                    } else {
                        match partitions.get(name.as_str()) {
                            Some((id, t)) if *t <= fl.at_ms => Fault::Heal(*id),
                            Some((_, t)) => return self.err(field("at_ms"), format!("heal of \"{name}\" at {} ms comes before the partition at {t} ms", fl.at_ms)),
                            None => return self.err(field("heal"), format!("no partition named \"{name}\" starts before this heal")),
                        }
                    }
                }
                _ => {
                    return self.err(
                        format!("faults[{i}]"),
                        "give exactly one of crash, restart, partition, heal",
                    );
                }
            };
            out.push(ScheduledFault::new(at, fault));
        }
        Ok(out)
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
            if let Some(v) = e
                .violations
                .iter()
                .find(|v| !INVARIANTS.contains(&v.as_str()))
            {
                return self.err(
                    field("violations"),
                    format!(
                        "unknown invariant \"{v}\" (known: {})",
                        INVARIANTS.join(", ")
                    ),
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
