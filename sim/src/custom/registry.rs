//! User services by name, so a scenario file can name them and a program
//! that registered them can run (and replay) it.

use super::logic::{DynLogic, ServiceLogic};
use super::plugged::Factory;
use crate::lab::scenario::{Scenario, ScenarioError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A program's user services, by the name scenario files use
/// (`[[services]] logic = "payment"`).
#[derive(Clone, Default)]
pub struct Registry {
    entries: BTreeMap<String, Factory>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Register `name`: `make` builds the service from its starting amounts
    /// (the scenario's `resources`).
    pub fn register<L, F>(mut self, name: &str, make: F) -> Self
    where
        L: ServiceLogic,
        F: Fn(&BTreeMap<String, i64>) -> L + Send + Sync + 'static,
    {
        let factory: Factory = Arc::new(move |start| Box::new(make(start)) as Box<dyn DynLogic>);
        self.entries.insert(name.to_string(), factory);
        self
    }

    /// The registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Give every service of `scenario` that names a logic its factory.
    /// A name this registry lacks is an error naming the file and field:
    /// a user's service runs only in the program that registered it.
    pub fn attach(&self, scenario: &mut Scenario) -> Result<(), ScenarioError> {
        let wanted: Vec<_> = scenario
            .spec
            .plugins
            .names()
            .map(|(id, n)| (id, n.to_string()))
            .collect();
        for (id, name) in wanted {
            let Some(factory) = self.entries.get(&name) else {
                let known: Vec<&str> = self.names().collect();
                let has = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                return Err(ScenarioError::Invalid {
                    file: scenario.origin.clone(),
                    field: format!("services[{}].logic", id.index()),
                    message: format!(
                        "\"{name}\" is a user service this program does not have (it has: {has}); \
                         open the file from the program that registered it (docs/testkit.md)"
                    ),
                    position: None,
                });
            };
            scenario.spec.plugins.attach(id, Arc::clone(factory));
        }
        Ok(())
    }
}
