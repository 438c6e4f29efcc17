//! TLS-aware racing on real sockets (feature `tls`; HEv3 §6.1, G2, V33, V39, V42): an
//! attempt counts when its TLS handshake is done, each endpoint offers its ALPN ids, bad
//! input is a typed error naming the endpoint, and nothing stays open.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_lab::loopback::{open_fds, V4, V6};
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer};
use eyeballs_tokio::{
    AttemptError, AttemptErrorKind, AttemptStatus, Config, Connector, EchConfig, Failure,
    ServiceRecord, StaticResolver, Tls, TlsConfigError, Transport,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NAME: &str = "tls.eyeballs.test";

/// The tests of this file count the process's descriptors: one at a time, each with a
/// runtime of its own that is made after the lock is taken and gone before it is released
/// (a runtime has descriptors too).
fn serial(test: impl std::future::Future<Output = ()>) {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test);
}

/// TLS servers on `[::1]:port` and `127.0.0.1:port`, each serving as told, with
/// certificates from `ca` for [`NAME`] and both loopback addresses.
fn servers(ca: &TestCa, v6: TlsServe, v4: TlsServe, alpn: &[&str]) -> (u16, TlsServer, TlsServer) {
    let (port, mut listeners, _) = same_port(&[V6, V4], &[]).unwrap();
    let config = || ca.server_config(&[NAME, "::1", "127.0.0.1"], alpn);
    let v4 = TlsServer::start(listeners.pop().unwrap(), config(), v4).unwrap();
    let v6 = TlsServer::start(listeners.pop().unwrap(), config(), v6).unwrap();
    (port, v6, v4)
}

fn connector(resolver: StaticResolver, config: Config) -> Connector {
    Connector::builder()
        .resolver(resolver)
        .config(config)
        .history(false)
        .build()
        .unwrap()
}

fn both() -> StaticResolver {
    StaticResolver::new().host(NAME, [V6, V4])
}

fn tls(ca: &TestCa, alpn: &[&str]) -> Tls {
    Tls::new(Arc::new(ca.client_config(alpn))).unwrap()
}

/// Waits (at most 5 s) for `done`, polling every 10 ms; returns whether it came.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// The attempt errors inside a failed connect, in attempt order.
fn attempt_errors(err: &std::io::Error) -> Vec<(SocketAddr, AttemptErrorKind)> {
    let failure = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
        .unwrap_or_else(|| panic!("a race failure: {err}"));
    failure
        .attempts()
        .iter()
        .map(|a| {
            let error = a.error.as_ref().expect("the attempt ended with an error");
            let e = AttemptError::of(error).unwrap_or_else(|| panic!("typed: {error}"));
            assert_eq!(e.endpoint(), &a.endpoint, "the error names its endpoint");
            (a.endpoint.addr(), e.kind())
        })
        .collect()
}

/// Both families serve TLS: IPv6 wins once its handshake is done, offering every TCP id
/// of the caller (V39); the stream works; the server saw the id it chose.
#[test]
fn tls_wins_with_the_alpn_the_server_chose() {
    serial(async {
        let ca = TestCa::new();
        let (port, v6, _v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo, &["http/1.1", "h2"]);
        let c = connector(both(), Config::default());
        let (conn, report) = c
            .connect_tls_with_report((NAME, port), &tls(&ca, &["h2", "http/1.1"]))
            .await;
        let conn = conn.unwrap();
        let report = report.unwrap();
        assert_eq!(
            conn.endpoint().addr(),
            SocketAddr::new(V6, port),
            "{report}"
        );
        assert_eq!(conn.transport(), Transport::Tcp);
        // The server prefers its own order among the ids offered (rustls servers do).
        assert_eq!(conn.alpn().unwrap().as_bytes(), b"http/1.1");
        let ids: Vec<String> = conn
            .endpoint()
            .alpn()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(ids, ["h2", "http/1.1"], "every TCP id offered");
        let mut stream = conn.into_tls().unwrap();
        stream.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        assert!(eventually(|| v6.alpn() == [Some(b"http/1.1".to_vec())]).await);
        let [only] = report.attempts() else {
            panic!("one attempt: {report}")
        };
        assert!(only.progressed.is_some(), "TCP up before TLS: {report}");
    });
}

