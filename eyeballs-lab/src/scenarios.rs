//! One list of real-socket scenarios, written once and run against every driver (tokio,
//! async-std, smol, blocking), so behaviour cannot drift between runtimes.
//!
//! Each driver's test suite implements [`Driver`] in a few lines and calls [`run_all`] from
//! a test binary with a single test (the file descriptor checks need the process to
//! themselves). Assertions are on outcomes and the order of events; times only with wide
//! bounds.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use eyeballs_core::{AttemptStatus, Config, Failure, FailureReason, History, QueryKind, Report};
use eyeballs_net::{Proxy, SocketOptions, StaticResolver};

use crate::loopback::{open_fds, Behaviour, Lab, V4, V6};

/// What a connect returns to a scenario: the peer of the stream (the stream itself is
/// closed at once), and the report.
pub type Outcome = (io::Result<SocketAddr>, Option<Report>);

/// A connector of the driver under test, built for one scenario.
pub trait Connect {
    /// Connects to `target` and returns the peer address and the report.
    fn connect(&self, target: &str) -> Outcome;

    /// Starts a connect to `target` and gives up on it after `after` (dropping the future,
    /// for async drivers), returning whether it was still running then. A driver that
    /// cannot give up on a connect returns `None`.
    fn abandon(&self, target: &str, after: Duration) -> Option<bool>;

    /// Returns a copy of the connector's history, or `None` when it is off.
    fn history(&self) -> Option<History>;
}

/// What a scenario builds a connector with.
#[derive(Debug)]
pub struct Setup {
    /// The resolver.
    pub resolver: StaticResolver,
    /// The race configuration.
    pub config: Config,
    /// Every attempt's socket options.
    pub socket: SocketOptions,
    /// The history to start from, or `None` for history off.
    pub history: Option<History>,
    /// The proxy every connect goes through (HEv3 V60), or `None`.
    pub proxy: Option<Proxy>,
}

impl Setup {
    /// A resolver and a configuration, default socket options, history on or off.
    pub fn new(resolver: StaticResolver, config: Config, history: bool) -> Self {
        Setup {
            resolver,
            config,
            socket: SocketOptions::new(),
            history: history.then(History::new),
            proxy: None,
        }
    }
}

/// The driver under test.
pub trait Driver {
    /// Its name, for messages.
    fn name(&self) -> &'static str;

    /// Builds a connector with this setup.
    fn connector(&self, setup: Setup) -> Box<dyn Connect>;
}

const NAME: &str = "dual.eyeballs.test";

fn dual(driver: &dyn Driver, config: Config, history: bool) -> Box<dyn Connect> {
    let resolver = StaticResolver::new().host(NAME, [V6, V4]);
    driver.connector(Setup::new(resolver, config, history))
}

fn target(lab: &Lab) -> String {
    format!("{NAME}:{}", lab.port)
}

fn failure(e: &io::Error) -> &Failure<io::Error> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<Failure<io::Error>>())
        .unwrap_or_else(|| panic!("not a race failure: {e:?}"))
}

fn report(outcome: &Outcome) -> &Report {
    outcome
        .1
        .as_ref()
        .unwrap_or_else(|| panic!("no report: {:?}", outcome.0))
}

fn peer(outcome: &Outcome) -> SocketAddr {
    match &outcome.0 {
        Ok(peer) => *peer,
        Err(e) => panic!("connect failed: {e}\n{}", report(outcome)),
    }
}

/// One scenario: panics when the driver does not behave.
pub type Scenario = fn(&dyn Driver);

/// Runs every scenario against `driver`, one after another.
///
/// # Panics
///
/// On the first scenario that does not hold, naming the driver and the scenario.
pub fn run_all(driver: &dyn Driver) {
    let scenarios: [(&str, Scenario); 14] = [
        ("healthy", healthy),
        ("refused", refused),
        ("hanging", hanging),
        ("all failed", all_failed),
        ("deadline", deadline),
        ("literals", literals),
        ("unknown names", unknown_names),
        ("history", history),
        ("history per network", history_per_network),
        ("cleanup", cleanup),
        (
            "through proxies",
            crate::proxy_scenarios::tcp_through_proxies,
        ),
        (
            "a proxy whose IPv6 hangs",
            crate::proxy_scenarios::proxy_first_address_hangs,
        ),
        (
            "proxies that refuse",
            crate::proxy_scenarios::proxy_refusals,
        ),
        (
            "proxies that want credentials",
            crate::proxy_scenarios::proxy_credentials,
        ),
    ];
    for (name, scenario) in scenarios {
        let started = Instant::now();
        scenario(driver);
        eprintln!("{}: {name}: ok ({:?})", driver.name(), started.elapsed());
    }
}

