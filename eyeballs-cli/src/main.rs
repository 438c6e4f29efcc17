//! `eyeballs`: watch a Happy Eyeballs (RFC 8305) race happen.
//!
//! - `eyeballs demo`: a self-contained race on loopback where IPv6 hangs.
//! - `eyeballs connect HOST PORT` (or `HOST:PORT`, `[IPV6]:PORT`): one real race (or
//!   `--repeat N`), printed as a timeline or as JSON.
//!
//! Messages are in the user's words: a problem names the flag and the rule, never a library
//! setting; IPv6 addresses with a port are bracketed; a failed lookup is one sentence.
// A command-line tool prints to stdout by design.
#![allow(clippy::print_stdout)]

mod json;

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use eyeballs_core::{
    Config, ConfigError, Failure, FailureReason, FamilyPolicy, Host, HostError, HostPort,
    Nat64Prefix, Report, ATTEMPT_START_FLOOR, MAX_CONNECTION_ATTEMPT_DELAY,
};
use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{BuildError, Connector, HickoryResolver, StaticResolver};

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
    // The help is an attribute, not a doc comment: rustdoc would read `[IPV6]` as a link.
    #[arg(
        value_name = "HOST",
        help = "Host name or IP literal, or HOST:PORT, or [IPV6]:PORT"
    )]
    target: String,
    /// TCP port (1 to 65535), unless HOST has one.
    port: Option<u16>,
    /// Which runtime drives the race.
    #[arg(long, value_enum, default_value_t = Runtime::Tokio)]
    runtime: Runtime,
    /// Which resolver answers: the system's getaddrinfo (one query for both families) or
    /// hickory (AAAA and A as two queries, from /etc/resolv.conf), on every runtime.
    #[arg(long, value_enum, default_value_t = ResolverKind::System)]
    resolver: ResolverKind,
    /// With --resolver hickory: ask this name server (IP:PORT) instead of those of
    /// /etc/resolv.conf.
    #[arg(long, value_name = "IP:PORT")]
    dns_server: Option<SocketAddr>,
    /// Connection Attempt Delay in milliseconds (RFC 8305 §5; default 250, from 10 to 2000).
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
    /// First Address Family Count (RFC 8305 §4; default 1, at least 1).
    #[arg(long, value_name = "N")]
    family_count: Option<usize>,
    /// Overall deadline in milliseconds (at least 1; default none).
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

