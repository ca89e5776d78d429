//! The command line: parsing, dispatch and exit codes (0 ok, 1 violations
//! or failed expectations, 2 bad input).

use crate::sweep_cmd::{SweepArgs, merge_cmd, sweep_cmd};
use crate::{anomalies, export, handout, library, show, source, table};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use txlab_sim::lab::scenario::Scenario;
use txlab_sim::lab::scenario::expect::mismatches;
use txlab_sim::lab::{RunReport, run};
use txlab_sim::protocols::Protocol;

/// txlab: two-phase commit versus sagas in a deterministic network simulator.
#[derive(Parser, Debug)]
#[command(name = "txlab", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario under the protocols and print the comparison.
    Run {
        /// A scenario file or a lesson name (see `txlab list`).
        scenario: String,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Which protocol(s).
        #[arg(long, value_enum, default_value_t = Which::All)]
        protocol: Which,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Override one setting, as in the file (repeatable):
        /// `--set toggles.idempotency=false --set network.write_latency_ms=10`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Check scenarios' expectations (the whole library by default).
    Check {
        /// Scenario files or lesson names.
        scenarios: Vec<String>,
        /// Override one setting, as in the file (repeatable):
        /// `--set toggles.idempotency=false --set network.write_latency_ms=10`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Run many seeds in parallel and report the outcome distribution.
    Sweep {
        /// A scenario file or a lesson name.
        scenario: String,
        /// How many seeds.
        #[arg(long)]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Draw network (slow disk, long tails, slow links), service and
        /// fault parameters per seed.
        #[arg(long)]
        swarm: bool,
        /// Override the scenario's forced-write latency (ms) for every seed,
        /// e.g. `--write-latency-ms 10` to sweep a lesson on a slow disk.
        #[arg(long)]
        write_latency_ms: Option<u64>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Where to write repro files for violating seeds.
        #[arg(long, default_value = "txlab-repros")]
        out: PathBuf,
        /// Also shrink the first violating seed's scenario to a minimal
        /// repro (fewer faults, transactions and network trouble).
        #[arg(long)]
        shrink: bool,
        /// Override one setting, as in the file (repeatable):
        /// `--set toggles.idempotency=false --set network.write_latency_ms=10`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Output format: `json` writes a summary that `txlab merge`
        /// combines with other shards' (see docs/scale.md).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Merge the JSON summaries of sweep shards into one (same schema).
    Merge {
        /// Summary files written by `txlab sweep ... --format json`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a run's trace as JSON lines, Mermaid or Chrome trace JSON.
    Export {
        /// A scenario file or a lesson name.
        scenario: String,
        /// Output format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Which protocol's run.
        #[arg(long, value_enum, default_value_t = One::TwoPc)]
        protocol: One,
        /// Output file (default: standard output).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Override one setting, as in the file (repeatable):
        /// `--set toggles.idempotency=false --set network.write_latency_ms=10`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// The isolation matrix: anomalies by class, blocking, p99 latency and
    /// throughput for 2PC and each saga with each countermeasure.
    Anomalies {
        /// A scenario file or a lesson name (default: the built-in
        /// contention workload, lesson isolation-contention).
        scenario: Option<String>,
        /// How many seeds.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Worker threads (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Visit every state of a small configuration: prove the invariants
    /// within the bounds, or write the shortest counterexample as a repro.
    ///
    /// End states are where the protocol has no step left (a crash may
    /// still be allowed), each distinct configuration once, by outcome. For
    /// 2PC: "blocked" (someone up is in doubt and the coordinator is down),
    /// "down in doubt" (only crashed participants are in doubt; they learn
    /// the decision when they restart), "in doubt at the retry bound"
    /// (someone up could end the doubt; only --retries stopped the asking).
    /// More in docs/scenarios.md, "Explore".
    Explore {
        /// A scenario file or a lesson name (omit with --model).
        scenario: Option<String>,
        /// Which protocol(s).
        #[arg(long, value_enum, default_value_t = Which::TwoPc)]
        protocol: Which,
        /// At most this many fault steps per path (drop, duplicate, crash,
        /// restart).
        #[arg(long, default_value_t = 1)]
        faults: u32,
        /// Explore no deeper than this many steps (default: no bound).
        #[arg(long)]
        depth: Option<u32>,
        /// Worker threads (the result does not depend on it).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Visit at most this many distinct states per protocol, then stop
        /// and report that search incomplete (default for scenarios: 100,000, which
        /// keeps memory to a few GB even where a state takes tens of KB;
        /// 20,000,000 for --model two-phase).
        #[arg(long)]
        max_states: Option<u64>,
        /// Depth-first instead of breadth-first (counterexamples may then
        /// be longer than the shortest, and with --depth it can miss states
        /// breadth-first finds: a state first reached deep is not expanded
        /// again when reached shallower).
        #[arg(long)]
        dfs: bool,
        /// Where to write counterexamples.
        #[arg(long, default_value = "txlab-repros")]
        out: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        /// Explore an abstract model instead of a scenario: two-phase (Gray
        /// & Lamport's TwoPhase specification).
        #[arg(long)]
        model: Option<String>,
        /// Resource managers for --model two-phase (1 to 15).
        #[arg(long)]
        rms: Option<u32>,
        /// When timers may fire: when-quiet (the default: only when no
        /// message is in flight and no write is pending, i.e. timeouts are
        /// long compared with delivery) or any (at any point: the fully
        /// asynchronous model, far more states).
        #[arg(long, value_enum, default_value_t = TimersArg::WhenQuiet)]
        timers: TimersArg,
        /// How many times each timer (per node) may fire on one path: a
        /// bound on timeouts and retries, which keeps retry counters finite.
        #[arg(long, default_value_t = txlab_sim::lab::explore_model::RETRIES)]
        retries: u8,
        /// Only crash and restart as faults (no drop or duplicate).
        #[arg(long)]
        crashes_only: bool,
        /// Override one setting of the scenario, as in the file
        /// (repeatable): `--set toggles.idempotency=true`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// List the lessons.
    List,
    /// Open the terminal UI on a scenario or repro file (default lesson if
    /// none).
    Tui {
        /// A scenario file or a lesson name.
        scenario: Option<String>,
        /// Colours: default, high-contrast or light.
        #[arg(long, default_value = "default")]
        theme: String,
        /// Presenter mode: a big status line per protocol, high contrast.
        #[arg(long)]
        present: bool,
        /// Quiz mode: stop at each of the scenario's questions and hide
        /// the outcomes until the room has answered.
        #[arg(long)]
        quiz: bool,
        /// Override one setting, as in the file (repeatable):
        /// `--set toggles.idempotency=false --set network.write_latency_ms=10`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Print a lesson's TOML, to copy and edit (with `--set`: the file as
    /// overridden).
    Show {
        /// A scenario file or a lesson name.
        scenario: String,
        /// Override one setting, as in the file (repeatable):
        /// `--set toggles.idempotency=false --set network.write_latency_ms=10`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Which {
    #[value(name = "2pc")]
    TwoPc,
    Orchestrated,
    Choreographed,
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum One {
    #[value(name = "2pc")]
    TwoPc,
    Orchestrated,
    Choreographed,
}

impl One {
    fn protocol(self) -> Protocol {
        match self {
            One::TwoPc => Protocol::TwoPc,
            One::Orchestrated => Protocol::Orchestrated,
            One::Choreographed => Protocol::Choreographed,
        }
    }
}

impl Which {
    fn protocols(self) -> Vec<Protocol> {
        match self {
            Which::TwoPc => vec![Protocol::TwoPc],
            Which::Orchestrated => vec![Protocol::Orchestrated],
            Which::Choreographed => vec![Protocol::Choreographed],
            Which::All => Protocol::ALL.to_vec(),
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TimersArg {
    /// Any timer may fire at any point (the asynchronous model).
    Any,
    /// Timers fire only when nothing else can happen.
    WhenQuiet,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TextOrJson {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ExportFormat {
    Jsonl,
    Mermaid,
    Chrome,
    /// A Markdown handout for students: the lesson, the three protocols'
    /// diagrams, the comparison and the takeaway (all protocols).
    Handout,
}

/// A failure that ends the program with exit code 2.
pub struct BadInput(pub String);

impl<E: std::fmt::Display> From<E> for BadInput {
    fn from(e: E) -> Self {
        BadInput(e.to_string())
    }
}

/// Parse the arguments and run; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(BadInput(msg)) => {
            eprintln!("txlab: {msg}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, BadInput> {
    match cli.command {
        None => main_job(),
        Some(Command::Run {
            scenario,
            seed,
            protocol,
            format,
            set,
        }) => run_cmd(
            &source::load_with(&scenario, &set)?,
            seed,
            protocol.protocols(),
            format,
        ),
        Some(Command::Check { scenarios, set }) => check(&scenarios, &set),
        Some(Command::Sweep {
            scenario,
            seeds,
            from,
            swarm,
            write_latency_ms,
            jobs,
            out,
            shrink,
            set,
            format,
        }) => sweep_cmd(
            source::load_with(&scenario, &set)?,
            SweepArgs {
                seeds,
                from,
                swarm,
                write_latency_ms,
                jobs,
                out: &out,
                shrink,
                format,
            },
        ),
        Some(Command::Merge { files }) => merge_cmd(&files),
        Some(Command::Export {
            scenario,
            format,
            protocol,
            output,
            set,
        }) => export_cmd(
            &source::load_with(&scenario, &set)?,
            format,
            protocol.protocol(),
            output.as_deref(),
        ),
        Some(Command::Anomalies {
            scenario,
            seeds,
            from,
            format,
            jobs,
        }) => anomalies_cmd(scenario.as_deref(), seeds, from, format, jobs),
        Some(Command::Explore {
            scenario,
            protocol,
            faults,
            depth,
            threads,
            dfs,
            out,
            format,
            model,
            rms,
            timers,
            retries,
            crashes_only,
            max_states,
            set,
        }) => {
            if threads == 0 {
                return Err(BadInput("--threads must be at least 1".into()));
            }
            if max_states == Some(0) {
                return Err(BadInput("--max-states must be at least 1".into()));
            }
            // A lab world's state takes KBs; the abstract model's a few bytes.
            let explore_default_bound = Some(if model.is_none() {
                crate::explore::DEFAULT_MAX_STATES
            } else {
                crate::explore::MODEL_MAX_STATES
            });
            crate::explore::explore_cmd(crate::explore::ExploreArgs {
                scenario,
                protocols: protocol.protocols(),
                faults,
                out,
                json: matches!(format, TextOrJson::Json),
                model,
                rms,
                retries,
                crashes_only,
                set,
                timers: match timers {
                    TimersArg::Any => txlab_sim::lab::explore_model::Timers::Any,
                    TimersArg::WhenQuiet => txlab_sim::lab::explore_model::Timers::WhenQuiet,
                },
                options: txlab_sim::explore::Options {
                    strategy: if dfs {
                        txlab_sim::explore::Strategy::Dfs
                    } else {
                        txlab_sim::explore::Strategy::Bfs
                    },
                    max_depth: depth,
                    max_states: max_states.or(explore_default_bound),
                    threads,
                },
            })
        }
        Some(Command::List) => {
            show::list();
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Tui {
            scenario,
            theme,
            present,
            set,
            quiz,
        }) => tui(
            source::load_with(scenario.as_deref().unwrap_or(library::DEFAULT), &set)?,
            &theme,
            present,
            quiz,
        ),
        Some(Command::Show { scenario, set }) => show::show(&scenario, &set),
    }
}

/// The picker's catalog: the lessons, then `*.toml` in the current folder,
/// then the explorer's repros in `txlab-repros/` (`txlab explore`'s
/// default output folder).
fn catalog() -> Vec<txlab_tui::Entry> {
    let mut out: Vec<txlab_tui::Entry> = library::LIBRARY
        .iter()
        .map(|(name, _)| txlab_tui::Entry {
            name: name.to_string(),
            scenario: source::load(name).map_err(|e| e.to_string()),
        })
        .collect();
    for p in toml_files(Path::new("."))
        .into_iter()
        .chain(toml_files(Path::new("txlab-repros")))
    {
        let name = p.display().to_string();
        out.push(txlab_tui::Entry {
            scenario: source::load(&name).map_err(|e| e.to_string()),
            name,
        });
    }
    out
}

/// The `*.toml` files in `dir`, sorted (none if it cannot be read).
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file());
    files.sort();
    files
}

fn tui(scenario: Scenario, theme: &str, present: bool, quiz: bool) -> Result<ExitCode, BadInput> {
    let Some(theme) = txlab_tui::app::Theme::from_name(theme) else {
        return Err(BadInput(format!(
            "--theme {theme}: expected default, high-contrast or light"
        )));
    };
    if !std::io::stdout().is_terminal() {
        return Err(BadInput(
            "the terminal UI needs a terminal; try `txlab run`".into(),
        ));
    }
    if dumb_terminal() {
        eprintln!("note: TERM=dumb cannot show the terminal UI; printing the report instead");
        return run_cmd(&scenario, None, Protocol::ALL.to_vec(), Format::Table);
    }
    let mut app = txlab_tui::App::new(scenario, catalog());
    app.theme = theme;
    app.set_present(present);
    if quiz {
        app.set_quiz(true);
    }
    txlab_tui::run(app).map_err(|e| BadInput(format!("terminal: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// A terminal that cannot draw the UI (no cursor movement, no colour).
fn dumb_terminal() -> bool {
    std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

/// No arguments: the terminal UI on the default lesson, or the printed
/// side-by-side report when standard input or output is not a terminal.
fn main_job() -> Result<ExitCode, BadInput> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        return tui(source::load(library::DEFAULT)?, "default", false, false);
    }
    run_cmd(
        &source::load(library::DEFAULT)?,
        None,
        Protocol::ALL.to_vec(),
        Format::Table,
    )
}

fn run_all(scenario: &Scenario, protocols: &[Protocol]) -> Vec<RunReport> {
    protocols
        .iter()
        .map(|p| run(&scenario.spec_for(*p)).report)
        .collect()
}

fn run_cmd(
    scenario: &Scenario,
    seed: Option<u64>,
    protocols: Vec<Protocol>,
    format: Format,
) -> Result<ExitCode, BadInput> {
    let mut scenario = scenario.clone();
    if let Some(s) = seed {
        scenario = scenario.with_seed(s);
    }
    let reports = run_all(&scenario, &protocols);
    let text = match format {
        Format::Table => table::render(&scenario, &reports),
        Format::Json => {
            let v = serde_json::json!({
                "scenario": scenario.name(),
                "seed": scenario.file.seed,
                "protocols": reports,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
    };
    print(&text);
    if let Some(note) = repro_missed(&scenario, &reports) {
        eprintln!("txlab: {note}");
    }
    let violated = reports.iter().any(|r| !r.violations.is_empty());
    Ok(if violated {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// For a repro (`[explore]` naming the invariant its path breaks) whose
/// replay does not break that invariant, a warning in words: the path
/// was edited, or the protocols changed since it was found, and what the
/// run shows is then not the counterexample.
fn repro_missed(scenario: &Scenario, reports: &[RunReport]) -> Option<String> {
    let script = scenario.spec.script.as_ref()?;
    let report = reports.iter().find(|r| r.protocol == script.protocol)?;
    let reached = report
        .violations
        .iter()
        .any(|v| v.invariant == script.invariant);
    (!script.invariant.is_empty() && !reached).then(|| {
        format!(
            "this repro's path no longer breaks {} in the {} run: it was edited, or the protocol changed since it was found",
            script.invariant,
            script.protocol.name()
        )
    })
}

/// Write `text` to standard output; a closed pipe is not an error.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn check(args: &[String], sets: &[String]) -> Result<ExitCode, BadInput> {
    let names: Vec<String> = if args.is_empty() {
        library::LIBRARY
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        args.to_vec()
    };
    // Load everything first: one bad file is bad input, whatever else passes.
    let scenarios = names
        .iter()
        .map(|n| source::load_with(n, sets))
        .collect::<Result<Vec<_>, _>>()?;
    let mut failed = 0;
    for s in &scenarios {
        let reports = run_all(s, &Protocol::ALL);
        let mut problems = Vec::new();
        for r in &reports {
            if let Some(e) = s.file.expect.get(r.protocol.name()) {
                problems.extend(mismatches(e, r));
            }
        }
        if s.file.expect.is_empty() {
            problems.push("no expectations to check".into());
        }
        if problems.is_empty() {
            print(&format!("ok    {}\n", s.name()));
        } else {
            failed += 1;
            print(&format!("FAIL  {}\n", s.name()));
            for p in problems {
                print(&format!("        {p}\n"));
            }
        }
    }
    // print(), not println!: a closed pipe (`| head`) is no reason to panic.
    print(&format!(
        "{} passed, {failed} failed\n",
        scenarios.len() - failed
    ));
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn anomalies_cmd(
    arg: Option<&str>,
    seeds: u64,
    from: u64,
    format: Format,
    jobs: Option<usize>,
) -> Result<ExitCode, BadInput> {
    let scenario = source::load(arg.unwrap_or(library::CONTENTION))?;
    if seeds == 0 {
        return Err(BadInput("--seeds must be at least 1".into()));
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let base = scenario.spec_for(Protocol::TwoPc);
    let m = anomalies::matrix(&base, from, seeds, jobs);
    let text = match format {
        Format::Table => anomalies::render(scenario.name(), from, seeds, &m),
        Format::Json => {
            let v = anomalies::to_json(scenario.name(), from, seeds, &m);
            serde_json::to_string_pretty(&v)? + "\n"
        }
    };
    print(&text);
    Ok(ExitCode::SUCCESS)
}

fn export_cmd(
    scenario: &Scenario,
    format: ExportFormat,
    protocol: Protocol,
    output: Option<&Path>,
) -> Result<ExitCode, BadInput> {
    let text = match format {
        ExportFormat::Jsonl => export::jsonl(&run(&scenario.spec_for(protocol)).world),
        ExportFormat::Mermaid => export::mermaid(&run(&scenario.spec_for(protocol)).world),
        ExportFormat::Chrome => export::chrome(&run(&scenario.spec_for(protocol)).world),
        ExportFormat::Handout => handout::render(scenario),
    };
    match output {
        Some(path) => write_atomically(path, text.as_bytes())?,
        None => print(&text),
    }
    Ok(ExitCode::SUCCESS)
}

/// Write to a temporary file beside `path`, then rename: a crash or error
/// never leaves a half-written file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BadInput> {
    let tmp = path.with_extension("txlab-tmp");
    let res = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(BadInput(format!("{}: {e}", path.display())));
    }
    Ok(())
}
