//! Connects to a loopback sink again and again, for a profiler: the user-space cost of one
//! blocking connect by address, without a bench harness around it (BENCHMARKS.md, "Sixth
//! pass", has the commands that read it).
//!
//! ```text
//! cargo build --release -p eyeballs-blocking --example connect_loop
//! target/release/examples/connect_loop [CONNECTS] [eyeballs|no-history|std]
//! ```
//!
//! CONNECTS is at most 1,000,000 (default 10,000); every connect goes to 127.0.0.1, to a
//! sink of eyeballs-lab that this program starts and that accepts and closes.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Instant;

use eyeballs_blocking::Connector;

/// The most connects one run makes (the loop is bounded whatever the argument).
const MAX_CONNECTS: u32 = 1_000_000;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let connects = match args.next().map(|s| s.parse::<u32>()) {
        None => 10_000,
        Some(Ok(n)) if n <= MAX_CONNECTS => n,
        Some(_) => {
            eprintln!(
                "CONNECTS: a count from 0 to {MAX_CONNECTS}, e.g. `connect_loop 60000 eyeballs`"
            );
            return ExitCode::from(2);
        }
    };
    let side = args.next().unwrap_or_else(|| "eyeballs".to_owned());
    let history = match side.as_str() {
        "eyeballs" => true,
        "no-history" | "std" => false,
        other => {
            eprintln!("side: `eyeballs`, `no-history` or `std`, not `{other}`");
            return ExitCode::from(2);
        }
    };
    let addr = eyeballs_lab::loopback::sink();
    let connector = match Connector::builder().history(history).build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("connector: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    for _ in 0..connects {
        let stream = if side == "std" {
            TcpStream::connect(addr)
        } else {
            connector.connect(addr)
        };
        if let Err(e) = stream {
            eprintln!("connect to {addr}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let each = start.elapsed().as_secs_f64() * 1e6 / f64::from(connects.max(1));
    println!("{connects} connects ({side}) to {addr}: {each:.1} µs each");
    ExitCode::SUCCESS
}
