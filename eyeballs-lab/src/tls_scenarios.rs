//! One list of TLS scenarios (feature `tls`), written once and run against every driver
//! that races TLS (tokio, async-std, smol, blocking), with real sockets on loopback: an
//! attempt counts when its TLS handshake is done (HEv3 §6.1), a stalled handshake loses
//! (V33) or, when every handshake stalls, fails in bounded time naming the endpoints,
//! certificate and ALPN failures are typed errors per endpoint, an HTTPS record's port and
//! ALPN ids are raced, and a connect dropped at any stage (DNS, TCP, TLS) leaves nothing
//! open.
//!
//! Each driver's test suite implements [`TlsDriver`] in a few lines and calls [`run_all`]
//! from a test binary with a single test (the descriptor checks need the process to
//! themselves).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use eyeballs_core::{
    Alpn, AttemptStatus, Config, Failure, FailureReason, QueryKind, Report, ServiceRecord,
    Transport,
};
use eyeballs_net::{AttemptError, AttemptErrorKind, Resolve, Resolving, StaticResolver};
use rustls::ClientConfig;

use crate::loopback::{open_fds, Behaviour, Lab, V4, V6};
use crate::tls::{same_port, TestCa, TlsServe, TlsServer};

/// The name every scenario connects to; the test certificates are for it.
pub const NAME: &str = "tls.eyeballs.test";

/// What a driver builds a TLS connector with, for one scenario.
#[derive(Debug)]
pub struct TlsSetup {
    /// The resolver (answers HTTPS queries when it has records).
    pub resolver: TlsResolver,
    /// The race configuration.
    pub config: Config,
    /// The rustls client config (its ALPN ids are what the race offers).
    pub client: ClientConfig,
    /// The connector's handshake timeout.
    pub handshake_timeout: Duration,
    /// The proxy every connect goes through (HEv3 V60), or `None`.
    pub proxy: Option<eyeballs_net::Proxy>,
}

/// A scenario's resolver: a static map, one whose HTTPS answers are late, or one that never
/// answers (a hung DNS server).
#[derive(Debug, Clone)]
pub enum TlsResolver {
    /// Answers at once.
    Static(StaticResolver),
    /// Answers addresses at once and HTTPS records this much later; just before the records
    /// go out it calls the observer (a scenario's look at its servers at that moment).
    LateHttps(StaticResolver, Duration, Observer),
    /// Never answers.
    Hung,
}

/// What a [`TlsResolver::LateHttps`] calls when its records go out.
#[derive(Clone)]
pub struct Observer(pub std::sync::Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

/// A future that is ready `delay` after its first poll, on any executor: a thread sleeps
/// and wakes it (the test's DNS latency, not a stand-in for a condition).
fn after(delay: Duration) -> impl std::future::Future<Output = ()> + Send {
    use std::sync::{Arc, Mutex};
    use std::task::{Poll, Waker};
    #[derive(Default)]
    struct State {
        started: bool,
        done: bool,
        waker: Option<Waker>,
    }
    let state = Arc::new(Mutex::new(State::default()));
    std::future::poll_fn(move |cx| {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        if s.done {
            return Poll::Ready(());
        }
        s.waker = Some(cx.waker().clone());
        if !s.started {
            s.started = true;
            let state = state.clone();
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
                s.done = true;
                if let Some(w) = s.waker.take() {
                    w.wake();
                }
            });
        }
        Poll::Pending
    })
}

impl Resolve for TlsResolver {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        match self {
            TlsResolver::Static(r) | TlsResolver::LateHttps(r, ..) => r.resolve(name, kind),
            TlsResolver::Hung => Box::pin(std::future::pending()),
        }
    }

    fn resolve_https(&self, name: &str) -> eyeballs_net::ResolvingServices {
        match self {
            TlsResolver::Static(r) => r.resolve_https(name),
            TlsResolver::LateHttps(r, delay, observer) => {
                let records = r.lookup_https(name);
                let (delay, observer) = (*delay, observer.clone());
                Box::pin(async move {
                    after(delay).await;
                    (observer.0)();
                    Ok(records)
                })
            }
            TlsResolver::Hung => Box::pin(std::future::pending()),
        }
    }

    fn answers_https(&self) -> bool {
        match self {
            TlsResolver::Static(r) | TlsResolver::LateHttps(r, ..) => r.answers_https(),
            TlsResolver::Hung => true,
        }
    }
}

