//! Branching: faults injected at the cursor, and saving the branch as a
//! scenario file. The run is re-simulated with the fault one microsecond
//! after the cursor, so everything already on screen stays as it is.

use crate::app::{App, SaveRequest};
use crate::fold::Phase;
use crate::recording::{Injected, Recording};
use txlab_sim::engine::{Fault, NodeId, PartitionId, SimTime};
use txlab_sim::lab::scenario::format::{FaultFile, PartitionFile};

impl App {
    /// The panes an injected fault goes to.
    fn targets(&self) -> Vec<usize> {
        if self.mirror {
            vec![0, 1, 2]
        } else {
            vec![self.focus]
        }
    }

    /// Re-run with one more fault, just after the cursor, so the past on
    /// screen stays exactly as it is (prefix stability).
    fn inject(&mut self, fault: Fault, panes: Vec<usize>, what: String) {
        let at = self.now() + SimTime(1);
        let mut injected = self.rec.injected.clone();
        injected.push(Injected { at, fault, panes });
        let cursor = self.cursor;
        self.rec = Recording::new(self.rec.scenario.clone(), injected);
        self.stale = true;
        self.seek(cursor);
        self.status = format!("{what} at {at}: the run branches here (u undoes)");
        self.undo.push((cursor, what));
    }

    /// Back to the run before the last injected fault, at the cursor where
    /// it was injected.
    pub(crate) fn undo_branch(&mut self) {
        let Some((cursor, what)) = self.undo.pop() else {
            self.status = "nothing to undo: this is the scenario's own run".into();
            return;
        };
        let mut injected = self.rec.injected.clone();
        injected.pop();
        self.rec = Recording::new(self.rec.scenario.clone(), injected);
        self.stale = true;
        self.message = None;
        self.seek(cursor);
        self.status = match self.undo.len() {
            0 => format!("undid '{what}': back to the scenario's own run"),
            n => format!("undid '{what}': back to the branch with {n} injected"),
        };
    }

    pub(crate) fn crash_restart(&mut self) {
        let id = NodeId(self.node as u32);
        let name = self.panes[self.focus].nodes[self.node].name.clone();
        let down = self.panes[self.focus].nodes[self.node].phase == Phase::Crashed;
        let fault = if down {
            Fault::Restart(id)
        } else {
            Fault::Crash(id)
        };
        let verb = if down { "restart" } else { "crash" };
        self.inject(fault, self.targets(), format!("{verb} {name}"));
    }

    pub(crate) fn message_fault(&mut self, drop: bool) {
        let Some(m) = self
            .message
            .and_then(|m| self.panes[self.focus].in_flight.get(m).cloned())
        else {
            self.status = "select an in-flight message first (m)".into();
            return;
        };
        // Message ids belong to one run: this fault never mirrors.
        let fault = if drop {
            Fault::DropMessage(m.id)
        } else {
            Fault::DuplicateMessage(m.id)
        };
        let verb = if drop { "drop" } else { "duplicate" };
        self.message = None;
        self.inject(fault, vec![self.focus], format!("{verb} '{}'", m.label));
    }

    /// Whether a partition injected from the UI is still in force.
    fn partitioned(&self) -> bool {
        self.rec
            .injected
            .iter()
            .fold(false, |active, i| match i.fault {
                Fault::Partition { .. } => true,
                Fault::HealAll => false,
                _ => active,
            })
    }

    pub(crate) fn partition_heal(&mut self) {
        if self.partitioned() {
            return self.inject(Fault::HealAll, self.targets(), "heal all partitions".into());
        }
        let id = PartitionId(self.next_partition);
        self.next_partition += 1;
        let node = NodeId(self.node as u32);
        let others = (0..self.panes[self.focus].nodes.len() as u32)
            .map(NodeId)
            .filter(|n| *n != node)
            .collect();
        let name = self.panes[self.focus].nodes[self.node].name.clone();
        let fault = Fault::Partition {
            id,
            a: vec![node],
            b: others,
            one_way: false,
        };
        self.inject(fault, self.targets(), format!("cut {name} off"));
    }

    /// The branch as a scenario file: the scenario plus the injected faults
    /// that a file can express (message drops and duplicates cannot).
    pub fn branch_file(&self) -> (String, usize) {
        let s = &self.rec.scenario;
        let mut file = s.file.clone();
        file.name = format!("{}-branch", file.name);
        let mut skipped = 0;
        for inj in &self.rec.injected {
            let at_ms = inj.at.as_micros().div_ceil(1_000);
            let name = |n: &NodeId| s.node_name(*n);
            let f = match &inj.fault {
                Fault::Crash(n) => FaultFile {
                    at_ms,
                    crash: Some(name(n)),
                    ..FaultFile::default()
                },
                Fault::Restart(n) => FaultFile {
                    at_ms,
                    restart: Some(name(n)),
                    ..FaultFile::default()
                },
                Fault::Partition { id, a, b, one_way } => FaultFile {
                    at_ms,
                    partition: Some(PartitionFile {
                        name: format!("ui-{}", id.0),
                        a: a.iter().map(name).collect(),
                        b: Some(b.iter().map(name).collect()),
                        one_way: *one_way,
                    }),
                    ..FaultFile::default()
                },
                Fault::HealAll => FaultFile {
                    at_ms,
                    heal: Some("all".into()),
                    ..FaultFile::default()
                },
                _ => {
                    skipped += 1;
                    continue;
                }
            };
            file.faults.push(f);
        }
        file.faults.sort_by_key(|f| f.at_ms);
        (toml::to_string(&file).unwrap_or_default(), skipped)
    }

    pub(crate) fn save_branch(&mut self) {
        let (text, skipped) = self.branch_file();
        let path = format!("{}-branch.toml", self.rec.scenario.name());
        self.status = if skipped > 0 {
            format!("saving {path} ({skipped} message faults cannot be written to a file)")
        } else {
            format!("saving {path}")
        };
        self.save = Some(SaveRequest { path, text });
    }
}