/// IPv6 accepts TCP and never answers the ClientHello; IPv4 serves TLS. IPv6's TCP
/// progress pushes the next start to one attempt delay after it (V33), IPv4 then wins,
/// and IPv6's connection is closed (the server sees it go).
#[test]
fn a_stalled_tls_server_on_ipv6_loses_to_ipv4_after_the_attempt_delay() {
    serial(async {
        let ca = TestCa::new();
        let (port, v6, v4) = servers(&ca, TlsServe::Stall, TlsServe::Echo, &["h2"]);
        let delay = Duration::from_millis(150);
        let c = connector(both(), Config::default().connection_attempt_delay(delay));
        let (conn, report) = c
            .connect_tls_with_report((NAME, port), &tls(&ca, &["h2"]))
            .await;
        let conn = conn.unwrap();
        let report = report.unwrap();
        assert_eq!(
            conn.endpoint().addr(),
            SocketAddr::new(V4, port),
            "{report}"
        );
        let [first, second] = report.attempts() else {
            panic!("two attempts: {report}")
        };
        let progressed = first.progressed.expect("IPv6's TCP was up");
        assert!(second.started >= progressed + delay, "{report}");
        assert_eq!(first.status, AttemptStatus::Cancelled, "{report}");
        assert_eq!(second.status, AttemptStatus::Connected, "{report}");
        assert!(
            eventually(|| v6.open() == 0).await,
            "the stalled connection was closed"
        );
        // The server counts its handshake when it has read the client's Finished, which
        // can be after the client's handshake is done.
        assert!(
            eventually(|| v4.handshakes() == 1).await,
            "IPv4's handshake"
        );
        assert_eq!((v6.accepted(), v6.handshakes(), v4.handshakes()), (1, 0, 1));
    });
}

/// A certificate from another CA: every attempt fails with a `Certificate` error that
/// names its endpoint, and the server saw both connections closed.
#[test]
fn a_certificate_that_fails_to_verify_is_a_typed_error_per_endpoint() {
    serial(async {
        let (ca, other) = (TestCa::new(), TestCa::new());
        let (port, v6, v4) = servers(&other, TlsServe::Echo, TlsServe::Echo, &["h2"]);
        let c = connector(both(), Config::default());
        let baseline = open_fds();
        let err = c
            .connect_tls((NAME, port), &tls(&ca, &["h2"]))
            .await
            .unwrap_err();
        let errors = attempt_errors(&err);
        assert_eq!(
            errors,
            [
                (SocketAddr::new(V6, port), AttemptErrorKind::Certificate),
                (SocketAddr::new(V4, port), AttemptErrorKind::Certificate)
            ],
            "{err}"
        );
        assert!(err.to_string().contains("certificate"), "{err}");
        assert!(eventually(|| v6.open() + v4.open() == 0).await);
        assert!(
            eventually(|| open_fds() == baseline).await,
            "no socket left open"
        );
    });
}

/// A certificate for another name (the right CA): the name checked is the caller's host.
#[test]
fn a_certificate_for_another_name_is_refused() {
    serial(async {
        let ca = TestCa::new();
        let listener = std::net::TcpListener::bind((V4, 0)).unwrap();
        let server = TlsServer::start(
            listener,
            ca.server_config(&["elsewhere.test"], &["h2"]),
            TlsServe::Echo,
        )
        .unwrap();
        let c = connector(StaticResolver::new().host(NAME, [V4]), Config::default());
        let err = c
            .connect_tls((NAME, server.addr().port()), &tls(&ca, &["h2"]))
            .await
            .unwrap_err();
        assert_eq!(
            attempt_errors(&err),
            [(server.addr(), AttemptErrorKind::Certificate)]
        );
    });
}