/// What a won TLS connect tells a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Won {
    /// The winning endpoint's address.
    pub peer: SocketAddr,
    /// Its transport.
    pub transport: Transport,
    /// The ALPN id the server chose.
    pub alpn: Option<Alpn>,
    /// The ALPN ids the endpoint offered.
    pub offered: Vec<Alpn>,
    /// Whether `ping` written on the connection came back (the servers echo).
    pub echoed: bool,
}

/// What a TLS connect returns to a scenario.
pub type TlsOutcome = (io::Result<Won>, Option<Report>);

/// A TLS connector of the driver under test, built for one scenario.
pub trait TlsConnect {
    /// Connects to `target` over TLS, writes `ping` and reads it back, closes.
    fn connect(&self, target: &str) -> TlsOutcome;

    /// Starts a TLS connect to `target` and gives up after `after` (an async driver drops
    /// the future; the blocking driver connects with that timeout); returns whether it was
    /// still running then.
    fn abandon(&self, target: &str, after: Duration) -> bool;
}

/// The driver under test.
pub trait TlsDriver {
    /// Its name, for messages.
    fn name(&self) -> &'static str;

    /// Builds a TLS connector with this setup (history off).
    fn connector(&self, setup: TlsSetup) -> Box<dyn TlsConnect>;
}

/// One scenario: panics when the driver does not behave.
pub type Scenario = fn(&dyn TlsDriver, &TestCa);

/// Runs every scenario against `driver`, one after another.
///
/// # Panics
///
/// On the first scenario that does not hold, naming the driver and the scenario.
pub fn run_all(driver: &dyn TlsDriver) {
    let ca = TestCa::new();
    let scenarios: [(&str, Scenario); 14] = [
        ("healthy", healthy),
        ("stalled on IPv6", stalled_ipv6_loses),
        ("every handshake stalls", every_handshake_stalls),
        ("another CA", another_ca),
        ("no ALPN in common", no_alpn_in_common),
        ("HTTPS record", https_record_port_and_alpn),
        ("an IP literal", ip_literal),
        ("port 0", port_zero),
        ("ClientHello held for the HTTPS answer", client_hello_held),
        ("dropped at every stage", dropped_at_every_stage),
        (
            "TLS through proxies",
            crate::proxy_scenarios::tls_through_proxies,
        ),
        (
            "a stalling proxy",
            crate::proxy_scenarios::tls_stalling_proxy,
        ),
        (
            "the host's HTTPS record through a proxy",
            crate::proxy_scenarios::tls_proxy_origin_https,
        ),
        (
            "ClientHello held through a proxy's tunnel",
            crate::proxy_scenarios::tls_proxy_client_hello_held,
        ),
    ];
    for (name, scenario) in scenarios {
        let started = Instant::now();
        scenario(driver, &ca);
        eprintln!("{}: {name}: ok ({:?})", driver.name(), started.elapsed());
    }
}

/// TLS servers on `[::1]:port` and `127.0.0.1:port`, certificates for [`NAME`] and both
/// loopback addresses, accepting `alpn`.
fn servers(ca: &TestCa, v6: TlsServe, v4: TlsServe, alpn: &[&str]) -> (u16, TlsServer, TlsServer) {
    let (port, mut listeners, _) = same_port(&[V6, V4], &[]).expect("a port on both families");
    let config = || ca.server_config(&[NAME, "::1", "127.0.0.1"], alpn);
    let v4_listener = listeners.pop().expect("two listeners");
    let v6_listener = listeners.pop().expect("two listeners");
    let v4 = TlsServer::start(v4_listener, config(), v4).expect("a TLS server");
    let v6 = TlsServer::start(v6_listener, config(), v6).expect("a TLS server");
    (port, v6, v4)
}

fn setup(ca: &TestCa, resolver: TlsResolver, alpn: &[&str]) -> TlsSetup {
    TlsSetup {
        resolver,
        config: Config::default(),
        client: ca.client_config(alpn),
        handshake_timeout: Duration::from_secs(10),
        proxy: None,
    }
}

fn both() -> TlsResolver {
    TlsResolver::Static(StaticResolver::new().host(NAME, [V6, V4]))
}

fn report(outcome: &TlsOutcome) -> &Report {
    outcome
        .1
        .as_ref()
        .unwrap_or_else(|| panic!("no report: {:?}", outcome.0))
}

