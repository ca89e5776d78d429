//! `txlab explore`: visit every state of a small configuration, print what
//! was found, and write each counterexample as a scenario file that
//! `txlab run` and `txlab tui` replay step by step.

use crate::cli::BadInput;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use txlab_sim::explore::{Explored, Options, Progress, TwoPhase, TwoPhaseAction, explore};
use txlab_sim::lab::explore_model::{Timers, WorldModel};
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::lab::scenario::format::ExploreFile;
use txlab_sim::protocols::Protocol;

/// One broken invariant, as the summary lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Violated {
    /// The invariant.
    pub invariant: String,
    /// The protocol (or `two-phase` for the abstract model).
    pub protocol: String,
    /// The repro file written (none for the abstract model).
    pub repro: Option<String>,
    /// Steps in the counterexample.
    #[serde(skip)]
    pub steps: usize,
    /// The counterexample in words.
    #[serde(skip)]
    pub path: Vec<String>,
}

/// What one exploration found (one protocol, or the abstract model).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Distinct states visited.
    pub distinct_states: u64,
    /// Transitions taken.
    pub transitions: u64,
    /// Greatest depth reached.
    pub max_depth: u32,
    /// Every reachable state within the bounds was visited.
    pub complete: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// End states by outcome.
    pub terminal: BTreeMap<String, u64>,
    /// Broken invariants.
    pub violations: Vec<Violated>,
}

impl Summary {
    fn new<A>(r: &Explored<A>, seconds: f64, violations: Vec<Violated>) -> Self {
        Summary {
            distinct_states: r.distinct_states,
            transitions: r.transitions,
            max_depth: r.max_depth,
            complete: r.complete,
            seconds,
            terminal: r.terminal.clone(),
            violations,
        }
    }

    /// Several protocols' summaries as one: counts add up, outcomes are
    /// prefixed by their protocol, complete only if each was.
    pub fn merge(parts: &[(String, Summary)]) -> Summary {
        let mut all = Summary {
            distinct_states: 0,
            transitions: 0,
            max_depth: 0,
            complete: true,
            seconds: 0.0,
            terminal: BTreeMap::new(),
            violations: Vec::new(),
        };
        for (name, s) in parts {
            all.distinct_states += s.distinct_states;
            all.transitions += s.transitions;
            all.max_depth = all.max_depth.max(s.max_depth);
            all.complete &= s.complete;
            all.seconds += s.seconds;
            for (o, n) in &s.terminal {
                let key = if parts.len() > 1 {
                    format!("{name} {o}")
                } else {
                    o.clone()
                };
                all.terminal.insert(key, *n);
            }
            all.violations.extend(s.violations.iter().cloned());
        }
        all
    }
}

