//! `eyeballs`: watch a Happy Eyeballs (RFC 8305) race happen.
//!
//! - `eyeballs demo`: self-contained races on loopback: IPv6 hangs (RFC 8305), then QUIC
//!   hangs and TCP+TLS wins (Happy Eyeballs v3).
//! - `eyeballs connect HOST PORT` (or `HOST:PORT`, `[IPV6]:PORT`): one real race (or
//!   `--repeat N`), its timeline printed as it happens (a `tracing` layer over the
//!   library's events, `timeline.rs`), or as JSON; `--tls` races TLS and QUIC with the
//!   host's HTTPS records, trusting what the system trusts (and `--ca`), and with
//!   `--alt-svc` the host's alternative services. The timeline starts with the delay
//!   schedule the races run (`--delay-schedule`), and each attempt's line shows its delay.
//!
//! Messages are in the user's words: a problem names the flag and the rule, never a library
//! setting; IPv6 addresses with a port are bracketed; a failed lookup is one sentence.
// A command-line tool prints to stdout by design.
#![allow(clippy::print_stdout)]

mod args;
mod demo;
mod failure;
mod json;
mod schedule;
mod target;
mod timeline;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use eyeballs_core::{
    Alpn, AltService, Config, ConfigError, DelaySchedule, FamilyPolicy, Host, HostPort,
    Nat64Prefix, Report, Transport, ATTEMPT_START_FLOOR, MAX_ALT_SERVICES,
    MAX_CONNECTION_ATTEMPT_DELAY,
};
use eyeballs_net::{AltSvcValue, Proxy, Tls, TlsConfigError};
use eyeballs_tokio::{BuildError, Connector, HickoryResolver};
use rustls::pki_types::CertificateDer;

/// Happy Eyeballs (RFC 8305): the fastest working connection out of a host name.
#[derive(Debug, Parser)]
#[command(name = "eyeballs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Shows races on loopback: IPv6 hangs, IPv4 wins after the attempt delay, and the
    /// history sends the next race straight to IPv4; then Happy Eyeballs v3: QUIC hangs,
    /// TCP+TLS wins after the attempt delay, and the next race goes TCP first. Needs no
    /// root and no network.
    Demo,
    /// Races a real host and prints its timeline as it happens (or JSON).
    Connect(Box<ConnectArgs>),
}

