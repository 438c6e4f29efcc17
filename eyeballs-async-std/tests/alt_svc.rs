//! Alt-Svc alternatives on async-io, under smol and async-std (RFC 7838; HEv3 V41, V59;
//! HG17): with no HTTPS record, an `h3` alternative on another port than the
//! origin's TCP port is raced over QUIC and wins, its host resolved through the connector's
//! resolver and its certificate checked against the origin's name (feature `quic`).
#![cfg(feature = "quic")]
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use eyeballs_async_std::{
    AltService, AltSvcValue, AttemptStatus, Config, Connector, Provenance, StaticResolver, Tls,
    Transport,
};
use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::{QuicServe, QuicServer, TestCa, TlsServe, TlsServer};

const ORIGIN: &str = "origin.alt-svc.test";
const ALT: &str = "alt.alt-svc.test";

/// Runs `test` under smol, then under async-std, one test at a time.
fn on_both(test: impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()>>>) {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    smol::block_on(test());
    async_std::task::block_on(test());
}

/// The origin's TLS server on 127.0.0.1 (stalling), and a QUIC server (h3, a certificate
/// for the origin only) on another UDP port.
fn servers(ca: &TestCa) -> (TlsServer, QuicServer) {
    let listener = TcpListener::bind(SocketAddr::new(V4, 0)).unwrap();
    let config = ca.server_config(&[ORIGIN], &["h2"]);
    let tcp = TlsServer::start(listener, config, TlsServe::Stall).unwrap();
    let mut socket = UdpSocket::bind(SocketAddr::new(V4, 0)).unwrap();
    while socket.local_addr().unwrap().port() == tcp.addr().port() {
        socket = UdpSocket::bind(SocketAddr::new(V4, 0)).unwrap();
    }
    let config = ca.server_config(&[ORIGIN], &["h3"]);
    let quic = QuicServer::start(socket, config, QuicServe::Echo).unwrap();
    (tcp, quic)
}

fn connector() -> Connector {
    let resolver = StaticResolver::new().host(ORIGIN, [V4]).host(ALT, [V4]);
    Connector::builder()
        .resolver(resolver)
        .config(Config::default().timeout(Some(Duration::from_secs(20))))
        .handshake_timeout(Duration::from_secs(5))
        .history(false)
        .build()
        .unwrap()
}

/// `h3=":PORT"` (the origin's host) and `h3="alt…:PORT"` (a host of its own): each time the
/// alternative's QUIC endpoint wins with h3, and the origin's stalling TCP server cannot.
/// On the origin's host the alternative is known with the origin's addresses and goes
/// first (HG17); another host's answers come after the origin's, and the first start waits
/// for them within the Resolution Delay (HG19), so it goes first too unless they take
/// longer than that (then it joins late, V45: a loaded machine's blocking lookups may).
#[test]
fn h3_alternatives_win_over_quic_without_https_records() {
    on_both(|| {
        Box::pin(async {
            let ca = TestCa::new();
            let (tcp, quic) = servers(&ca);
            let (tcp_port, quic_port) = (tcp.addr().port(), quic.addr().port());
            let c = connector();
            let tls = Tls::new(Arc::new(ca.client_config(&["h3", "h2"]))).unwrap();
            let same_host: AltSvcValue = format!(r#"h3=":{quic_port}""#).parse().unwrap();
            let alternatives = [
                (ORIGIN, same_host.services(std::time::Instant::now()), true),
                (
                    ALT,
                    vec![AltService::new(ALT, quic_port).alpn(["h3"])],
                    false,
                ),
            ];
            for (host, alts, first) in alternatives {
                c.set_alt_svc(ORIGIN, tcp_port, alts);
                let (conn, report) = c.connect_tls_with_report((ORIGIN, tcp_port), &tls).await;
                let report = report.unwrap();
                let conn = conn.unwrap_or_else(|e| panic!("{e}\n{report}"));
                assert_eq!(conn.transport(), Transport::Quic, "{report}");
                assert_eq!(conn.endpoint().addr(), SocketAddr::new(V4, quic_port));
                assert!(
                    matches!(conn.endpoint().provenance(), Provenance::AltSvc { host: h, .. } if h.as_str() == host),
                    "{report}"
                );
                if first {
                    let first = &report.attempts()[0];
                    assert_eq!(first.endpoint.transport(), Transport::Quic, "{report}");
                    assert_eq!(first.status, AttemptStatus::Connected, "{report}");
                }
            }
        })
    });
}
