//! `eyeballs`: watch a Happy Eyeballs (RFC 8305) race happen.
//!
//! - `eyeballs demo`: a self-contained race on loopback where IPv6 hangs.
//! - `eyeballs connect HOST PORT`: one real race (or `--repeat N`), printed as a timeline or
//!   as JSON.
// A command-line tool prints to stdout by design.
#![allow(clippy::print_stdout)]

mod json;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use eyeballs_core::{Config, FamilyPolicy, Nat64Prefix, Report};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Connector, HickoryResolver, StaticResolver};

/// Happy Eyeballs (RFC 8305): the fastest working connection out of a host name.
#[derive(Debug, Parser)]
#[command(name = "eyeballs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Shows a race on loopback: IPv6 hangs, IPv4 wins after the attempt delay, and the
    /// history sends the next race straight to IPv4. Needs no root and no network.
    Demo,
    /// Races a real host and prints the timeline.
    Connect(ConnectArgs),
}

#[derive(Debug, clap::Args)]
struct ConnectArgs {
    /// Host name or IP literal.
    host: String,
    /// TCP port.
    port: u16,
    /// Which runtime drives the race.
    #[arg(long, value_enum, default_value_t = Runtime::Tokio)]
    runtime: Runtime,
    /// Which resolver answers: the system's getaddrinfo (one query for both families) or
    /// hickory (AAAA and A as two queries, from /etc/resolv.conf).
    #[arg(long, value_enum, default_value_t = ResolverKind::System)]
    resolver: ResolverKind,
    /// Connection Attempt Delay in milliseconds (RFC 8305 §5; default 250).
    #[arg(long, value_name = "MS")]
    attempt_delay: Option<u64>,
    /// Resolution Delay in milliseconds (RFC 8305 §3; default 50).
    #[arg(long, value_name = "MS")]
    resolution_delay: Option<u64>,
    /// Family to try first.
    #[arg(long, value_enum, conflicts_with = "only")]
    prefer: Option<Family>,
    /// Use only this family.
    #[arg(long, value_enum)]
    only: Option<Family>,
    /// First Address Family Count (RFC 8305 §4; default 1).
    #[arg(long, value_name = "N")]
    family_count: Option<usize>,
    /// Overall deadline in milliseconds.
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Races one after another through one connector, so the history shows.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
    /// NAT64 (RFC 8305 §7.1): race IPv4 addresses as IPv6 ones synthesized with this
    /// prefix (`64:ff9b::/96`), or with the prefix discovered through `ipv4only.arpa`
    /// (`auto`, RFC 7050). For IPv6-only networks.
    #[arg(long, value_name = "auto|PREFIX/LEN")]
    nat64: Option<String>,
    /// Prints one JSON object per race instead of a timeline.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Runtime {
    /// tokio (eyeballs-tokio).
    Tokio,
    /// async-std's executor (eyeballs-async-std, on async-io).
    AsyncStd,
    /// smol's executor (eyeballs-async-std, on async-io).
    Smol,
    /// No runtime: std::net on the calling thread (eyeballs-blocking).
    Blocking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ResolverKind {
    /// getaddrinfo.
    System,
    /// hickory-resolver.
    Hickory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Family {
    /// IPv6.
    V6,
    /// IPv4.
    V4,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => match tokio_runtime() {
            Ok(rt) => rt.block_on(demo()),
            Err(code) => code,
        },
        Command::Connect(args) => connect(&args),
    }
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("eyeballs: cannot start the tokio runtime: {e}");
            ExitCode::FAILURE
        })
}

/// Exit status 2: the command line asked for something impossible.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("eyeballs: {message}");
    ExitCode::from(2)
}

/// One connector on the runtime the user chose; every runtime prints the same report.
enum Runner {
    Tokio(tokio::runtime::Runtime, eyeballs_tokio::Connector),
    AsyncStd(eyeballs_async_std::Connector),
    Smol(eyeballs_async_std::Connector),
    Blocking(eyeballs_blocking::Connector),
}

impl Runner {
    fn new(args: &ConnectArgs) -> Result<Runner, ExitCode> {
        let mut config = configure(args);
        if let Some(nat64) = &args.nat64 {
            config = config.nat64(Some(nat64_prefix(nat64, args.runtime)?));
        }
        if args.resolver == ResolverKind::Hickory && args.runtime != Runtime::Tokio {
            return Err(usage("--resolver hickory runs on --runtime tokio only"));
        }
        let runner = match args.runtime {
            Runtime::Tokio => {
                let mut builder = Connector::builder().config(config);
                if args.resolver == ResolverKind::Hickory {
                    let hickory = HickoryResolver::from_system_conf().map_err(|e| {
                        usage(format!("cannot set up hickory from the system config: {e}"))
                    })?;
                    builder = builder.resolver(hickory);
                }
                let connector = builder.build().map_err(usage)?;
                Runner::Tokio(tokio_runtime()?, connector)
            }
            Runtime::AsyncStd | Runtime::Smol => {
                let builder = eyeballs_async_std::Connector::builder().config(config);
                let connector = builder.build().map_err(usage)?;
                if args.runtime == Runtime::Smol {
                    Runner::Smol(connector)
                } else {
                    Runner::AsyncStd(connector)
                }
            }
            Runtime::Blocking => {
                let builder = eyeballs_blocking::Connector::builder().config(config);
                Runner::Blocking(builder.build().map_err(usage)?)
            }
        };
        Ok(runner)
    }