#[derive(Debug, clap::Args)]
struct ConnectArgs {
    // The help is an attribute, not a doc comment: rustdoc would read `[IPV6]` as a link.
    #[arg(
        value_name = "HOST",
        help = "Host name or IP literal, or HOST:PORT, or [IPV6]:PORT (not a URL: no \
                scheme, no path)"
    )]
    target: String,
    /// TCP port (1 to 65535), unless HOST has one.
    #[arg(value_parser = args::port, allow_negative_numbers = true)]
    port: Option<u16>,
    /// Which runtime drives the race.
    #[arg(long, value_enum, default_value_t = Runtime::Tokio)]
    runtime: Runtime,
    /// Which resolver answers: the system's getaddrinfo (once per family) or hickory (AAAA,
    /// A and HTTPS as DNS queries, from /etc/resolv.conf), on every runtime. Default: system,
    /// or hickory with --tls.
    #[arg(long, value_enum)]
    resolver: Option<ResolverKind>,
    // An attribute, not a doc comment, like HOST's help: `[::1]` would be a rustdoc link.
    #[arg(
        long,
        value_name = "IP[:PORT]",
        value_parser = args::dns_server,
        help = "With --resolver hickory: ask this name server instead of those of \
                /etc/resolv.conf (an IP address; port 53 unless given: 127.0.0.1, \
                127.0.0.1:5353, [::1]:5353)"
    )]
    dns_server: Option<SocketAddr>,
    /// Connection Attempt Delay (RFC 8305 §5; default 250ms, from 10ms to 2s). A duration
    /// is a whole number with a unit (250ms, 5s, 2m); a bare number is milliseconds.
    #[arg(long, value_name = "DURATION", value_parser = args::delay, allow_negative_numbers = true)]
    attempt_delay: Option<args::Delay>,
    /// How the Connection Attempt Delay after each start is chosen (HEv3 §6): fixed (the
    /// default: --attempt-delay, or a path's retransmission timeout when history knows it),
    /// rtt (each path's retransmission timeout from round-trip history), or BASE*FACTOR
    /// (BASE, then BASE×FACTOR, ...: 50ms*2 gives 50ms, 100ms, 200ms, ...; BASE from 10ms to
    /// 2s, FACTOR from 1 to 100; quote the * in a shell, or write 50msx2). The timeline
    /// names it, and each attempt's line shows the delay it got.
    #[arg(long, value_name = "fixed|rtt|BASE*FACTOR", value_parser = args::schedule)]
    delay_schedule: Option<DelaySchedule>,
    /// How long TCP to an address waits after QUIC to the same address started (HEv3 §6,
    /// V29; default 50ms): a duration, like --attempt-delay, kept within 10ms and the
    /// attempt delay (as long as the attempt delay or longer: TCP waits the attempt delay).
    #[arg(long, value_name = "DURATION", value_parser = args::delay, allow_negative_numbers = true)]
    tcp_after_quic: Option<args::Delay>,
    /// Resolution Delay (RFC 8305 §3; default 50ms): a duration, like --attempt-delay.
    #[arg(long, value_name = "DURATION", value_parser = args::delay, allow_negative_numbers = true)]
    resolution_delay: Option<args::Delay>,
    /// Family to try first.
    #[arg(long, value_enum, conflicts_with = "only")]
    prefer: Option<Family>,
    /// Use only this family.
    #[arg(long, value_enum)]
    only: Option<Family>,
    /// First Address Family Count (RFC 8305 §4; default 1, at least 1).
    #[arg(long, value_name = "N")]
    family_count: Option<usize>,
    /// Overall deadline of each race, from 1ms to 60m: a duration, like --attempt-delay.
    /// There is always one, so the command always ends.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = args::timeout,
        allow_negative_numbers = true,
        default_value = args::DEFAULT_TIMEOUT
    )]
    timeout: args::Delay,
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
    /// The timeline with more detail: each query as it is sent, each race's id, and the
    /// library's other events. RUST_LOG (say RUST_LOG=eyeballs=debug,hickory=debug) logs
    /// to stderr besides.
    #[arg(short, long)]
    verbose: bool,
    /// Happy Eyeballs v3: asks the host's HTTPS records (through hickory) and races TCP+TLS
    /// and, except on blocking, QUIC; an attempt counts once its handshake is done.
    /// Certificates are always checked, against what this system trusts (and --ca).
    #[arg(long)]
    tls: bool,
    /// With --tls: the ALPN ids to offer, best first, separated by commas; h3 runs over QUIC
    /// (not on blocking), the others over TCP.
    #[arg(long, value_name = "IDS", requires = "tls", default_value = tls::DEFAULT_ALPN)]
    alpn: String,
    /// With --tls: a PEM file of CA certificates to trust besides those this system trusts
    /// (a private or test CA), at most 1 MiB.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca: Option<PathBuf>,
    /// With --tls: alternative services of HOST, as an Alt-Svc header field value (RFC
    /// 7838): h3=":8443"; ma=3600 (another port of HOST) or h3="alt.example:443", h2=":443"
    /// (commas separate alternatives; the flag repeats; at most 8 are raced). Each is raced
    /// as a group of its own, its host resolved with its own queries, over QUIC for h3; its
    /// certificate is checked against HOST.
    #[arg(long = "alt-svc", value_name = "VALUE", value_parser = args::alt_svc, requires = "tls")]
    alt_svc: Vec<AltSvcValue>,
    /// With --tls: says the DNS is protected (a DNSSEC-validating resolver, or DNS over TLS,
    /// HTTPS or QUIC), so a failed HTTPS query (SERVFAIL, timeout) ends the connect instead
    /// of falling back to the addresses alone (HEv3 §6.3, RFC 9460 §3.1; NXDOMAIN and no
    /// records are answers, not failures). The command cannot check it: say it only of a
    /// resolver you know is protected.
    #[arg(long, requires = "tls")]
    protected_dns: bool,
    /// Connects through a proxy (HEv3 V60): http://HOST:PORT (HTTP CONNECT) or
    /// socks5://HOST:PORT, with USER:PASSWORD@ before HOST for a proxy that wants them. The race runs over the proxy's addresses, and the proxy resolves
    /// the target's HOST, so the command asks DNS nothing about it. Only TCP goes through a
    /// proxy: --tls races no QUIC, and --alt-svc cannot be used with it.
    #[arg(long, value_name = "URL", value_parser = args::proxy, conflicts_with = "alt_svc")]
    proxy: Option<Proxy>,
    /// With --proxy and --tls: asks for HOST's HTTPS record too, of which only the ALPN ids
    /// and ECH apply (off by default: a proxy is often there so that nothing is looked up
    /// here).
    #[arg(long, requires_all = ["proxy", "tls"])]
    proxy_origin_https: bool,
}