/// A healthy dual-stack host: IPv6 goes first and wins; no second attempt starts.
pub fn healthy(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let out = dual(driver, Config::default(), false).connect(&target(&lab));
    assert_eq!(peer(&out), lab.addr(V6));
    let r = report(&out);
    assert_eq!(r.attempts().len(), 1, "{r}");
    assert_eq!(r.winner(), Some(lab.addr(V6)));
    let kinds: Vec<QueryKind> = r.queries().iter().map(|q| q.kind).collect();
    assert_eq!(
        kinds,
        vec![QueryKind::Aaaa, QueryKind::A],
        "two queries, AAAA first"
    );
}

/// IPv6 refused: the IPv4 attempt starts at once (G1), far sooner than the 250 ms delay.
pub fn refused(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    let out = dual(driver, Config::default(), false).connect(&target(&lab));
    assert_eq!(peer(&out), lab.addr(V4));
    let r = report(&out);
    let [v6, v4] = r.attempts() else {
        panic!("two attempts: {r}")
    };
    assert_eq!(v6.status, AttemptStatus::Failed, "{r}");
    assert!(v6.error.as_deref().unwrap_or("").contains("refused"), "{r}");
    assert_eq!(v4.status, AttemptStatus::Connected);
    assert!(
        v4.started < Duration::from_millis(200),
        "IPv4 waited for the timer:\n{r}"
    );
    assert!(
        Some(v4.started) >= v6.ended,
        "IPv4 started after IPv6 failed:\n{r}"
    );
}

/// IPv6 hangs (full accept queue): IPv4 starts after the attempt delay and wins; the IPv6
/// attempt is cancelled the moment IPv4 wins.
pub fn hanging(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let out = dual(driver, Config::default(), false).connect(&target(&lab));
    assert_eq!(peer(&out), lab.addr(V4));
    let r = report(&out);
    let [v6, v4] = r.attempts() else {
        panic!("two attempts: {r}")
    };
    assert_eq!(v6.status, AttemptStatus::Cancelled, "{r}");
    assert_eq!(v4.status, AttemptStatus::Connected);
    assert!(v4.started >= Duration::from_millis(250), "{r}");
    assert!(v4.started < Duration::from_secs(2), "{r}");
    assert_eq!(v6.ended, v4.ended, "cancelled the moment IPv4 won:\n{r}");
}

/// Everything refused: one error that names every address and keeps every error.
pub fn all_failed(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Refuse);
    let out = dual(driver, Config::default(), false).connect(&target(&lab));
    let Err(err) = &out.0 else {
        panic!("connected to a closed port")
    };
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    let f = failure(err);
    assert_eq!(f.reason(), FailureReason::AllAttemptsFailed);
    let addrs: Vec<SocketAddr> = f.attempts().iter().map(|a| a.endpoint.addr()).collect();
    assert_eq!(addrs, vec![lab.addr(V6), lab.addr(V4)]);
    let text = err.to_string();
    assert!(
        text.starts_with("all 2 connection attempts failed"),
        "{text}"
    );
    assert!(text.contains(&lab.addr(V6).to_string()), "{text}");
    assert!(text.contains(&lab.addr(V4).to_string()), "{text}");
}

/// The deadline: everything hangs; the connect fails with `TimedOut` near the deadline.
pub fn deadline(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let config = Config::default().timeout(Some(Duration::from_millis(600)));
    let started = Instant::now();
    let out = dual(driver, config, false).connect(&target(&lab));
    let took = started.elapsed();
    let Err(err) = &out.0 else {
        panic!("connected to hanging addresses")
    };
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let f = failure(err);
    assert!(
        matches!(f.reason(), FailureReason::TimedOut { in_flight: 2, .. }),
        "{err}"
    );
}

/// IP literals skip DNS, in both families, with or without a zone.
pub fn literals(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    // A resolver that knows nothing: a literal must not reach it.
    let c = driver.connector(Setup::new(StaticResolver::new(), Config::default(), false));
    for (target, want) in [
        (format!("127.0.0.1:{}", lab.port), lab.addr(V4)),
        (format!("[::1]:{}", lab.port), lab.addr(V6)),
        (format!("[::1%lo]:{}", lab.port), lab.addr(V6)),
    ] {
        let out = c.connect(&target);
        assert_eq!(peer(&out).ip(), want.ip(), "{target}");
        assert!(report(&out).queries().is_empty(), "{target} asked DNS");
    }
    let (result, _) = c.connect(&format!("[::1%no-such-if0]:{}", lab.port));
    let err = result.expect_err("an unknown zone");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("unknown IPv6 zone"), "{err}");
}

