//! The `txlab` command line.

fn main() {
    println!("txlab: the command line arrives with the CLI issue; see README.md");
}