impl ConnectArgs {
    /// The proxy of --proxy, asking for HOST's HTTPS record with --proxy-origin-https.
    fn proxy(&self) -> Option<Proxy> {
        let proxy = self.proxy.clone()?;
        Some(proxy.origin_https(self.proxy_origin_https))
    }

    /// The resolver asked for, or the default: hickory with --tls (HEv3 needs HTTPS
    /// records), the system's otherwise.
    fn resolver(&self) -> ResolverKind {
        match (self.resolver, self.tls) {
            (Some(kind), _) => kind,
            (None, true) => ResolverKind::Hickory,
            (None, false) => ResolverKind::System,
        }
    }
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
            Ok(rt) => rt.block_on(demo::run()),
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
    answers: &timeline::Answers,
    with_name_servers: fn(&[SocketAddr]) -> std::io::Result<R>,
    from_system_conf: fn() -> std::io::Result<R>,
) -> Result<timeline::Watched<R>, ExitCode> {
    match args.dns_server {
        Some(server) => with_name_servers(&[server]),
        None => from_system_conf(),
    }
    .map(|r| timeline::Watched::new(r, answers.clone()))
    .map_err(|e| usage(format!("--resolver hickory: {e}")))
}

/// One connector on the runtime the user chose, with its TLS racing under --tls; every
/// runtime prints the same report.
enum Runner {
    Tokio(TokioRunner),
    AsyncStd(
        eyeballs_async_std::Connector,
        Option<eyeballs_async_std::Tls>,
    ),
    Smol(
        eyeballs_async_std::Connector,
        Option<eyeballs_async_std::Tls>,
    ),
    Blocking(eyeballs_blocking::Connector, Option<Tls>),
}

/// The tokio connector, its TLS (QUIC sockets live on the runtime) and the runtime, dropped
/// in that order.
struct TokioRunner {
    connector: eyeballs_tokio::Connector,
    tls: Option<eyeballs_tokio::Tls>,
    rt: tokio::runtime::Runtime,
}

/// What a won race tells beyond its report: the ALPN id its TLS or QUIC handshake chose
/// (`None` for plain TCP, or a TLS server that chose none).
struct Won {
    alpn: Option<Alpn>,
    transport: Transport,
}

