//! The real connector (`eyeballs_net::Connector`) on the simulated runtime with tokio's
//! clock paused: the caller's async code runs against the script in virtual time.
#![cfg(all(feature = "tokio", feature = "tls"))]

use std::io;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_net::Tls;
use eyeballs_sim::{AttemptError, AttemptErrorKind, Handshake, Network, Peer};
use tokio::time::Instant;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn blackholed_ipv6() -> Network {
    Network::new()
        .aaaa("example.test", ["2001:db8::1"])
        .a("example.test", ["192.0.2.1"])
        .tcp("[2001:db8::1]:443", Peer::hang())
        .tcp("192.0.2.1:443", Peer::accept(ms(20)))
}

/// The connector's race, in virtual time: IPv6 hangs, IPv4 starts at 250 ms and connects
/// 20 ms later; the report says so exactly, twice over.
#[tokio::test(start_paused = true)]
async fn a_connect_takes_exact_virtual_time() {
    let runtime = eyeballs_sim::tokio::runtime(&blackholed_ipv6()).unwrap();
    let mut reports = Vec::new();
    for _ in 0..2 {
        let connector = runtime.connector().history(false).build().unwrap();
        let start = Instant::now();
        let (stream, report) = connector.connect_with_report("example.test:443").await;
        assert_eq!(
            stream.unwrap().peer_addr(),
            "192.0.2.1:443".parse().unwrap()
        );
        assert_eq!(start.elapsed(), ms(270));
        reports.push(report.unwrap());
    }
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0].attempts()[1].started, ms(250));
}

/// A caller's retry loop around the connector: every address black-holed, each connect
/// gives up after 300 ms (`connect_timeout`), and the loop waits 1 s between tries. Three
/// tries take 300 + 1000 + 300 + 1000 + 300 ms of virtual time.
#[tokio::test(start_paused = true)]
async fn a_retry_loop_runs_on_the_same_clock() {
    let network = blackholed_ipv6().tcp("192.0.2.1:443", Peer::hang());
    let connector = eyeballs_sim::tokio::runtime(&network)
        .unwrap()
        .connector()
        .build()
        .unwrap();
    let start = Instant::now();
    let mut errors = Vec::new();
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        match connector.connect_timeout("example.test:443", ms(300)).await {
            Ok(_) => panic!("a black hole connected"),
            Err(e) => errors.push(e.kind()),
        }
    }
    assert_eq!(errors, [io::ErrorKind::TimedOut; 3]);
    assert_eq!(start.elapsed(), ms(2900));
}

/// TCP+TLS through the connector (`connect_tls`): IPv6's handshake stalls and fails at
/// the handshake timeout (TCP at 10 ms + 100 ms), which starts IPv4 at once; its server
/// answers h2 after 5 ms + 5 ms.
#[tokio::test(start_paused = true)]
async fn tls_over_the_script() {
    let network = Network::new()
        .aaaa("example.test", ["2001:db8::1"])
        .a("example.test", ["192.0.2.1"])
        .tcp(
            "[2001:db8::1]:443",
            Peer::accept(ms(10)).handshake(Handshake::stall()),
        )
        .tcp(
            "192.0.2.1:443",
            Peer::accept(ms(5)).handshake(Handshake::done(ms(5)).alpn("h2")),
        );
    let connector = eyeballs_sim::tokio::runtime(&network)
        .unwrap()
        .connector()
        .handshake_timeout(ms(100))
        .build()
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tls = Tls::new(Arc::new(config)).unwrap();
    let start = Instant::now();
    let (connection, report) = connector
        .connect_tls_with_report("example.test:443", &tls)
        .await;
    let connection = connection.unwrap();
    assert_eq!(start.elapsed(), ms(120));
    assert_eq!(
        connection.alpn().map(ToString::to_string),
        Some("h2".into())
    );
    assert_eq!(
        connection.endpoint().addr(),
        "192.0.2.1:443".parse().unwrap()
    );
    let report = report.unwrap();
    assert_eq!(report.attempts()[1].started, ms(110));
    let stalled = report.attempts()[0].error.as_deref().unwrap_or_default();
    assert!(stalled.contains("handshake stalled"), "{stalled}");
}

/// A handshake failure through the connector is typed as a real one is.
#[tokio::test(start_paused = true)]
async fn a_failed_handshake_is_a_typed_attempt_error() {
    let network = Network::new().a("example.test", ["192.0.2.1"]).tcp(
        "192.0.2.1:443",
        Peer::accept(ms(5)).handshake(Handshake::fail(ms(5))),
    );
    let connector = eyeballs_sim::tokio::runtime(&network)
        .unwrap()
        .connector()
        .build()
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tls = Tls::new(Arc::new(config)).unwrap();
    let error = connector
        .connect_tls("example.test:443", &tls)
        .await
        .unwrap_err();
    let failure = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<eyeballs_sim::Failure<io::Error>>())
        .unwrap();
    let kind = failure.attempts()[0]
        .error
        .as_ref()
        .and_then(AttemptError::of)
        .map(AttemptError::kind);
    assert_eq!(kind, Some(AttemptErrorKind::Tls));
}
