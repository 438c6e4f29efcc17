//! The handshake hook (HEv3 §6.1, G2, V32, V33) on real sockets: a step after TCP that
//! decides when an attempt counts, and QUIC endpoints handed to the connector's own code.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs_lab::loopback::{V4, V6};
use eyeballs_tokio::{
    AttemptContext, AttemptStatus, Connecting, Connector, Handshake, Next, Protocols,
    StaticResolver, Transport,
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
struct Greeting;

impl Handshake<TcpStream> for Greeting {
    type Output = (TcpStream, SocketAddr);

    fn tcp(&self, mut stream: TcpStream, attempt: AttemptContext<'_>) -> Next<Self::Output> {
        let addr = attempt.endpoint.addr();
        Next::Then(Box::pin(async move {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await?;
            Ok((stream, addr))
        }))
    }
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
        .connect_with_handshake((NAME, port), &Greeting)
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

/// A QUIC-only caller: the race's endpoints are QUIC, and each goes to `Handshake::quic`
/// (here a stand-in that "connects" over IPv4 in 5 ms and never over IPv6).
struct FakeQuic;

impl Handshake<TcpStream> for FakeQuic {
    type Output = SocketAddr;

    fn protocols(&self) -> Protocols {
        Protocols::new().quic("x-test")
    }

    fn tcp(&self, _stream: TcpStream, attempt: AttemptContext<'_>) -> Next<SocketAddr> {
        panic!(
            "a QUIC-only caller got a TCP endpoint: {}",
            attempt.endpoint
        )
    }

    fn quic(&self, attempt: AttemptContext<'_>) -> Connecting<SocketAddr> {
        assert_eq!(attempt.endpoint.transport(), Transport::Quic);
        assert_eq!(attempt.endpoint.alpn()[0].as_bytes(), b"x-test");
        assert_eq!(attempt.host.port(), 4433);
        let addr = attempt.endpoint.addr();
        Box::pin(async move {
            if addr.is_ipv6() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok::<_, io::Error>(addr)
        })
    }
}

#[tokio::test]
async fn quic_endpoints_go_to_the_quic_step() {
    let (result, report) = connector()
        .connect_with_handshake((NAME, 4433), &FakeQuic)
        .await;
    let report = report.unwrap();
    assert_eq!(result.unwrap(), SocketAddr::new(V4, 4433), "{report}");
    let transports: Vec<Transport> = report
        .attempts()
        .iter()
        .map(|a| a.endpoint.transport())
        .collect();
    assert_eq!(transports, [Transport::Quic, Transport::Quic], "{report}");
    assert!(
        report.to_string().contains("QUIC [::1]:4433 x-test"),
        "{report}"
    );
}