impl Runner {
    fn new(args: &ConnectArgs, answers: &timeline::Answers) -> Result<Runner, ExitCode> {
        if args.dns_server.is_some() && args.resolver() != ResolverKind::Hickory {
            return Err(usage(
                "--dns-server needs --resolver hickory (the system resolver asks the servers of \
                 /etc/resolv.conf)",
            ));
        }
        if let (Some(DelaySchedule::Multiplier { .. }), Some(delay)) =
            (args.delay_schedule, &args.attempt_delay)
        {
            return Err(usage(format!(
                "--attempt-delay {delay} does nothing with --delay-schedule BASE*FACTOR, whose \
                 BASE is the first delay; leave one out"
            )));
        }
        let alpn = tls_flags(args)?;
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
                let mut builder = Connector::builder().config(config).proxy(args.proxy());
                if args.resolver() == ResolverKind::Hickory {
                    builder = builder.resolver(hickory(
                        args,
                        answers,
                        HickoryResolver::with_name_servers,
                        HickoryResolver::from_system_conf,
                    )?);
                }
                let connector = builder.build().map_err(built)?;
                let tls = match &alpn {
                    Some((roots, ids)) => Some(tls_for(args, roots, ids)?),
                    None => None,
                };
                Runner::Tokio(TokioRunner {
                    connector,
                    tls,
                    rt: tokio_runtime()?,
                })
            }
            Runtime::AsyncStd | Runtime::Smol => {
                use eyeballs_async_std::HickoryResolver;
                let mut builder = eyeballs_async_std::Connector::builder()
                    .config(config)
                    .proxy(args.proxy());
                if args.resolver() == ResolverKind::Hickory {
                    builder = builder.resolver(hickory(
                        args,
                        answers,
                        HickoryResolver::with_name_servers,
                        HickoryResolver::from_system_conf,
                    )?);
                }
                let connector = builder.build().map_err(built)?;
                let tls = match &alpn {
                    Some((roots, ids)) => Some(tls_for(args, roots, ids)?),
                    None => None,
                };
                if args.runtime == Runtime::Smol {
                    Runner::Smol(connector, tls)
                } else {
                    Runner::AsyncStd(connector, tls)
                }
            }
            Runtime::Blocking => {
                use eyeballs_blocking::HickoryResolver;
                let mut builder = eyeballs_blocking::Connector::builder()
                    .config(config)
                    .proxy(args.proxy());
                if args.resolver() == ResolverKind::Hickory {
                    builder = builder.resolver(hickory(
                        args,
                        answers,
                        HickoryResolver::with_name_servers,
                        HickoryResolver::from_system_conf,
                    )?);
                }
                let connector = builder.build().map_err(built)?;
                let tls = match &alpn {
                    Some((roots, ids)) => Some(tls_for(args, roots, ids)?),
                    None => None,
                };
                Runner::Blocking(connector, tls)
            }
        };
        Ok(runner)
    }

    /// Gives the connector the alternative services of `target` (HEv3 V59): its TLS races
    /// then race them.
    fn set_alt_svc(&self, target: &HostPort, alts: Vec<AltService>) {
        let Host::Name(host) = target.host() else {
            return;
        };
        let port = target.port();
        match self {
            Runner::Tokio(t) => t.connector.set_alt_svc(host, port, alts),
            Runner::AsyncStd(c, _) | Runner::Smol(c, _) => c.set_alt_svc(host, port, alts),
            Runner::Blocking(c, _) => c.set_alt_svc(host, port, alts),
        }
    }

    /// Runs one race; the connection, if any, is closed at once.
    fn race(&self, target: &HostPort) -> (Result<Won, std::io::Error>, Option<Report>) {
        fn done<S>(
            r: (std::io::Result<S>, Option<Report>),
        ) -> (std::io::Result<Won>, Option<Report>) {
            let won = |_| Won {
                alpn: None,
                transport: Transport::Tcp,
            };
            (r.0.map(won), r.1)
        }
        fn tls<S>(
            r: (std::io::Result<eyeballs_net::Connection<S>>, Option<Report>),
        ) -> (std::io::Result<Won>, Option<Report>) {
            let won = |c: eyeballs_net::Connection<S>| Won {
                alpn: c.alpn().cloned(),
                transport: c.transport(),
            };
            (r.0.map(won), r.1)
        }
        match self {
            Runner::Tokio(t) => match &t.tls {
                Some(config) => tls(t
                    .rt
                    .block_on(t.connector.connect_tls_with_report(target, config))),
                None => done(t.rt.block_on(t.connector.connect_with_report(target))),
            },
            Runner::AsyncStd(c, Some(config)) => tls(async_std::task::block_on(
                c.connect_tls_with_report(target, config),
            )),
            Runner::AsyncStd(c, None) => {
                done(async_std::task::block_on(c.connect_with_report(target)))
            }
            Runner::Smol(c, Some(config)) => {
                tls(smol::block_on(c.connect_tls_with_report(target, config)))
            }
            Runner::Smol(c, None) => done(smol::block_on(c.connect_with_report(target))),
            Runner::Blocking(c, Some(config)) => tls(c.connect_tls_with_report(target, config)),
            Runner::Blocking(c, None) => done(c.connect_with_report(target)),
        }
    }
}

