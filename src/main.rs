//! The `txlab` binary.

fn main() -> std::process::ExitCode {
    txlab::cli::main()
}
