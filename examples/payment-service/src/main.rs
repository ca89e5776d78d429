//! Replay a repro the testkit wrote, with this crate's services: in the
//! terminal UI when run in a terminal, else as a printed summary.
//!
//! `cargo run -p payment-service -- target/tmp/bug/payment-seed-N.toml [--v1]`
//! (the tests write their repros under `target/tmp/`, cargo's
//! `CARGO_TARGET_TMPDIR`).

use std::io::IsTerminal;
use std::process::ExitCode;
use txlab_sim::protocols::Protocol;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: payment-service REPRO.toml [--v1] [--print]");
        return ExitCode::from(2);
    };
    let registry = if args.iter().any(|a| a == "--v1") {
        payment_service::registry_v1()
    } else {
        payment_service::registry()
    };
    let path = std::path::Path::new(path);
    let print = args.iter().any(|a| a == "--print") || !std::io::stdout().is_terminal();
    if !print {
        return match txlab_sim::testkit::load(path, &registry) {
            Ok(s) => match txlab_tui::open(s) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("payment-service: terminal: {e}");
                    ExitCode::from(2)
                }
            },
            Err(e) => {
                eprintln!("payment-service: {e}");
                ExitCode::from(2)
            }
        };
    }
    let invariants = [payment_service::sam_pays_per_order()];
    match txlab_sim::testkit::replay(path, &registry, &invariants, &Protocol::ALL) {
        Ok(r) => {
            print!("{}", r.summary());
            if r.violations().next().is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("payment-service: {e}");
            ExitCode::from(2)
        }
    }
}
