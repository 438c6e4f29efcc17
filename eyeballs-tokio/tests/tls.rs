//! TLS-aware racing on tokio beyond the shared TLS scenarios (`tls_scenarios.rs`): a
//! certificate for another name, bad ALPN lists, a record with port 0, and ECH.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_lab::loopback::{V4, V6};
#[cfg(feature = "ech")]
use eyeballs_lab::tls::EchRetryCase;
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer};
use eyeballs_tokio::{
    AttemptError, AttemptErrorKind, CertificateProblem, Config, Connector, EchConfig, Failure,
    ServiceRecord, StaticResolver, Tls, TlsConfigError,
};

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
        let failure = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
            .unwrap();
        let attempt = AttemptError::of(failure.attempts()[0].error.as_ref().unwrap()).unwrap();
        assert_eq!(
            attempt.certificate(),
            Some(CertificateProblem::OtherName {
                names: vec!["elsewhere.test".into()]
            })
        );
        // One sentence, the endpoint named once, no rustls debug words.
        let text = err.to_string();
        assert!(
            text.ends_with(&format!(
                "TCP {} h2: the server's certificate is for another name than the host's: it \
                 is for elsewhere.test",
                server.addr()
            )),
            "{text}"
        );
        assert_eq!(
            text.matches(&server.addr().to_string()).count(),
            1,
            "{text}"
        );
        assert!(!text.contains("NotValidForName"), "{text}");
    });
}

/// `Tls::platform` trusts the platform's roots and nothing else: a test CA's server is
/// issued by an unknown authority. `platform_client_config` with the test CA's root added
/// connects (platform roots plus extra ones).
#[cfg(feature = "platform-verifier")]
#[test]
fn platform_roots_and_extra_roots() {
    serial(async {
        let ca = TestCa::new();
        let listener = std::net::TcpListener::bind((V4, 0)).unwrap();
        let server =
            TlsServer::start(listener, ca.server_config(&[NAME], &["h2"]), TlsServe::Echo).unwrap();
        let c = connector(StaticResolver::new().host(NAME, [V4]), Config::default());
        let target = (NAME, server.addr().port());
        let err = c
            .connect_tls(target, &Tls::platform(&["h2"]).unwrap())
            .await
            .unwrap_err();
        let failure = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
            .unwrap();
        let attempt = AttemptError::of(failure.attempts()[0].error.as_ref().unwrap()).unwrap();
        assert_eq!(
            attempt.certificate(),
            Some(CertificateProblem::UnknownIssuer)
        );
        assert_eq!(
            attempt.to_string(),
            "the server's certificate is not trusted: issued by an unknown authority"
        );
        let mut config = eyeballs_tokio::platform_client_config([ca.root()]).unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connection = c
            .connect_tls(target, &Tls::new(Arc::new(config)).unwrap())
            .await
            .unwrap();
        assert_eq!(
            connection.alpn().map(ToString::to_string).as_deref(),
            Some("h2")
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

/// V54 (RFC 9849 §6.1.6) on the wire: a server that rejects ECH and sends retry
/// configurations in EncryptedExtensions (eyeballs-lab's `EchRejectingServer`, with a
/// certificate for the public name). The record's configuration has id 1, the server's retry
/// configuration id 2: the client retries once, at once, on the same endpoint with id 2,
/// inside the same attempt (one attempt in the report, its retry time recorded). The server
/// rejects the retry too, and a retry is never retried: the race fails with an `Ech` error,
/// and nothing was tried without ECH. Both connections got as far as the client's Finished
/// and its `ech_required` alert, so the client verified the server's handshake each time.
/// (A retry that succeeds needs HPKE decryption server-side: the simulator proves it,
/// `eyeballs-sim/tests/runner.rs`.)
#[cfg(feature = "ech")]
#[test]
fn an_ech_rejection_with_retry_configurations_is_retried_once_on_the_wire() {
    serial(async {
        let ca = TestCa::new();
        let case = EchRetryCase::start(&ca).unwrap();
        let c = connector(case.resolver.clone(), Config::default().ech(true));
        let tls = Tls::builder(Arc::new(ca.client_config(&["h2"])))
            .ech(eyeballs_tokio::ech_hook(Arc::new(ca.roots())))
            .build()
            .unwrap();
        let (conn, report) = c.connect_tls_with_report(case.target(), &tls).await;
        case.check(conn.map(drop), report.as_ref());
    });
}