fn won<'o>(driver: &dyn TlsDriver, outcome: &'o TlsOutcome) -> &'o Won {
    match &outcome.0 {
        Ok(won) => won,
        Err(e) => panic!("{}: failed: {e}\n{:?}", driver.name(), outcome.1),
    }
}

/// The typed attempt errors inside a failed connect, in attempt order; each names its
/// endpoint.
fn attempt_errors(
    driver: &dyn TlsDriver,
    outcome: &TlsOutcome,
) -> Vec<(SocketAddr, AttemptErrorKind)> {
    let Err(err) = &outcome.0 else {
        panic!("{}: connected: {:?}", driver.name(), outcome.0)
    };
    let failure = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
        .unwrap_or_else(|| panic!("{}: not a race failure: {err}", driver.name()));
    failure
        .attempts()
        .iter()
        .map(|a| {
            let error = a.error.as_ref().expect("the attempt ended with an error");
            let e = AttemptError::of(error).unwrap_or_else(|| panic!("untyped: {error}"));
            assert_eq!(e.endpoint(), &a.endpoint, "the error names its endpoint");
            (a.endpoint.addr(), e.kind())
        })
        .collect()
}

/// Waits (at most 5 s, polling every 10 ms) for `done`; returns whether it came.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Both families serve TLS: IPv6 wins once its handshake is done, offering every TCP id
/// of the caller (V39), with the id the server chose; the connection works; TCP up was
/// progress before TLS.
pub fn healthy(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, v6, _v4) = servers(ca, TlsServe::Echo, TlsServe::Echo, &["http/1.1", "h2"]);
    let c = driver.connector(setup(ca, both(), &["h2", "http/1.1"]));
    let out = c.connect(&format!("{NAME}:{port}"));
    let w = won(driver, &out);
    let r = report(&out);
    assert_eq!(w.peer, SocketAddr::new(V6, port), "{r}");
    assert_eq!(w.transport, Transport::Tcp);
    // A rustls server prefers its own order among the ids offered.
    assert_eq!(
        w.alpn.as_ref().map(Alpn::as_bytes),
        Some(&b"http/1.1"[..]),
        "{r}"
    );
    let offered: Vec<String> = w.offered.iter().map(ToString::to_string).collect();
    assert_eq!(offered, ["h2", "http/1.1"], "every TCP id offered");
    assert!(w.echoed, "the connection carries data");
    assert!(
        eventually(|| v6.sni() == [Some(NAME.to_owned())]),
        "SNI: {:?}",
        v6.sni()
    );
    let [only] = r.attempts() else {
        panic!("one attempt: {r}")
    };
    assert!(only.progressed.is_some(), "TCP up before TLS: {r}");
}

/// V34, V55, HG6, HG15, with ECH on: the HTTPS answer comes 200 ms late. After the
/// Resolution Delay TCP to IPv6 connects (the server accepts it) with its ClientHello held:
/// when the record goes out the server has accepted one connection and read no ClientHello.
/// The record releases the attempt, which then completes with the record's ALPN id (h2):
/// one attempt, reported as held, its progress before its release.
pub fn client_hello_held(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, v6, _v4) = servers(ca, TlsServe::Echo, TlsServe::Echo, &["h2", "http/1.1"]);
    let v6 = std::sync::Arc::new(v6);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let observer = {
        let (v6, seen) = (v6.clone(), seen.clone());
        Observer(std::sync::Arc::new(move || {
            *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some((v6.accepted(), v6.sni()));
        }))
    };
    let late = Duration::from_millis(200);
    let record = ServiceRecord::new(1, ".").alpn(["h2"]);
    let resolver = StaticResolver::new()
        .host(NAME, [V6, V4])
        .https(&format!("_{port}._https.{NAME}"), [record]);
    let mut s = setup(
        ca,
        TlsResolver::LateHttps(resolver, late, observer),
        &["http/1.1", "h2"],
    );
    s.config = Config::default().ech(true);
    let c = driver.connector(s);
    let out = c.connect(&format!("{NAME}:{port}"));
    let w = won(driver, &out);
    let r = report(&out);
    assert_eq!(w.peer, SocketAddr::new(V6, port), "{r}");
    assert_eq!(w.alpn.as_ref().map(Alpn::as_bytes), Some(&b"h2"[..]), "{r}");
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).take();
    assert_eq!(
        seen,
        Some((1, Vec::new())),
        "{}: at the HTTPS answer: TCP accepted, no ClientHello yet: {r}",
        driver.name()
    );
    assert!(
        eventually(|| v6.sni() == [Some(NAME.to_owned())]),
        "{}: the ClientHello after the release: {:?}",
        driver.name(),
        v6.sni()
    );
    let [only] = r.attempts() else {
        panic!("{}: one attempt: {r}", driver.name())
    };
    assert!(only.held, "{}: {r}", driver.name());
    let (progressed, released) = (only.progressed.expect("TCP up"), only.released);
    let released = released.unwrap_or_else(|| panic!("{}: released: {r}", driver.name()));
    assert!(
        progressed < released && released >= late,
        "{}: {r}",
        driver.name()
    );
}