/// An IP literal: no DNS, no SNI, the certificate's IP address is checked.
#[test]
fn an_ip_literal_checks_the_certificate_ip() {
    serial(async {
        let ca = TestCa::new();
        let (port, _v6, _v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
        let c = connector(StaticResolver::new(), Config::default());
        let conn = c
            .connect_tls(SocketAddr::new(V4, port), &tls(&ca, &["h2"]))
            .await
            .unwrap();
        assert_eq!(conn.endpoint().addr(), SocketAddr::new(V4, port));
    });
}

/// A server that speaks none of the ids offered answers `no_application_protocol`: an
/// `Alpn` error per endpoint.
#[test]
fn no_alpn_in_common_is_a_typed_error() {
    serial(async {
        let ca = TestCa::new();
        let (port, _v6, _v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
        let c = connector(both(), Config::default());
        let err = c
            .connect_tls((NAME, port), &tls(&ca, &["http/1.1"]))
            .await
            .unwrap_err();
        let kinds: Vec<_> = attempt_errors(&err).into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            kinds,
            [AttemptErrorKind::Alpn, AttemptErrorKind::Alpn],
            "{err}"
        );
    });
}

/// An empty ALPN list, an empty id and an id over 255 bytes are refused when the `Tls` is
/// built, before any connect.
#[test]
fn bad_alpn_lists_are_refused_early() {
    let ca = TestCa::new();
    let build = |alpn: Vec<Vec<u8>>| {
        let mut config = ca.client_config(&[]);
        config.alpn_protocols = alpn;
        Tls::new(Arc::new(config)).map(|_| ())
    };
    assert_eq!(build(vec![]), Err(TlsConfigError::NoAlpn));
    let Err(TlsConfigError::InvalidAlpn(id)) = build(vec![b"h2".to_vec(), vec![]]) else {
        panic!("an empty id is refused")
    };
    assert!(id.as_bytes().is_empty());
    assert!(matches!(
        build(vec![vec![b'x'; 256]]),
        Err(TlsConfigError::InvalidAlpn(_))
    ));
    assert!(build(vec![vec![b'x'; 255]]).is_ok());
    #[cfg(not(feature = "quic"))]
    assert_eq!(build(vec![b"h3".to_vec()]), Err(TlsConfigError::NoAlpn));
}

/// A target whose port is 0: every endpoint fails with a `Port` error before any socket is
/// opened.
#[test]
fn port_zero_is_a_typed_error_per_endpoint() {
    serial(async {
        let ca = TestCa::new();
        let c = connector(both(), Config::default());
        let fds = open_fds();
        let err = c
            .connect_tls((NAME, 0), &tls(&ca, &["h2"]))
            .await
            .unwrap_err();
        assert_eq!(
            attempt_errors(&err),
            [
                (SocketAddr::new(V6, 0), AttemptErrorKind::Port),
                (SocketAddr::new(V4, 0), AttemptErrorKind::Port)
            ]
        );
        assert_eq!(open_fds(), fds, "no socket is left open");
    });
}

/// An HTTPS record whose port is 0 is unusable (RFC 9460 gives it no meaning; the core
/// drops it, V12): the race uses the host's own addresses on the authority port.
#[test]
fn a_record_with_port_zero_is_never_tried() {
    serial(async {
        let ca = TestCa::new();
        let (port, _v6, _v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
        let record = ServiceRecord::new(1, ".").alpn(["h2"]).port(0);
        let resolver = both().https(&format!("_{port}._https.{NAME}"), [record]);
        let c = connector(resolver, Config::default());
        let (conn, report) = c
            .connect_tls_with_report((NAME, port), &tls(&ca, &["h2"]))
            .await;
        let report = report.unwrap();
        assert_eq!(conn.unwrap().endpoint().addr().port(), port, "{report}");
        assert!(
            report
                .attempts()
                .iter()
                .all(|a| a.endpoint.addr().port() != 0),
            "{report}"
        );
    });
}

/// With ECH on and a record that has an ECH configuration, every endpoint carries it: with
/// no ECH hook each attempt fails with an `Ech` error and no ClientHello is sent in
/// cleartext (the core's downgrade rule: no endpoint without ECH is tried either).
#[test]
fn ech_without_a_hook_never_downgrades() {
    serial(async {
        let ca = TestCa::new();
        let (port, v6, v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
        let ech = EchConfig::new(b"\x00\x04test");
        let record = ServiceRecord::new(1, ".").alpn(["h2"]).ech(ech);
        let resolver = both().https(&format!("_{port}._https.{NAME}"), [record]);
        let c = connector(resolver, Config::default().ech(true));
        let err = c
            .connect_tls((NAME, port), &tls(&ca, &["h2"]))
            .await
            .unwrap_err();
        let kinds: Vec<_> = attempt_errors(&err).into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            kinds,
            [AttemptErrorKind::Ech, AttemptErrorKind::Ech],
            "{err}"
        );
        assert_eq!(v6.handshakes() + v4.handshakes(), 0);
    });
}

/// With an ECH hook, an endpoint with ECH gets the hook's config, made from the record's
/// `ECHConfigList` bytes; a hook error is an `Ech` error. (ring has no HPKE, so the hook
/// here cannot really encrypt: it proves the plumbing with a config that trusts the CA,
/// where the base config trusts nothing.)
#[test]
fn ech_endpoints_use_the_hooks_config() {
    serial(async {
        let ca = Arc::new(TestCa::new());
        let (port, _v6, v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
        let ech = EchConfig::new(b"\x00\x04good");
        let record = ServiceRecord::new(1, ".").alpn(["h2"]).ech(ech.clone());
        let resolver = StaticResolver::new()
            .host(NAME, [V4])
            .https(&format!("_{port}._https.{NAME}"), [record]);
        let c = connector(resolver, Config::default().ech(true));
        let untrusting = TestCa::new().client_config(&["h2"]);
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (hook_ca, hook_seen) = (ca.clone(), seen.clone());
        let tls = Tls::builder(Arc::new(untrusting))
            .ech(move |config: &EchConfig| {
                hook_seen.lock().unwrap().push(config.as_bytes().to_vec());
                match config.as_bytes() {
                    b"\x00\x04good" => Ok(hook_ca.client_config(&[])),
                    _ => Err(rustls::Error::General("not this one".into())),
                }
            })
            .build()
            .unwrap();
        let conn = c.connect_tls((NAME, port), &tls).await.unwrap();
        assert_eq!(conn.endpoint().ech(), Some(&ech));
        assert_eq!(
            conn.alpn().unwrap().as_bytes(),
            b"h2",
            "ALPN set on the hook's config"
        );
        assert_eq!(*seen.lock().unwrap(), [b"\x00\x04good".to_vec()]);
        assert!(eventually(|| v4.handshakes() == 1).await);

        let bad = ServiceRecord::new(1, ".")
            .alpn(["h2"])
            .ech(EchConfig::new(b"\x00\x03bad"));
        let resolver = StaticResolver::new()
            .host(NAME, [V4])
            .https(&format!("_{port}._https.{NAME}"), [bad]);
        let c = connector(resolver, Config::default().ech(true));
        let err = c.connect_tls((NAME, port), &tls).await.unwrap_err();
        assert_eq!(
            attempt_errors(&err),
            [(SocketAddr::new(V4, port), AttemptErrorKind::Ech)]
        );
    });
}

/// Races that win, races that fail, and a connect dropped mid-race (both families stalled)
/// leave no descriptor open, and the servers see every connection closed.
#[test]
fn descriptors_come_back_after_races_and_a_dropped_connect() {
    serial(async {
        let ca = TestCa::new();
        let (port, v6, v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo, &["h2"]);
        let (stalled, s6, s4) = servers(&ca, TlsServe::Stall, TlsServe::Stall, &["h2"]);
        let c = connector(
            both(),
            Config::default().connection_attempt_delay(Duration::from_millis(20)),
        );
        let tls = tls(&ca, &["h2"]);
        let baseline = open_fds();
        for _ in 0..5 {
            drop(c.connect_tls((NAME, port), &tls).await.unwrap());
        }
        let dropped = tokio::time::timeout(
            Duration::from_millis(200),
            c.connect_tls((NAME, stalled), &tls),
        )
        .await;
        assert!(dropped.is_err(), "the stalled race was still running");
        // The servers run in this process: their side closes once they see the client's close.
        assert!(eventually(|| v6.open() + v4.open() + s6.open() + s4.open() == 0).await);
        assert!(
            eventually(|| open_fds() == baseline).await,
            "every socket is closed: {} open, {baseline} before",
            open_fds()
        );
        assert_eq!(
            s6.accepted() + s4.accepted(),
            2,
            "both stalled attempts had started"
        );
    });
}

/// Real ECH (feature `ech`, aws-lc-rs): the record's ECH configuration is used, so the
/// server sees the configuration's public name as SNI, never the host. This server cannot
/// decrypt (rustls has no server-side ECH), so the client reports ECH rejected: an `Ech`
/// error, and no attempt without ECH follows (the core's downgrade rule).
#[cfg(feature = "ech")]
#[test]
fn ech_encrypts_the_server_name() {
    serial(async {
        const PUBLIC: &str = "public.eyeballs.test";
        let ca = TestCa::new();
        let (port, mut listeners, _) = same_port(&[V4], &[]).unwrap();
        let server = TlsServer::start(
            listeners.pop().unwrap(),
            ca.server_config(&[NAME, PUBLIC], &["h2"]),
            TlsServe::Echo,
        )
        .unwrap();
        let ech = EchConfig::new(&eyeballs_lab::tls::ech_config_list(PUBLIC));
        let record = ServiceRecord::new(1, ".").alpn(["h2"]).ech(ech);
        let resolver = StaticResolver::new()
            .host(NAME, [V4])
            .https(&format!("_{port}._https.{NAME}"), [record]);
        let c = connector(resolver, Config::default().ech(true));
        let tls = Tls::builder(Arc::new(ca.client_config(&["h2"])))
            .ech(eyeballs_tokio::ech_hook(Arc::new(ca.roots())))
            .build()
            .unwrap();
        let err = c.connect_tls((NAME, port), &tls).await.unwrap_err();
        assert_eq!(
            attempt_errors(&err),
            [(SocketAddr::new(V4, port), AttemptErrorKind::Ech)],
            "{err}"
        );
        assert_eq!(
            server.sni(),
            [Some(PUBLIC.to_owned())],
            "the host name was encrypted"
        );
    });
}