/// What --tls races with: the extra roots of --ca (none without it) and the ALPN ids.
type TlsFlags = (Vec<CertificateDer<'static>>, Vec<Alpn>);

/// Checks --tls with the other flags, and reads --alpn and --ca: `None` without --tls.
fn tls_flags(args: &ConnectArgs) -> Result<Option<TlsFlags>, ExitCode> {
    if !args.tls {
        return Ok(None);
    }
    if args.resolver == Some(ResolverKind::System) {
        return Err(usage(
            "--tls --resolver system: Happy Eyeballs v3 needs the host's HTTPS records, and \
             getaddrinfo cannot ask for them; leave --resolver out (--tls uses hickory)",
        ));
    }
    let ids = tls::parse_alpn(&args.alpn).map_err(usage)?;
    let roots = match &args.ca {
        Some(ca) => tls::roots(ca).map_err(usage)?,
        None => Vec::new(),
    };
    Ok(Some((roots, ids)))
}

/// The `Tls` for --alpn and --ca; warns about ids this runtime cannot offer.
fn tls_for(
    args: &ConnectArgs,
    roots: &[CertificateDer<'static>],
    ids: &[Alpn],
) -> Result<Tls, ExitCode> {
    let config = tls::client_config(roots.to_vec(), ids).map_err(|e| {
        // Not a usage problem: this machine has no trust store to read.
        eprintln!("eyeballs: {e}");
        ExitCode::FAILURE
    })?;
    // QUIC runs where the runtime runs quinn: tokio, smol, async-std.
    let quic = args.runtime != Runtime::Blocking;
    let config = match quic {
        true => config,
        false => {
            let mut tcp = rustls::ClientConfig::clone(&config);
            tcp.alpn_protocols.retain(|id| !id.starts_with(b"h3"));
            std::sync::Arc::new(tcp)
        }
    };
    let tls = Tls::new(config).map_err(|e| match e {
        TlsConfigError::NoAlpn => usage(format!(
            "--alpn {}: nothing to offer here: QUIC ids (h3) need --runtime tokio, smol or \
             async-std; add a TCP id (h2, http/1.1)",
            args.alpn
        )),
        other => usage(format!("--alpn {}: {other}", args.alpn)),
    })?;
    let offered = tls.protocols();
    let left: Vec<String> = ids
        .iter()
        .filter(|id| {
            !offered.alpn(Transport::Tcp).contains(id)
                && !offered.alpn(Transport::Quic).contains(id)
        })
        .map(ToString::to_string)
        .collect();
    // Only ids the user named: the default's h3 is left out on blocking without a word.
    if !left.is_empty() && args.alpn != tls::DEFAULT_ALPN {
        eprintln!(
            "eyeballs: warning: --alpn {}: {} not offered: they run over QUIC, which \
             --runtime blocking does not have",
            args.alpn,
            left.join(",")
        );
    }
    Ok(tls)
}

fn connect(args: &ConnectArgs) -> ExitCode {
    let target = match target(args) {
        Ok(t) => t,
        Err(code) => return code,
    };
    warn_about_delays(args);
    let alts = match alternatives(args, &target) {
        Ok(alts) => alts,
        Err(code) => return code,
    };
    let answers = trace(args);
    let runner = match Runner::new(args, &answers) {
        Ok(r) => r,
        Err(code) => return code,
    };
    runner.set_alt_svc(&target, alts);
    let schedule = schedule::Schedule::new(
        args.delay_schedule,
        args.attempt_delay.as_ref().map(args::Delay::value),
    );
    let host = host_text(&target);
    if !args.json {
        println!("{}", schedule.line());
        // V60: the timeline's addresses are the proxy's; say so before it starts.
        if let Some(proxy) = args.proxy() {
            println!(
                "through {} proxy {proxy}: the race runs over the proxy's addresses, the proxy resolves {host}",
                proxy.kind()
            );
        }
    }
    let mut failed = false;
    for i in 0..args.repeat {
        if args.repeat > 1 && !args.json {
            println!("race {} of {}", i + 1, args.repeat);
        }
        let (result, report) = runner.race(&target);
        let Some(report) = report else {
            // Only a race that could not start (an unknown IPv6 zone) has no report.
            let error = result.err().map_or_else(String::new, |e| e.to_string());
            return usage(format!("{target}: {error}"));
        };
        failed |= result.is_err();
        let won = result.as_ref().ok();
        if args.json {
            let alpn = won.and_then(|w| w.alpn.as_ref());
            println!(
                "{}",
                json::race(&host, target.port(), &report, alpn, &schedule)
            );
        } else {
            // The timeline's lines came as they happened; the report's last line ends it.
            let text = report.to_string();
            println!("{}", text.lines().last().unwrap_or_default());
            if let (true, Some(won)) = (args.tls, won) {
                println!("{}", negotiated(won));
            }
        }
        if let Err(e) = &result {
            eprintln!("eyeballs: {}", failure::message(&target, e, &report, args));
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Installs the tracing subscriber: the timeline as it happens on stdout (not with
/// --json, whose stdout is one object per race), and with RUST_LOG set, tracing's own
/// lines on stderr filtered by it. Returns where the timeline finds HTTPS answers.
fn trace(args: &ConnectArgs) -> timeline::Answers {
    use tracing_subscriber::filter::{EnvFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let answers = timeline::Answers::default();
    let timeline = (!args.json).then(|| {
        timeline::Timeline::new(args.verbose, answers.clone())
            .with_filter(Targets::new().with_target("eyeballs", tracing::Level::DEBUG))
    });
    let log = std::env::var_os("RUST_LOG").map(|_| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(EnvFilter::from_default_env())
    });
    // Only `main` installs one; should another exist, the timeline is what goes missing.
    let _ = tracing_subscriber::registry()
        .with(timeline)
        .with(log)
        .try_init();
    answers
}

/// The timeline's last line under --tls: what the winner's handshake chose.
fn negotiated(won: &Won) -> String {
    let how = match won.transport {
        Transport::Quic => "QUIC",
        _ => "TCP+TLS",
    };
    match &won.alpn {
        Some(alpn) => format!("{:>10}  {how}: the server chose ALPN {alpn}", ""),
        None => format!("{:>10}  {how}: the server chose no ALPN id", ""),
    }
}

/// The prefix `--nat64` names, or the one the runtime's system resolver discovers.
fn nat64_prefix(arg: &str, runtime: Runtime) -> Result<Nat64Prefix, ExitCode> {
    if arg != "auto" {
        let forms = "write auto, or PREFIX/LEN like 64:ff9b::/96";
        let refuse = |why: String| usage(format!("--nat64 {arg}: {why}; {forms}"));
        let (addr, len) = arg
            .split_once('/')
            .ok_or_else(|| refuse("no prefix length".to_owned()))?;
        let addr = addr
            .parse()
            .map_err(|_| refuse(format!("{addr:?} is not an IPv6 address")))?;
        let len = len
            .parse()
            .map_err(|_| refuse(format!("{len:?} is not a prefix length")))?;
        return Nat64Prefix::new(addr, len).map_err(|e| refuse(e.to_string()));
    }
    let found = match runtime {
        Runtime::Tokio => tokio_runtime()?.block_on(eyeballs_tokio::discover_nat64(
            &eyeballs_tokio::SystemResolver,
        )),
        Runtime::AsyncStd | Runtime::Smol => smol::block_on(eyeballs_async_std::discover_nat64(
            &eyeballs_async_std::SystemResolver,
        )),
        Runtime::Blocking => {
            eyeballs_blocking::discover_nat64_blocking(&eyeballs_blocking::SystemResolver)
        }
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

/// The alternatives of every --alt-svc, in order, expiring after their `ma` from now;
/// refused for an IP address (alternatives are an origin's, a name's).
fn alternatives(args: &ConnectArgs, target: &HostPort) -> Result<Vec<AltService>, ExitCode> {
    if args.alt_svc.is_empty() {
        return Ok(Vec::new());
    }
    if !matches!(target.host(), Host::Name(_)) {
        return Err(usage(format!(
            "--alt-svc: {target} is an IP address, and alternative services are a host \
             name's (RFC 7838); give HOST as a name, like www.example.test"
        )));
    }
    let now = std::time::Instant::now();
    let alts: Vec<AltService> = args.alt_svc.iter().flat_map(|v| v.services(now)).collect();
    if alts.len() > MAX_ALT_SERVICES {
        eprintln!(
            "eyeballs: warning: --alt-svc: {} alternatives given; the first {MAX_ALT_SERVICES} \
             are raced",
            alts.len()
        );
    }
    Ok(alts)
}

/// The host and port from `HOST PORT`, `HOST:PORT` or `[IPV6]:PORT`.
fn target(args: &ConnectArgs) -> Result<HostPort, ExitCode> {
    target::parse(&args.target, args.port).map_err(usage)
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
    let Some(delay) = &args.attempt_delay else {
        return;
    };
    let floor = ATTEMPT_START_FLOOR.as_millis();
    let max_s = MAX_CONNECTION_ATTEMPT_DELAY.as_secs_f64();
    if delay.value() < ATTEMPT_START_FLOOR {
        eprintln!(
            "eyeballs: warning: --attempt-delay {delay} is below the RFC 8305 floor of {floor} \
             ms; using {floor} ms"
        );
    } else if delay.value() > MAX_CONNECTION_ATTEMPT_DELAY {
        eprintln!(
            "eyeballs: warning: --attempt-delay {delay} is above the {max_s} s maximum (RFC \
             8305 §5); using {max_s} s"
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

fn configure(args: &ConnectArgs) -> Config {
    let mut c = Config::default();
    if let Some(d) = &args.attempt_delay {
        c = c.connection_attempt_delay(d.value());
    }
    if let Some(d) = &args.resolution_delay {
        c = c.resolution_delay(d.value());
    }
    if let Some(s) = args.delay_schedule {
        c = c.delay_schedule(s);
    }
    if let Some(d) = &args.tcp_after_quic {
        c = c.tcp_after_quic_delay(d.value());
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
    c.protected_dns(args.protected_dns)
        .timeout(Some(args.timeout.value()))
}