/// The runtime's hickory resolver: asking `--dns-server`, or the system's name servers.
fn hickory<R>(
    args: &ConnectArgs,
    with_name_servers: fn(&[SocketAddr]) -> std::io::Result<R>,
    from_system_conf: fn() -> std::io::Result<R>,
) -> Result<R, ExitCode> {
    match args.dns_server {
        Some(server) => with_name_servers(&[server]),
        None => from_system_conf(),
    }
    .map_err(|e| usage(format!("--resolver hickory: {e}")))
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
        if args.dns_server.is_some() && args.resolver != ResolverKind::Hickory {
            return Err(usage(
                "--dns-server needs --resolver hickory (the system resolver asks the servers of \
                 /etc/resolv.conf)",
            ));
        }
        let mut config = configure(args);
        // Checked before any NAT64 lookup, so a bad flag fails at once.
        config
            .validate()
            .map_err(|e| usage(config_problem(&e, args)))?;
        if let Some(nat64) = &args.nat64 {
            config = config.nat64(Some(nat64_prefix(nat64, args.runtime)?));
        }
        let built = |e: BuildError| usage(build_problem(&e, args));
        let runner = match args.runtime {
            Runtime::Tokio => {
                let mut builder = Connector::builder().config(config);
                if args.resolver == ResolverKind::Hickory {
                    builder = builder.resolver(hickory(
                        args,
                        HickoryResolver::with_name_servers,
                        HickoryResolver::from_system_conf,
                    )?);
                }
                let connector = builder.build().map_err(built)?;
                Runner::Tokio(tokio_runtime()?, connector)
            }
            Runtime::AsyncStd | Runtime::Smol => {
                use eyeballs_async_std::HickoryResolver;
                let mut builder = eyeballs_async_std::Connector::builder().config(config);
                if args.resolver == ResolverKind::Hickory {
                    builder = builder.resolver(hickory(
                        args,
                        HickoryResolver::with_name_servers,
                        HickoryResolver::from_system_conf,
                    )?);
                }
                let connector = builder.build().map_err(built)?;
                if args.runtime == Runtime::Smol {
                    Runner::Smol(connector)
                } else {
                    Runner::AsyncStd(connector)
                }
            }
            Runtime::Blocking => {
                use eyeballs_blocking::HickoryResolver;
                let mut builder = eyeballs_blocking::Connector::builder().config(config);
                if args.resolver == ResolverKind::Hickory {
                    builder = builder.resolver(hickory(
                        args,
                        HickoryResolver::with_name_servers,
                        HickoryResolver::from_system_conf,
                    )?);
                }
                Runner::Blocking(builder.build().map_err(built)?)
            }
        };
        Ok(runner)
    }

    /// Runs one race; the stream, if any, is closed at once.
    fn race(&self, target: &HostPort) -> (Result<(), std::io::Error>, Option<Report>) {
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
    let target = match target(args) {
        Ok(t) => t,
        Err(code) => return code,
    };
    warn_about_delays(args);
    let runner = match Runner::new(args) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let host = host_text(&target);
    let mut failed = false;
    for i in 0..args.repeat {
        let (result, report) = runner.race(&target);
        let Some(report) = report else {
            // Only a race that could not start (an unknown IPv6 zone) has no report.
            let error = result.err().map_or_else(String::new, |e| e.to_string());
            return usage(format!("{target}: {error}"));
        };
        failed |= result.is_err();
        if args.json {
            println!("{}", json::race(&host, target.port(), &report));
        } else {
            if args.repeat > 1 {
                println!("race {} of {}", i + 1, args.repeat);
            }
            println!("{report}");
        }
        if let Err(e) = &result {
            eprintln!("eyeballs: {}", failure_message(&target, e, args.only));
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

/// The host and port from `HOST PORT`, `HOST:PORT` or `[IPV6]:PORT`.
fn target(args: &ConnectArgs) -> Result<HostPort, ExitCode> {
    let given = &args.target;
    let target = match (args.port, given.parse::<HostPort>()) {
        (Some(port), Ok(with_port)) if with_port.port() != port => {
            return Err(usage(format!(
                "{given} names port {}, and PORT says {port}: give the port once",
                with_port.port()
            )));
        }
        (_, Ok(with_port)) => with_port,
        (Some(port), Err(_)) => {
            HostPort::new(given, port).map_err(|e| usage(host_problem(&e, given)))?
        }
        (None, Err(e)) => return Err(usage(host_problem(&e, given))),
    };
    if target.port() == 0 {
        return Err(usage(format!(
            "{target}: port 0 cannot be connected to; give a port from 1 to 65535"
        )));
    }
    Ok(target)
}

/// What is wrong with the HOST argument, in the command line's terms.
fn host_problem(e: &HostError, given: &str) -> String {
    match e {
        HostError::MissingPort(_) if given.contains(':') => {
            let ip = given.trim_start_matches('[').trim_end_matches(']');
            format!("{given} has no port: write [{ip}]:PORT, or {ip} PORT")
        }
        HostError::MissingPort(_) => {
            format!("{given} has no port: write {given}:PORT, or {given} PORT")
        }
        HostError::BadPort(port) => format!("{given}: {port} is not a port (1 to 65535)"),
        HostError::BadBrackets(_) => {
            format!(
                "{given} is not a bracketed address: write an IPv6 address and port as [IPV6]:PORT"
            )
        }
        HostError::BadName(name) => format!(
            "{name:?} is not a host name: dot-separated labels of letters, digits, '-' and '_'"
        ),
        HostError::EmptyHost => format!("{given}: the host is empty"),
        other => format!("{given}: {other}"),
    }
}

/// The name or address of the target, as the JSON `host` field shows it (no brackets).
fn host_text(target: &HostPort) -> String {
    match target.host() {
        Host::Name(name) => name.clone(),
        Host::Ip(ip) => ip.to_string(),
        Host::ZonedIpv6 { addr, zone } => format!("{addr}%{zone}"),
        _ => target.to_string(),
    }
}

/// The core clamps the fixed Connection Attempt Delay to [10 ms, 2 s]: say so when a value
/// is outside.
fn warn_about_delays(args: &ConnectArgs) {
    let Some(ms) = args.attempt_delay else {
        return;
    };
    let floor = ATTEMPT_START_FLOOR.as_millis();
    let max = MAX_CONNECTION_ATTEMPT_DELAY.as_millis();
    let max_s = MAX_CONNECTION_ATTEMPT_DELAY.as_secs_f64();
    if u128::from(ms) < floor {
        eprintln!(
            "eyeballs: warning: --attempt-delay {ms} is below the RFC 8305 floor of {floor} ms; \
             using {floor} ms"
        );
    } else if u128::from(ms) > max {
        eprintln!(
            "eyeballs: warning: --attempt-delay {ms} is above the {max_s} s maximum (RFC 8305 \
             §5); using {max_s} s"
        );
    }
}

/// A configuration problem as the flag that caused it and the rule it broke.
fn config_problem(e: &ConfigError, args: &ConnectArgs) -> String {
    match e {
        ConfigError::ZeroFirstAddressFamilyCount => format!(
            "--family-count {}: the First Address Family Count (RFC 8305 §4) is at least 1; \
             1, the default, alternates families from the first address",
            args.family_count.unwrap_or(0)
        ),
        ConfigError::ZeroTimeout => format!(
            "--timeout {}: the deadline is at least 1 ms; leave --timeout out for no deadline",
            args.timeout.unwrap_or(0)
        ),
        // The command line sets nothing else that the core checks.
        other => format!("unusable settings: {other}"),
    }
}

/// A connector the builder refused, in the command line's terms.
fn build_problem(e: &BuildError, args: &ConnectArgs) -> String {
    match e {
        BuildError::Config(c) => config_problem(c, args),
        other => format!("unusable settings: {other}"),
    }
}

/// One sentence for a failed race: failed lookups once each (AAAA and A often fail the same
/// way), then each attempt with its bracketed address.
fn failure_message(target: &HostPort, e: &io::Error, only: Option<Family>) -> String {
    let only = only.map(|f| match f {
        Family::V6 => "IPv6",
        Family::V4 => "IPv4",
    });
    let Some(failure) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Failure<io::Error>>())
    else {
        return format!("{target}: {e}");
    };
    let mut dns: Vec<String> = Vec::new();
    for q in failure.queries() {
        let text = q.error.to_string();
        if !dns.contains(&text) {
            dns.push(text);
        }
    }
    // Bounded like the core's own text: the first few attempts, then a count.
    let shown = eyeballs_core::FAILURE_DISPLAY_LIMIT;
    let mut attempts: Vec<String> = failure
        .attempts()
        .iter()
        .take(shown)
        .map(|a| match &a.error {
            Some(e) => format!("{}: {e}", a.endpoint.addr()),
            None => format!("{}: cancelled", a.endpoint.addr()),
        })
        .collect();
    if failure.attempts().len() > shown {
        attempts.push(format!("and {} more", failure.attempts().len() - shown));
    }
    let head = match failure.reason() {
        FailureReason::DnsFailed if !dns.is_empty() => return dns.join("; "),
        FailureReason::AllAttemptsFailed if attempts.len() == 1 => attempts.remove(0),
        FailureReason::AllAttemptsFailed => {
            let n = attempts.len();
            format!(
                "{target}: all {n} connection attempts failed: {}",
                attempts.join("; ")
            )
        }
        FailureReason::NoAddresses => match only {
            Some(family) => format!("{target}: DNS answered with no {family} address (--only)"),
            None => format!("{target}: DNS answered with no address to connect to"),
        },
        FailureReason::TimedOut { after, .. } if attempts.is_empty() => {
            format!(
                "{target}: timed out after {} ms (--timeout)",
                after.as_millis()
            )
        }
        FailureReason::TimedOut { after, .. } => format!(
            "{target}: timed out after {} ms (--timeout): {}",
            after.as_millis(),
            attempts.join("; ")
        ),
        _ => format!("{target}: {failure}"),
    };
    if dns.is_empty() {
        head
    } else {
        format!("{head}; {}", dns.join("; "))
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
