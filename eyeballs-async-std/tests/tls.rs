//! TLS-aware racing on async-io (feature `tls`; HEv3 §6.1, G2, V33): the same cases as
//! eyeballs-tokio's TLS tests, on smol and on async-std.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_async_std::{
    AttemptError, AttemptErrorKind, AttemptStatus, Config, Connector, Failure, StaticResolver, Tls,
    TlsConfigError, Transport,
};
use eyeballs_lab::loopback::{open_fds, V4, V6};
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer};
use smol::io::{AsyncReadExt, AsyncWriteExt};

const NAME: &str = "tls.eyeballs.test";

/// One test at a time: they count the process's descriptors.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `test` on smol, alone.
fn serial<T>(test: impl std::future::Future<Output = T>) -> T {
    let _serial = lock();
    smol::block_on(test)
}

fn servers(ca: &TestCa, v6: TlsServe, v4: TlsServe) -> (u16, TlsServer, TlsServer) {
    let (port, mut listeners, _) = same_port(&[V6, V4], &[]).unwrap();
    let config = || ca.server_config(&[NAME], &["h2", "http/1.1"]);
    let v4 = TlsServer::start(listeners.pop().unwrap(), config(), v4).unwrap();
    let v6 = TlsServer::start(listeners.pop().unwrap(), config(), v6).unwrap();
    (port, v6, v4)
}

fn connector(config: Config) -> Connector {
    Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .config(config)
        .history(false)
        .build()
        .unwrap()
}

fn tls(ca: &TestCa, alpn: &[&str]) -> Tls {
    Tls::new(Arc::new(ca.client_config(alpn))).unwrap()
}

/// Waits (at most 5 s) for `done`.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        async_io::Timer::after(Duration::from_millis(10)).await;
    }
    true
}

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
            assert_eq!(e.endpoint(), &a.endpoint);
            (a.endpoint.addr(), e.kind())
        })
        .collect()
}

/// TLS wins on IPv6 with the ALPN id the server chose; the stream echoes.
#[test]
fn tls_wins_on_smol() {
    serial(async {
        let ca = TestCa::new();
        let (port, _v6, _v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo);
        let conn = connector(Config::default())
            .connect_tls((NAME, port), &tls(&ca, &["h2"]))
            .await
            .unwrap();
        assert_eq!(conn.endpoint().addr(), SocketAddr::new(V6, port));
        assert_eq!(conn.transport(), Transport::Tcp);
        assert_eq!(conn.alpn().unwrap().as_bytes(), b"h2");
        let mut stream = conn.into_tls().unwrap();
        stream.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
    });
}

/// The same on async-std's executor.
#[test]
fn tls_wins_on_async_std() {
    let _serial = lock();
    let ca = TestCa::new();
    let (port, _v6, _v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo);
    let conn = async_std::task::block_on(
        connector(Config::default()).connect_tls((NAME, port), &tls(&ca, &["http/1.1"])),
    )
    .unwrap();
    assert_eq!(conn.alpn().unwrap().as_bytes(), b"http/1.1");
}

/// IPv6 stalls after TCP: IPv4 starts one attempt delay after IPv6's progress (V33) and
/// wins; IPv6's connection is closed.
#[test]
fn a_stalled_tls_server_on_ipv6_loses_to_ipv4() {
    serial(async {
        let ca = TestCa::new();
        let (port, v6, _v4) = servers(&ca, TlsServe::Stall, TlsServe::Echo);
        let delay = Duration::from_millis(150);
        let (conn, report) = connector(Config::default().connection_attempt_delay(delay))
            .connect_tls_with_report((NAME, port), &tls(&ca, &["h2"]))
            .await;
        let report = report.unwrap();
        assert_eq!(conn.unwrap().endpoint().addr(), SocketAddr::new(V4, port));
        let [first, second] = report.attempts() else {
            panic!("two attempts: {report}")
        };
        assert!(
            second.started >= first.progressed.unwrap() + delay,
            "{report}"
        );
        assert_eq!(first.status, AttemptStatus::Cancelled);
        assert!(eventually(|| v6.open() == 0).await);
    });
}

/// An untrusted certificate, port 0: typed errors naming each endpoint.
#[test]
fn bad_input_is_a_typed_error_per_endpoint() {
    serial(async {
        let (ca, other) = (TestCa::new(), TestCa::new());
        let (port, _v6, _v4) = servers(&other, TlsServe::Echo, TlsServe::Echo);
        let c = connector(Config::default());
        let err = c
            .connect_tls((NAME, port), &tls(&ca, &["h2"]))
            .await
            .unwrap_err();
        assert_eq!(
            attempt_errors(&err),
            [
                (SocketAddr::new(V6, port), AttemptErrorKind::Certificate),
                (SocketAddr::new(V4, port), AttemptErrorKind::Certificate)
            ]
        );
        let err = c
            .connect_tls((NAME, 0), &tls(&ca, &["h2"]))
            .await
            .unwrap_err();
        let kinds: Vec<_> = attempt_errors(&err).into_iter().map(|(_, k)| k).collect();
        assert_eq!(kinds, [AttemptErrorKind::Port, AttemptErrorKind::Port]);
        let mut empty = ca.client_config(&[]);
        empty.alpn_protocols.clear();
        assert_eq!(
            Tls::new(Arc::new(empty)).unwrap_err(),
            TlsConfigError::NoAlpn
        );
    });
}

/// Races and a connect dropped mid-race leave no descriptor open.
#[test]
fn descriptors_come_back() {
    serial(async {
        let ca = TestCa::new();
        let (port, v6, v4) = servers(&ca, TlsServe::Echo, TlsServe::Echo);
        let (stalled, s6, s4) = servers(&ca, TlsServe::Stall, TlsServe::Stall);
        let c = connector(Config::default().connection_attempt_delay(Duration::from_millis(20)));
        let tls = tls(&ca, &["h2"]);
        let baseline = open_fds();
        for _ in 0..5 {
            drop(c.connect_tls((NAME, port), &tls).await.unwrap());
        }
        let race = c.connect_tls((NAME, stalled), &tls);
        let timer = async {
            async_io::Timer::after(Duration::from_millis(200)).await;
            None
        };
        let raced = smol::future::or(async { Some(race.await) }, timer).await;
        assert!(raced.is_none(), "the stalled race was still running");
        assert!(eventually(|| v6.open() + v4.open() + s6.open() + s4.open() == 0).await);
        assert!(
            eventually(|| open_fds() == baseline).await,
            "{} open, {baseline} before",
            open_fds()
        );
        assert_eq!(s6.accepted() + s4.accepted(), 2);
    });
}
