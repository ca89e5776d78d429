//! Branching: faults injected at the cursor, and saving the branch as a
//! scenario file. The run is re-simulated with the fault one microsecond
//! after the cursor, so everything already on screen stays as it is.

use crate::app::{App, SaveRequest};
use crate::fold::Phase;
use crate::recording::{Injected, Recording};
use txlab_sim::engine::{Fault, NodeId, PartitionId, SimTime};
use txlab_sim::lab::scenario::format::{EventFile, FaultFile, MessageFile, PartitionFile};
use txlab_sim::lab::{WireMessage, wire_messages};
use txlab_sim::protocols::Protocol;

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
        // The id a saved branch's partition gets when it loads (the
        // scenario's partitions, then the UI's, numbered from 1), so the
        // replay's trace is this one.
        let scenario = self.rec.scenario.file.faults.iter();
        let ui = self.rec.injected.iter().map(|i| &i.fault);
        let before = scenario.filter(|f| f.partition.is_some()).count()
            + ui.filter(|f| matches!(f, Fault::Partition { .. })).count();
        let id = PartitionId(before as u32 + 1);
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

    /// The branch as a scenario file that replays exactly what is on
    /// screen: the scenario plus every injected fault, tied to an event so
    /// that it applies at the very microsecond it did here. A fault on one
    /// pane is tied to the last message put on the wire before it in that
    /// protocol's run (and written for that protocol only); a mirrored one
    /// to the client's first request, sent at the same time in every run;
    /// a dropped or duplicated message is named by kind, sender, receiver
    /// and number. Returns the text and how many faults could only be
    /// written to the nearest millisecond (none was anchored before them).
    pub fn branch_file(&self) -> (String, usize) {
        let s = &self.rec.scenario;
        let mut file = s.file.clone();
        file.name = format!("{}-branch", file.name);
        // The run on screen stops where the scenario's does; a file with
        // faults tied to events would guess another default stop.
        file.horizon_ms = Some(s.spec.horizon.as_micros() / 1_000);
        let wires: Vec<Vec<WireMessage>> = self
            .rec
            .panes
            .iter()
            .map(|p| wire_messages(p.world.trace()))
            .collect();
        let mut rounded = 0;
        // After the scenario's own faults, in injection order: a restart
        // follows its crash, and partitions keep the ids they had here.
        for inj in &self.rec.injected {
            let anchors: Vec<Option<Anchor>> = inj
                .panes
                .iter()
                .map(|p| anchor(&inj.fault, inj.at, &wires[*p], inj.panes.len() > 1))
                .collect();
            let common = anchors.first().cloned().flatten();
            // The same message in every run (ids may differ between runs).
            let key = |a: &Option<Anchor>| a.as_ref().map(|a| a.message.key());
            let one = inj.panes.len() == 1 || anchors.iter().all(|a| key(a) == key(&common));
            let per_pane: Vec<(Option<usize>, Option<Anchor>)> = if one {
                let only = (inj.panes.len() == 1).then(|| inj.panes[0]);
                vec![(only, common)]
            } else {
                inj.panes.iter().map(|p| Some(*p)).zip(anchors).collect()
            };
            for (pane, anchor) in per_pane {
                let mut f = self.fault_file(&inj.fault);
                f.protocol = pane.map(|p| Protocol::ALL[p].name().to_string());
                match anchor {
                    Some(a) => a.tie(&mut f, inj.at, |n| s.node_name(n)),
                    None => {
                        rounded += 1;
                        f.at_ms = inj.at.as_micros().div_ceil(1_000);
                    }
                }
                file.faults.push(f);
            }
        }
        (toml::to_string(&file).unwrap_or_default(), rounded)
    }

    /// The fault's action, in file words (no time yet).
    fn fault_file(&self, fault: &Fault) -> FaultFile {
        let name = |n: &NodeId| self.rec.scenario.node_name(*n);
        match fault {
            Fault::Crash(n) => FaultFile {
                crash: Some(name(n)),
                ..FaultFile::default()
            },
            Fault::Restart(n) => FaultFile {
                restart: Some(name(n)),
                ..FaultFile::default()
            },
            Fault::Partition { id, a, b, one_way } => FaultFile {
                partition: Some(PartitionFile {
                    name: format!("ui-{}", id.0),
                    a: a.iter().map(name).collect(),
                    b: Some(b.iter().map(name).collect()),
                    one_way: *one_way,
                }),
                ..FaultFile::default()
            },
            Fault::Heal(id) => FaultFile {
                heal: Some(format!("ui-{}", id.0)),
                ..FaultFile::default()
            },
            // The message itself is named when the fault is tied.
            Fault::HealAll | Fault::DropMessage(_) | Fault::DuplicateMessage(_) => FaultFile {
                heal: matches!(fault, Fault::HealAll).then(|| "all".to_string()),
                ..FaultFile::default()
            },
        }
    }

    pub(crate) fn save_branch(&mut self) {
        let (text, rounded) = self.branch_file();
        let path = format!("{}-branch.toml", self.rec.scenario.name());
        self.status = if rounded > 0 {
            format!("saving {path} ({rounded} faults rounded to the millisecond)")
        } else {
            format!("saving {path}")
        };
        self.save = Some(SaveRequest { path, text });
    }
}

/// What a saved fault is tied to: a message put on the wire before it.
#[derive(Clone, Debug, PartialEq)]
struct Anchor {
    /// The message's kind, ends and number.
    message: WireMessage,
    /// For a drop or a duplicate: the message is the target itself.
    target: Option<bool>,
}

impl Anchor {
    /// Tie `f` to this anchor so that it applies at `at`.
    fn tie(&self, f: &mut FaultFile, at: SimTime, name: impl Fn(NodeId) -> String) {
        let m = &self.message;
        let delay = (at.as_micros() - m.at.as_micros()) as f64 / 1_000.0;
        f.delay_ms = Some(delay);
        let (kind, from, to) = (m.kind.to_string(), Some(name(m.from)), Some(name(m.to)));
        match self.target {
            Some(drop) => {
                let named = MessageFile {
                    message: kind,
                    from,
                    to,
                    nth: m.nth,
                    ms: None,
                };
                if drop {
                    f.drop = Some(named);
                } else {
                    f.duplicate = Some(named);
                }
            }
            None => {
                f.after = Some(EventFile {
                    event: Some("sent".into()),
                    message: Some(kind),
                    from,
                    to,
                    nth: m.nth,
                    ..EventFile::default()
                })
            }
        }
    }
}

/// The anchor for `fault` at `at` in one run: the target message of a
/// drop or duplicate, else the last message put on the wire before `at`
/// (for a mirrored fault, the client's first request, the same in every
/// protocol's run).
fn anchor(fault: &Fault, at: SimTime, wire: &[WireMessage], mirrored: bool) -> Option<Anchor> {
    let target = |id, drop| {
        let message = wire.iter().find(|m| m.id == id)?.clone();
        Some(Anchor {
            message,
            target: Some(drop),
        })
    };
    match fault {
        Fault::DropMessage(id) => target(*id, true),
        Fault::DuplicateMessage(id) => target(*id, false),
        _ if mirrored => wire
            .iter()
            .find(|m| m.kind == "request" && m.nth == 1)
            .filter(|m| m.at < at)
            .map(|m| Anchor {
                message: m.clone(),
                target: None,
            }),
        _ => wire.iter().rev().find(|m| m.at < at).map(|m| Anchor {
            message: m.clone(),
            target: None,
        }),
    }
}