/// IPv6 accepts TCP and never answers the ClientHello; IPv4 serves TLS. IPv6's TCP
/// progress pushes the next start to one attempt delay after it (V33); IPv4 wins, and
/// IPv6's connection is closed (the server sees it go).
pub fn stalled_ipv6_loses(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, v6, _v4) = servers(ca, TlsServe::Stall, TlsServe::Echo, &["h2"]);
    let c = driver.connector(setup(ca, both(), &["h2"]));
    let out = c.connect(&format!("{NAME}:{port}"));
    let w = won(driver, &out);
    let r = report(&out);
    assert_eq!(w.peer, SocketAddr::new(V4, port), "{r}");
    let [first, second] = r.attempts() else {
        panic!("two attempts: {r}")
    };
    assert_eq!(first.status, AttemptStatus::Cancelled, "{r}");
    let progressed = first.progressed.expect("IPv6's TCP was up");
    assert!(
        second.started >= progressed + Duration::from_millis(250),
        "V33: {r}"
    );
    assert!(second.started < Duration::from_secs(3), "{r}");
    assert!(
        eventually(|| v6.open() == 0),
        "the loser is closed: {} open",
        v6.open()
    );
}

/// Both families accept TCP and never answer: each handshake fails as stalled at the
/// handshake timeout, and the race ends in bounded time with a failure naming both
/// endpoints. Without the timeout this connect would never end.
pub fn every_handshake_stalls(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, v6, v4) = servers(ca, TlsServe::Stall, TlsServe::Stall, &["h2"]);
    let mut s = setup(ca, both(), &["h2"]);
    s.handshake_timeout = Duration::from_millis(300);
    let c = driver.connector(s);
    let started = Instant::now();
    let out = c.connect(&format!("{NAME}:{port}"));
    let elapsed = started.elapsed();
    let errors = attempt_errors(driver, &out);
    assert_eq!(
        errors,
        [
            (SocketAddr::new(V6, port), AttemptErrorKind::Stalled),
            (SocketAddr::new(V4, port), AttemptErrorKind::Stalled)
        ],
        "{:?}",
        out.1
    );
    let Err(err) = &out.0 else {
        unreachable!("failed above")
    };
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    let text = err.to_string();
    assert!(text.contains("handshake stalled"), "{text}");
    assert!(
        text.contains(&format!("[::1]:{port}")) && text.contains(&format!("127.0.0.1:{port}")),
        "{text}"
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "bounded: {elapsed:?}");
    assert!(
        eventually(|| v6.open() == 0 && v4.open() == 0),
        "stalled connections closed"
    );
    let reason = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
        .map(Failure::reason);
    assert_eq!(reason, Some(FailureReason::AllAttemptsFailed));
}

/// A server whose certificate another CA issued: each endpoint fails with a certificate
/// error naming it; no attempt counts.
pub fn another_ca(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, _v6, _v4) = servers(ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
    let other = TestCa::new();
    let c = driver.connector(setup(&other, both(), &["h2"]));
    let out = c.connect(&format!("{NAME}:{port}"));
    let kinds: Vec<AttemptErrorKind> = attempt_errors(driver, &out)
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        kinds,
        [AttemptErrorKind::Certificate, AttemptErrorKind::Certificate],
        "{:?}",
        out.1
    );
}

/// The server takes only `h2`, the client offers only `http/1.1`: no ALPN in common, a
/// typed error per endpoint.
pub fn no_alpn_in_common(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, _v6, _v4) = servers(ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
    let c = driver.connector(setup(ca, both(), &["http/1.1"]));
    let out = c.connect(&format!("{NAME}:{port}"));
    let kinds: Vec<AttemptErrorKind> = attempt_errors(driver, &out)
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert!(
        kinds.iter().all(|k| *k == AttemptErrorKind::Alpn),
        "{kinds:?} {:?}",
        out.1
    );
    assert_eq!(kinds.len(), 2);
}

