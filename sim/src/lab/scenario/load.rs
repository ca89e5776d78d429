//! Parsing and validating a scenario, and turning it into a [`RunSpec`].

use super::ScenarioError;
use super::format::ScenarioFile;
use super::validate::Validator;
use crate::engine::NodeId;
use crate::lab::run::RunSpec;
use crate::protocols::Protocol;

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
pub(super) const CENTRAL: [&str; 4] = ["coordinator", "orchestrator", "broker", "central"];

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
        Self::from_file(file, origin, limits).map_err(|e| super::locate::position(e, text))
    }

    /// Validate a parsed file.
    pub fn from_file(
        file: ScenarioFile,
        origin: &str,
        limits: Limits,
    ) -> Result<Scenario, ScenarioError> {
        let mut spec = Validator {
            file: &file,
            origin,
            limits,
        }
        .spec()?;
        spec.plugins = plugins(&file, origin)?;
        // An `[explore]` step that is not possible where it stands is an
        // error, not a silent skip: the replay would not be the path.
        if let Err((i, message)) = crate::lab::explore_model::check_path(&spec) {
            return Err(ScenarioError::Invalid {
                file: origin.into(),
                field: format!("explore.path[{i}]"),
                message,
                position: None,
            });
        }
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

    /// The name of node `id` in a file (service name, or `coordinator`).
    pub fn node_name(&self, id: NodeId) -> String {
        let services = self.file.services.len() as u32;
        match id.0 {
            0 => "coordinator".into(),
            n if n <= services => self.file.services[(n - 1) as usize].name.clone(),
            // After the services: the client, then the auditor if any.
            n if n == services + 1 => "client".into(),
            _ => "auditor".into(),
        }
    }
}

pub(super) fn node_of(file: &ScenarioFile, name: &str) -> Option<NodeId> {
    if CENTRAL.contains(&name) {
        return Some(NodeId(0));
    }
    let services = file.services.len() as u32;
    let extra = match name {
        "client" => Some(NodeId(services + 1)),
        "auditor" if file.toggles.auditor => Some(NodeId(services + 2)),
        _ => None,
    };
    file.services
        .iter()
        .position(|s| s.name == name)
        .map(|i| NodeId(i as u32 + 1))
        .or(extra)
}

/// The services that name a user's logic (attached later, by a
/// [`Registry`](crate::custom::Registry)).
fn plugins(file: &ScenarioFile, origin: &str) -> Result<crate::custom::Plugins, ScenarioError> {
    for (i, s) in file.services.iter().enumerate() {
        if s.logic.as_ref().is_some_and(|l| l.trim().is_empty()) {
            return Err(ScenarioError::Invalid {
                file: origin.into(),
                field: format!("services[{i}].logic"),
                message: "empty: name a registered user service, or leave it out".into(),
                position: None,
            });
        }
    }
    Ok(crate::custom::Plugins::named(
        file.services.iter().map(|s| s.logic.clone()),
    ))
}

/// A TOML error with its position.
fn syntax(origin: &str, text: &str, e: &toml::de::Error) -> ScenarioError {
    let offset = e.span().map_or(0, |s| s.start);
    let (line, column) = super::locate::line_column(text, offset);
    ScenarioError::Syntax {
        file: origin.into(),
        line,
        column,
        message: super::words::in_words(e.message().trim()),
    }
}

#[cfg(test)]
mod client_name_tests {
    use super::*;

    /// Guards against a panic found by the UI fuzz test: saving a branch
    /// that crashed the client node asked for a service past the end.
    #[test]
    fn the_client_node_has_a_name_that_reads_back() {
        let text = "name = \"x\"\n[[services]]\nname = \"car\"\nresources = { cars = 1 }\n\
                    [[steps]]\nname = \"book\"\nservice = \"car\"\nresource = \"cars\"\n\
                    amount = 1\naction = \"reserve\"\ncompensation = \"cancel\"\n";
        let s = Scenario::parse(text.as_bytes(), "x").unwrap();
        assert_eq!(s.node_name(NodeId(2)), "client");
        assert_eq!(node_of(&s.file, "client"), Some(NodeId(2)));
        assert_eq!(node_of(&s.file, "auditor"), None, "no auditor in this run");
        // A service may not take the client's name: faults would be
        // ambiguous.
        let taken = text.replace("\"car\"", "\"client\"");
        let err = Scenario::parse(taken.as_bytes(), "x").unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
    }
}