    /// Runs one race; the stream, if any, is closed at once.
    fn race(&self, target: (&str, u16)) -> (Result<(), std::io::Error>, Option<Report>) {
        fn done<S>(
            r: (std::io::Result<S>, Option<Report>),
        ) -> (std::io::Result<()>, Option<Report>) {
            (r.0.map(drop), r.1)
        }
        match self {
            Runner::Tokio(rt, c) => done(rt.block_on(c.connect_with_report(target))),
            Runner::AsyncStd(c) => done(async_std::task::block_on(c.connect_with_report(target))),
            Runner::Smol(c) => done(smol::block_on(c.connect_with_report(target))),
            Runner::Blocking(c) => done(c.connect_with_report(target)),
        }
    }
}

fn connect(args: &ConnectArgs) -> ExitCode {
    let runner = match Runner::new(args) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut failed = false;
    for i in 0..args.repeat {
        let (result, report) = runner.race((args.host.as_str(), args.port));
        let Some(report) = report else {
            // Only a race that could not start (a bad target) has no report.
            let error = result.err().map_or_else(String::new, |e| e.to_string());
            return usage(error);
        };
        failed |= result.is_err();
        if args.json {
            println!("{}", json::race(&args.host, args.port, &report));
        } else {
            if args.repeat > 1 {
                println!("race {} of {}", i + 1, args.repeat);
            }
            println!("{report}");
        }
        if let Err(e) = &result {
            eprintln!("eyeballs: {}:{}: {e}", args.host, args.port);
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The prefix `--nat64` names, or the one the runtime's system resolver discovers.
fn nat64_prefix(arg: &str, runtime: Runtime) -> Result<Nat64Prefix, ExitCode> {
    if arg != "auto" {
        let (addr, len) = arg
            .split_once('/')
            .ok_or_else(|| usage(format!("--nat64 {arg}: write auto or PREFIX/LEN")))?;
        let addr = addr
            .parse()
            .map_err(|e| usage(format!("--nat64 {arg}: {e}")))?;
        let len = len
            .parse()
            .map_err(|e| usage(format!("--nat64 {arg}: {e}")))?;
        return Nat64Prefix::new(addr, len).map_err(usage);
    }
    let found = match runtime {
        Runtime::Tokio => tokio_runtime()?.block_on(eyeballs_tokio::discover_nat64(
            &eyeballs_tokio::SystemResolver,
        )),
        Runtime::AsyncStd | Runtime::Smol => smol::block_on(eyeballs_async_std::discover_nat64(
            &eyeballs_async_std::SystemResolver,
        )),
        Runtime::Blocking => eyeballs_blocking::discover_nat64(&eyeballs_blocking::SystemResolver),
    };
    match found {
        Ok(Some(prefix)) => Ok(prefix),
        Ok(None) => {
            eprintln!("eyeballs: --nat64 auto: ipv4only.arpa has no NAT64 prefix here (no DNS64)");
            Err(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("eyeballs: --nat64 auto: looking up ipv4only.arpa failed: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

fn configure(args: &ConnectArgs) -> Config {
    let mut c = Config::default();
    if let Some(ms) = args.attempt_delay {
        c = c.connection_attempt_delay(Duration::from_millis(ms));
    }
    if let Some(ms) = args.resolution_delay {
        c = c.resolution_delay(Duration::from_millis(ms));
    }
    let policy = match (args.only, args.prefer) {
        (Some(Family::V6), _) => Some(FamilyPolicy::V6Only),
        (Some(Family::V4), _) => Some(FamilyPolicy::V4Only),
        (None, Some(Family::V4)) => Some(FamilyPolicy::PreferV4),
        (None, Some(Family::V6)) => Some(FamilyPolicy::PreferV6),
        (None, None) => None,
    };
    if let Some(policy) = policy {
        c = c.family_policy(policy);
    }
    if let Some(n) = args.family_count {
        c = c.first_address_family_count(n);
    }
    if let Some(ms) = args.timeout {
        c = c.timeout(Some(Duration::from_millis(ms)));
    }
    c
}

const DEMO_NAME: &str = "demo.eyeballs.test";

async fn demo() -> ExitCode {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("eyeballs demo: this machine has no IPv6 loopback (::1), which the demo races");
        return ExitCode::FAILURE;
    }
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let connector = match Connector::builder()
        .resolver(StaticResolver::new().host(DEMO_NAME, [V6, V4]))
        .build()
    {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    println!("eyeballs demo: a Happy Eyeballs (RFC 8305) race on loopback, nothing else");
    println!("  {DEMO_NAME} resolves to ::1 and 127.0.0.1 (a static resolver: no DNS traffic)");
    println!(
        "  {} hangs: its listener's accept queue is full, so the kernel drops the SYN",
        lab.addr(V6)
    );
    println!("  {} accepts", lab.addr(V4));
    println!();
    println!("Race 1: IPv6 goes first; IPv4 starts after the Connection Attempt Delay");
    let first = match demo_race(&connector, &lab).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    println!();
    println!("Race 2, same connector: its history saw IPv6 lose, so IPv4 goes first");
    let second = match demo_race(&connector, &lab).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    println!();
    println!(
        "Without history: {} to connect. With it: {}.",
        ms(first.elapsed()),
        ms(second.elapsed())
    );
    drop(lab);
    ExitCode::SUCCESS
}

async fn demo_race(connector: &Connector, lab: &Lab) -> Result<Report, ExitCode> {
    let (stream, report) = connector.connect_with_report((DEMO_NAME, lab.port)).await;
    let report = report.ok_or(ExitCode::FAILURE)?;
    println!("{report}");
    match stream {
        Ok(stream) => {
            drop(stream);
            Ok(report)
        }
        Err(e) => {
            eprintln!("eyeballs demo: the race failed: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