/// An unknown name gives the resolver's error; a malformed target is `InvalidInput`.
pub fn unknown_names(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Accept, Behaviour::Accept);
    let c = dual(driver, Config::default(), false);
    let (result, _) = c.connect(&format!("nowhere.eyeballs.test:{}", lab.port));
    let text = result.expect_err("an unknown name").to_string();
    assert!(
        text.starts_with("DNS failed") && text.contains("no such host"),
        "{text}"
    );
    let (result, report) = c.connect("no-port.eyeballs.test");
    let err = result.expect_err("no port");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("has no port"), "{err}");
    assert!(report.is_none());
}

/// History: after IPv6 hung once, the next connect to the same host starts with IPv4 and
/// needs no attempt delay.
pub fn history(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let c = dual(driver, Config::default(), true);
    let first = c.connect(&target(&lab));
    assert_eq!(peer(&first), lab.addr(V4));
    assert_eq!(report(&first).attempts().len(), 2);
    let second = c.connect(&target(&lab));
    assert_eq!(peer(&second), lab.addr(V4));
    let r = report(&second);
    assert_eq!(
        r.attempts()[0].endpoint.addr(),
        lab.addr(V4),
        "IPv4 first:\n{r}"
    );
    assert!(
        r.elapsed() < Duration::from_millis(200),
        "no attempt delay:\n{r}"
    );
}

/// R15, structurally: history never applies across networks. A name resolves to
/// 127.0.0.1, which hangs, and 127.0.0.5, which accepts. A connector whose sockets bind to
/// 127.0.0.2 learns that the first hangs, and its next race starts with the second. Its
/// history, handed to a connector bound to 127.0.0.3 (another source address: another
/// network, as far as a race can tell), changes nothing there: that race tries 127.0.0.1
/// first again and waits the attempt delay. Handed back to a connector on 127.0.0.2, it
/// applies again.
pub fn history_per_network(driver: &dyn Driver) {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let hang = lab.addr(V4);
    // The same port on another loopback address, accepting (the kernel completes the
    // handshake from the backlog; nothing needs to call accept).
    let ok_ip = std::net::IpAddr::from([127, 0, 0, 5]);
    let ok = std::net::TcpListener::bind((ok_ip, lab.port)).expect("listen on 127.0.0.5");
    let ok_addr = ok.local_addr().expect("its address");
    let on = |source: [u8; 4], history: History| {
        driver.connector(Setup {
            resolver: StaticResolver::new().host(NAME, [hang.ip(), ok_ip]),
            config: Config::default(),
            socket: SocketOptions::new().bind_v4(Some(SocketAddr::from((source, 0)))),
            history: Some(history),
            proxy: None,
        })
    };
    let first = |c: &dyn Connect| {
        let out = c.connect(&target(&lab));
        assert_eq!(peer(&out), ok_addr, "{}", report(&out));
        let r = report(&out).clone();
        (r.attempts()[0].endpoint.addr(), r)
    };
    let a = on([127, 0, 0, 2], History::new());
    let (tried, r) = first(&*a);
    assert_eq!(tried, hang, "no history yet:\n{r}");
    let (tried, r) = first(&*a);
    assert_eq!(tried, ok_addr, "learned:\n{r}");
    let learned = a.history().expect("history is on");
    let (tried, r) = first(&*on([127, 0, 0, 3], learned.clone()));
    assert_eq!(tried, hang, "another source address, no history:\n{r}");
    assert!(r.elapsed() >= Duration::from_millis(250), "{r}");
    let (tried, r) = first(&*on([127, 0, 0, 2], learned));
    assert_eq!(tried, ok_addr, "the first source again:\n{r}");
    drop(ok);
}

/// Nothing leaks: a connect abandoned mid-race, a race won over a hanging address, and a
/// timed-out race all leave the process with the file descriptors it had.
pub fn cleanup(driver: &dyn Driver) {
    let hang = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let mixed = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let c = dual(driver, Config::default(), false);
    let timed = dual(
        driver,
        Config::default().timeout(Some(Duration::from_millis(300))),
        false,
    );
    // Warm up whatever the driver opens once (a runtime's reactor, a thread pool).
    let _ = c.connect(&target(&mixed));
    let baseline = open_fds();
    if let Some(running) = c.abandon(&target(&hang), Duration::from_millis(400)) {
        assert!(running, "both addresses hang: the race was still running");
        assert_eq!(
            open_fds(),
            baseline,
            "abandoning a connect closed its sockets"
        );
    }
    let out = c.connect(&target(&mixed));
    assert_eq!(peer(&out), mixed.addr(V4));
    assert_eq!(
        open_fds(),
        baseline,
        "the loser was closed (and the winner, by the scenario)"
    );
    assert!(timed.connect(&target(&hang)).0.is_err());
    assert_eq!(open_fds(), baseline, "a timed-out race closed everything");
}