/// Happy Eyeballs v3 (§4.1, V1, V38, V42): the host's HTTPS record points at another port
/// with `h2`; the race asks for it, and the record's endpoint wins on that port (the
/// target's own port has nothing listening).
pub fn https_record_port_and_alpn(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, _v6, _v4) = servers(ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a closed port")
        .port();
    let record = ServiceRecord::new(1, ".").alpn(["h2"]).port(port);
    let resolver = StaticResolver::new()
        .host(NAME, [V6, V4])
        .https(&format!("_{closed}._https.{NAME}"), [record]);
    let c = driver.connector(setup(
        ca,
        TlsResolver::Static(resolver),
        &["h2", "http/1.1"],
    ));
    let out = c.connect(&format!("{NAME}:{closed}"));
    let w = won(driver, &out);
    let r = report(&out);
    assert_eq!(w.peer, SocketAddr::new(V6, port), "the record's port: {r}");
    assert_eq!(w.alpn.as_ref().map(Alpn::as_bytes), Some(&b"h2"[..]), "{r}");
    let kinds: Vec<QueryKind> = r.queries().iter().map(|q| q.kind).collect();
    assert_eq!(
        kinds.first(),
        Some(&QueryKind::Https),
        "the HTTPS query goes first: {r}"
    );
}

/// An IP literal: no SNI, and the certificate is checked against the address.
pub fn ip_literal(driver: &dyn TlsDriver, ca: &TestCa) {
    let (port, v6, _v4) = servers(ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
    let c = driver.connector(setup(ca, both(), &["h2"]));
    let out = c.connect(&format!("[::1]:{port}"));
    let w = won(driver, &out);
    assert_eq!(w.peer, SocketAddr::new(V6, port));
    assert!(
        eventually(|| v6.sni() == [None]),
        "no SNI for an address: {:?}",
        v6.sni()
    );
}

/// A target with port 0: every endpoint fails with a typed error naming it, and no socket
/// is opened for it.
pub fn port_zero(driver: &dyn TlsDriver, ca: &TestCa) {
    let c = driver.connector(setup(ca, both(), &["h2"]));
    let out = c.connect(&format!("{NAME}:0"));
    let kinds: Vec<AttemptErrorKind> = attempt_errors(driver, &out)
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        kinds,
        [AttemptErrorKind::Port, AttemptErrorKind::Port],
        "{:?}",
        out.1
    );
}

/// A connect given up while its DNS is pending, while its TCP connects hang, and while its
/// TLS handshakes stall leaves no descriptor open, and the servers see every connection
/// closed.
pub fn dropped_at_every_stage(driver: &dyn TlsDriver, ca: &TestCa) {
    let after = Duration::from_millis(150);
    let baseline = open_fds();
    // DNS pending.
    let c = driver.connector(setup(ca, TlsResolver::Hung, &["h2"]));
    assert!(
        c.abandon(&format!("{NAME}:443"), after),
        "DNS was still pending"
    );
    drop(c);
    assert!(
        eventually(|| open_fds() <= baseline),
        "DNS stage: {} open, {baseline} before",
        open_fds()
    );
    // TCP pending: both addresses hang (full accept queues).
    let lab = Lab::new(Behaviour::Hang, Behaviour::Hang);
    let with_lab = open_fds();
    let c = driver.connector(setup(ca, both(), &["h2"]));
    assert!(
        c.abandon(&format!("{NAME}:{}", lab.port), after),
        "TCP was still pending"
    );
    drop(c);
    assert!(
        eventually(|| open_fds() <= with_lab),
        "TCP stage: {} open, {with_lab} before",
        open_fds()
    );
    drop(lab);
    // TLS pending: both servers stall after TCP.
    let (port, v6, v4) = servers(ca, TlsServe::Stall, TlsServe::Stall, &["h2"]);
    let with_servers = open_fds();
    let c = driver.connector(setup(ca, both(), &["h2"]));
    assert!(
        c.abandon(&format!("{NAME}:{port}"), Duration::from_millis(400)),
        "TLS was still pending"
    );
    drop(c);
    assert!(
        v6.accepted() + v4.accepted() >= 1,
        "a handshake had started"
    );
    assert!(
        eventually(|| v6.open() == 0 && v4.open() == 0),
        "the servers saw every connection closed"
    );
    assert!(
        eventually(|| open_fds() <= with_servers),
        "TLS stage: {} open, {with_servers} before",
        open_fds()
    );
}