/// A progress line on standard error: redrawn in place on a terminal, a
/// line every few seconds otherwise.
pub fn progress_line(label: String) -> impl Fn(&Progress) + Sync {
    let start = Instant::now();
    let last = std::sync::Mutex::new(0.0f64);
    let tty = std::io::stderr().is_terminal();
    move |p: &Progress| {
        let t = start.elapsed().as_secs_f64();
        let mut last = last.lock().expect("progress lock");
        let every = if tty { 0.2 } else { 5.0 };
        if t - *last < every && p.queue != 0 {
            return;
        }
        *last = t;
        let rate = p.states as f64 / t.max(1e-9);
        let line = format!(
            "{label}: {} states, {:.0} states/s, depth {}, queue {}",
            p.states, rate, p.depth, p.queue
        );
        let mut err = std::io::stderr().lock();
        let _ = if tty {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        if tty && p.queue == 0 {
            let _ = writeln!(err);
        }
    }
}

/// Explore one protocol's world of `scenario`; write repros into `out`.
pub fn explore_world(
    scenario: &Scenario,
    protocol: Protocol,
    a: &ExploreArgs,
) -> Result<Summary, String> {
    let (faults, options, out) = (a.faults, &a.options, a.out.as_path());
    let mut model = WorldModel::new(&scenario.spec_for(protocol), faults)
        .with_timers(a.timers)
        .with_retries(a.retries);
    if a.crashes_only {
        model = model.crashes_only();
    }
    let start = Instant::now();
    let progress = progress_line(format!("explore {} ({})", scenario.name(), protocol.name()));
    let r = explore(&model, options, &progress);
    let seconds = start.elapsed().as_secs_f64();
    let mut violations = Vec::new();
    for found in &r.violations {
        let path = model.words(&found.path);
        let file = repro(scenario, protocol, &found.invariant, &path);
        let name = format!("{}.toml", file.name);
        std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        let dest: PathBuf = out.join(name);
        let text = toml::to_string(&file).map_err(|e| e.to_string())?;
        std::fs::write(&dest, text).map_err(|e| format!("{}: {e}", dest.display()))?;
        violations.push(Violated {
            invariant: found.invariant.clone(),
            protocol: protocol.name().to_string(),
            repro: Some(dest.display().to_string()),
            steps: path.len(),
            path,
        });
    }
    Ok(Summary::new(&r, seconds, violations))
}

/// The scenario file that replays `path`: the scenario without its timed
/// faults and expectations, with the path as its `[explore]` schedule.
fn repro(
    scenario: &Scenario,
    protocol: Protocol,
    invariant: &str,
    path: &[String],
) -> txlab_sim::lab::scenario::ScenarioFile {
    let mut file = scenario.file.clone();
    file.name = format!(
        "{}-explore-{}-{invariant}",
        scenario.name(),
        protocol.name()
    );
    file.description = format!(
        "counterexample: shortest path to {invariant}, {} steps, found by txlab explore in {}",
        path.len(),
        scenario.name()
    );
    // The lesson's story (its narration, quiz and takeaway) is about its
    // own run, not this path: a repro keeps only what it needs to replay.
    file.takeaway = format!(
        "The shortest path the explorer found to {invariant} under {}; the other protocols run the scenario as written.",
        protocol.name()
    );
    file.faults.clear();
    file.expect.clear();
    file.narration.clear();
    file.question.clear();
    file.explore = Some(ExploreFile {
        protocol,
        invariant: invariant.to_string(),
        path: path.to_vec(),
    });
    file
}

/// Explore Gray & Lamport's TwoPhase with `rms` resource managers.
pub fn explore_two_phase(rms: u32, options: &Options) -> Summary {
    let model = TwoPhase::new(rms);
    let start = Instant::now();
    let r = explore(
        &model,
        options,
        &progress_line(format!("explore two-phase ({rms} RMs)")),
    );
    let seconds = start.elapsed().as_secs_f64();
    let violations = r
        .violations
        .iter()
        .map(|f| Violated {
            invariant: f.invariant.clone(),
            protocol: "two-phase".into(),
            repro: None,
            steps: f.path.len(),
            path: f.path.iter().map(two_phase_words).collect(),
        })
        .collect();
    Summary::new(&r, seconds, violations)
}

fn two_phase_words(a: &TwoPhaseAction) -> String {
    use TwoPhaseAction::*;
    match *a {
        TmRcvPrepared(r) => format!("the TM receives Prepared from rm{}", r + 1),
        TmCommit => "the TM commits".into(),
        TmAbort => "the TM aborts".into(),
        RmPrepare(r) => format!("rm{} prepares", r + 1),
        RmChooseToAbort(r) => format!("rm{} aborts on its own", r + 1),
        RmRcvCommitMsg(r) => format!("rm{} receives Commit", r + 1),
        RmRcvAbortMsg(r) => format!("rm{} receives Abort", r + 1),
    }
}

/// The state bound `txlab explore` applies to a scenario unless
/// `--max-states` says otherwise.
pub const DEFAULT_MAX_STATES: u64 = 100_000;

/// The state bound for `--model two-phase` unless `--max-states` says
/// otherwise: its states take a few bytes, so 8 RMs (1,745,408 states)
/// and 9 are explored whole, while 15 RMs (hundreds of billions) stop
/// within a few GB instead of growing until memory runs out.
pub const MODEL_MAX_STATES: u64 = 20_000_000;

/// The summary as text.
pub fn render(title: &str, parts: &[(String, Summary)]) -> String {
    let mut s = format!("{title}\n");
    for (name, p) in parts {
        s += &format!("\n{name}\n");
        s += &format!("  distinct states   {}\n", p.distinct_states);
        s += &format!("  transitions       {}\n", p.transitions);
        s += &format!("  maximum depth     {}\n", p.max_depth);
        s += &format!(
            "  complete          {}\n",
            if p.complete {
                "yes: every reachable state within the bounds was visited"
            } else {
                "no: a bound (--depth or --max-states) cut the search short"
            }
        );
        s += &format!("  seconds           {:.2}\n", p.seconds);
        let ends: Vec<String> = p.terminal.iter().map(|(o, n)| format!("{o} {n}")).collect();
        s += &format!(
            "  end states        {}\n",
            if ends.is_empty() {
                "none".into()
            } else {
                ends.join("; ")
            }
        );
        if p.violations.is_empty() {
            s += "  violations        none\n";
        }
        for v in &p.violations {
            s += &format!(
                "  VIOLATED          {}: shortest path {} steps\n",
                v.invariant, v.steps
            );
            for (i, step) in v.path.iter().enumerate() {
                s += &format!("    {:>3}. {step}\n", i + 1);
            }
            if let Some(r) = &v.repro {
                s += &format!("    repro: {r} (txlab run {r}; txlab tui {r})\n");
            }
        }
    }
    s
}

/// `txlab explore`'s arguments.
pub struct ExploreArgs {
    /// A scenario file or lesson name (none with `model`).
    pub scenario: Option<String>,
    /// The protocols to explore, in order.
    pub protocols: Vec<Protocol>,
    /// The fault budget per path.
    pub faults: u32,
    /// Where repros go.
    pub out: PathBuf,
    /// JSON instead of text.
    pub json: bool,
    /// An abstract model instead of a scenario (`two-phase`).
    pub model: Option<String>,
    /// Resource managers for `two-phase`.
    pub rms: Option<u32>,
    /// When timers may fire.
    pub timers: Timers,
    /// How many times each timer may fire on one path.
    pub retries: u8,
    /// Crash and restart as the only faults.
    pub crashes_only: bool,
    /// `--set PATH=VALUE` overrides of the scenario.
    pub set: Vec<String>,
    /// Search options.
    pub options: Options,
}

/// What of `spec` the explorer leaves out, in words, if anything: it
/// chooses faults itself (up to `--faults`), so the scenario's own faults
/// and its network's loss and duplication do not apply, and a user who
/// wrote them must not think they were explored.
pub fn ignored_by_explore(spec: &txlab_sim::lab::RunSpec) -> Option<String> {
    let mut left_out = Vec::new();
    if !spec.faults.is_empty() {
        left_out.push("timed faults and partitions");
    }
    if !spec.planned.is_empty() {
        left_out.push("event-tied faults");
    }
    let links = std::iter::once(&spec.net.default).chain(spec.net.links.values());
    if links.clone().any(|l| l.loss_probability > 0.0) {
        left_out.push("network message loss");
    }
    if links.clone().any(|l| l.duplicate_probability > 0.0) {
        left_out.push("network duplication");
    }
    (!left_out.is_empty()).then(|| {
        format!(
            "the scenario's own faults are left out of the search ({}): the explorer chooses faults itself (--faults K: drops, duplicates, crashes, restarts)",
            left_out.join(", ")
        )
    })
}

/// Run `txlab explore`: exit 0 when nothing is violated, 1 when something
/// is; bad input is an error (exit 2).
pub fn explore_cmd(a: ExploreArgs) -> Result<ExitCode, BadInput> {
    let (title, parts) = match (&a.model, &a.scenario) {
        (Some(_), Some(s)) => {
            return Err(BadInput(format!(
                "explore: give a scenario ({s}) or --model, not both"
            )));
        }
        (Some(_), None) if !a.set.is_empty() => {
            return Err(BadInput(
                "--set changes a scenario; --model has none".into(),
            ));
        }
        (Some(m), None) if m == "two-phase" => {
            let max = txlab_sim::explore::MAX_RMS;
            let rms = match a.rms {
                Some(n) if (1..=max).contains(&n) => n,
                Some(n) => return Err(BadInput(format!("--rms {n}: expected 1 to {max}"))),
                None => return Err(BadInput("--model two-phase needs --rms N".into())),
            };
            let title = format!("explore two-phase: Gray & Lamport's TwoPhase, {rms} RMs");
            (
                title,
                vec![("two-phase".to_string(), explore_two_phase(rms, &a.options))],
            )
        }
        (Some(m), None) => {
            return Err(BadInput(format!(
                "--model {m}: the only model is two-phase"
            )));
        }
        (None, None) => {
            return Err(BadInput(
                "explore: give a scenario file or lesson name, or --model two-phase".into(),
            ));
        }
        (None, Some(arg)) => {
            if a.rms.is_some() {
                return Err(BadInput("--rms goes with --model two-phase".into()));
            }
            let scenario = crate::source::load_with(arg, &a.set)?;
            if let Some(p) = a.protocols.first() {
                if let Some(note) = ignored_by_explore(&scenario.spec_for(*p)) {
                    eprintln!("txlab explore: {note}");
                }
            }
            let mut parts = Vec::new();
            for &p in &a.protocols {
                let s = explore_world(&scenario, p, &a).map_err(BadInput)?;
                parts.push((p.name().to_string(), s));
            }
            let title = format!(
                "explore {}: at most {} fault{}, depth {}, {}",
                scenario.name(),
                a.faults,
                if a.faults == 1 { "" } else { "s" },
                a.options
                    .max_depth
                    .map_or("unbounded".to_string(), |d| d.to_string()),
                match a.options.strategy {
                    txlab_sim::explore::Strategy::Bfs => "breadth-first",
                    txlab_sim::explore::Strategy::Dfs => "depth-first",
                }
            );
            (title, parts)
        }
    };
    let text = if a.json {
        serde_json::to_string_pretty(&Summary::merge(&parts))
            .map_err(|e| BadInput(e.to_string()))?
            + "\n"
    } else {
        render(&title, &parts)
    };
    crate::cli::print(&text);
    let violated = parts.iter().any(|(_, s)| !s.violations.is_empty());
    Ok(if violated {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
