//! The handshake hook (HEv3 §6.1, G2, V32, V33) on real sockets: a step after TCP that
//! decides when an attempt counts, and the handshake timeout that keeps a step that never
//! ends from holding the race.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs_lab::loopback::{V4, V6};
use eyeballs_tokio::{
    AttemptError, AttemptErrorKind, AttemptStatus, Connector, Failure, FailureReason,
    StaticResolver,
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const NAME: &str = "handshake.eyeballs.test";

fn connector() -> Connector {
    Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .build()
        .unwrap()
}

/// A stand-in for TLS: an attempt counts once the server has sent one byte.
async fn greeting(mut stream: TcpStream) -> io::Result<(TcpStream, SocketAddr)> {
    let addr = stream.peer_addr()?;
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte).await?;
    Ok((stream, addr))
}

/// IPv6 accepts TCP but never speaks (a TLS server that stalls); IPv4 greets. The IPv6
/// attempt's TCP progress pushes the next start back (V33), IPv4 then connects, greets and
/// wins; IPv6 is cancelled. The report shows IPv6's progress.
#[tokio::test]
async fn a_stalled_handshake_loses_to_the_other_family() {
    // IPv6 silent (the kernel completes its TCP handshake from the backlog), IPv4 greets.
    let v6 = std::net::TcpListener::bind(SocketAddr::new(V6, 0)).unwrap();
    let port = v6.local_addr().unwrap().port();
    let v4 = std::net::TcpListener::bind(SocketAddr::new(V4, port)).unwrap();
    let greeter = std::thread::spawn(move || {
        use std::io::Write;
        let (mut s, _) = v4.accept().unwrap();
        s.write_all(b"!").unwrap();
        // Hold the connection until the client is done.
        let mut buf = [0u8; 1];
        let _ = std::io::Read::read(&mut s, &mut buf);
    });
    let (result, report) = connector()
        .connect_established_with_report((NAME, port), greeting)
        .await;
    let (stream, addr) = result.unwrap();
    let report = report.unwrap();
    assert_eq!(addr, SocketAddr::new(V4, port), "{report}");
    let [first, second] = report.attempts() else {
        panic!("two attempts: {report}")
    };
    assert!(first.endpoint.addr().is_ipv6(), "{report}");
    assert!(first.progressed.is_some(), "IPv6's TCP was up: {report}");
    assert_eq!(first.status, AttemptStatus::Cancelled, "{report}");
    assert!(second.started >= Duration::from_millis(250), "{report}");
    assert_eq!(second.status, AttemptStatus::Connected, "{report}");
    drop(stream);
    greeter.join().unwrap();
    drop(v6);
}

/// Both families accept TCP and never speak (servers that stall after the TCP handshake):
/// each attempt's handshake fails as stalled at the handshake timeout, counted from its TCP
/// connect, and the race ends in bounded time with a failure that names both stalled
/// endpoints. Without the timeout this race would never end.
#[tokio::test]
async fn every_stalled_handshake_ends_the_race_in_bounded_time() {
    let v6 = std::net::TcpListener::bind(SocketAddr::new(V6, 0)).unwrap();
    let port = v6.local_addr().unwrap().port();
    let v4 = std::net::TcpListener::bind(SocketAddr::new(V4, port)).unwrap();
    let timeout = Duration::from_millis(300);
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .handshake_timeout(timeout)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let (result, report) = connector
        .connect_established_with_report((NAME, port), greeting)
        .await;
    let elapsed = started.elapsed();
    let report = report.unwrap();
    let error = result.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
    let failure = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
        .unwrap();
    assert_eq!(
        failure.reason(),
        FailureReason::AllAttemptsFailed,
        "{report}"
    );
    assert_eq!(failure.attempts().len(), 2, "{report}");
    for attempt in failure.attempts() {
        let error = attempt.error.as_ref().unwrap();
        let inner = AttemptError::of(error).unwrap();
        assert_eq!(inner.kind(), AttemptErrorKind::Stalled, "{error}");
        assert_eq!(inner.endpoint().addr(), attempt.endpoint.addr());
        assert!(error.to_string().contains("handshake stalled"), "{error}");
    }
    // The second attempt starts at the attempt delay after the first's TCP connect (V33)
    // and stalls for the timeout: about 250 + 300 ms. Wide bounds: real sockets.
    assert!(elapsed >= timeout, "{elapsed:?}\n{report}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}\n{report}");
    assert!(
        failure.to_string().contains(&format!("[::1]:{port}")),
        "{failure}"
    );
    drop((v6, v4));
}
