//! Alt-Svc alternatives on real sockets (RFC 7838; HEv3 V41, V59; HG5, HG17): with
//! no HTTPS record, an `h3` alternative on another port than the origin's TCP port is
//! raced over QUIC and wins; the alternative's host gets its own address queries; its
//! certificate is checked against the origin's name, not the alternative's; plain TCP
//! connects and expired alternatives race none (features `quic`).
#![cfg(feature = "quic")]
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::{QuicServe, QuicServer, TestCa, TlsServe, TlsServer};
use eyeballs_tokio::{
    AltService, AltSvcValue, AttemptError, AttemptErrorKind, Config, Connector, Failure,
    Provenance, QueryKind, StaticResolver, Tls, Transport,
};

const ORIGIN: &str = "origin.alt-svc.test";
const ALT: &str = "alt.alt-svc.test";

/// One test at a time (QUIC servers and their threads), each on its own runtime.
fn serial(test: impl std::future::Future<Output = ()>) {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test);
}

/// The origin's TLS server (h2) on 127.0.0.1's TCP port, and a QUIC server (h3) on another
/// UDP port, its certificate for `quic_names`.
struct Servers {
    tcp: TlsServer,
    quic: QuicServer,
}

fn servers(ca: &TestCa, tcp: TlsServe, quic_names: &[&str]) -> Servers {
    let listener = TcpListener::bind(SocketAddr::new(V4, 0)).unwrap();
    let tcp = TlsServer::start(listener, ca.server_config(&[ORIGIN], &["h2"]), tcp).unwrap();
    // Another port than the TCP one: a UDP socket bound apart, never the same number.
    let mut socket = UdpSocket::bind(SocketAddr::new(V4, 0)).unwrap();
    while socket.local_addr().unwrap().port() == tcp.addr().port() {
        socket = UdpSocket::bind(SocketAddr::new(V4, 0)).unwrap();
    }
    let config = ca.server_config(quic_names, &["h3"]);
    let quic = QuicServer::start(socket, config, QuicServe::Echo).unwrap();
    Servers { tcp, quic }
}

/// A connector whose resolver knows both names (on 127.0.0.1) and no HTTPS record.
fn connector() -> Connector {
    let resolver = StaticResolver::new().host(ORIGIN, [V4]).host(ALT, [V4]);
    Connector::builder()
        .resolver(resolver)
        .config(Config::default().timeout(Some(Duration::from_secs(20))))
        .handshake_timeout(Duration::from_secs(2))
        .history(false)
        .build()
        .unwrap()
}

fn tls(ca: &TestCa) -> Tls {
    Tls::new(Arc::new(ca.client_config(&["h3", "h2"]))).unwrap()
}

/// `Alt-Svc: h3=":PORT"` with no HTTPS record: the alternative races as its own group,
/// before the origin's plain addresses (HG17), over QUIC to its own port, and wins; the
/// origin's TCP server is never reached. Without the alternative, the same race is TCP.
#[test]
fn h3_alternative_on_another_port_wins_without_https_records() {
    serial(async {
        let ca = TestCa::new();
        // The origin's TCP server stalls its handshakes: only the alternative can win.
        let s = servers(&ca, TlsServe::Stall, &[ORIGIN]);
        let (tcp_port, quic_port) = (s.tcp.addr().port(), s.quic.addr().port());
        let c = connector();
        let value: AltSvcValue = format!(r#"h3=":{quic_port}"; ma=60"#).parse().unwrap();
        c.set_alt_svc(
            ORIGIN,
            tcp_port,
            value.services(tokio::time::Instant::now().into_std()),
        );

        let (conn, report) = c
            .connect_tls_with_report((ORIGIN, tcp_port), &tls(&ca))
            .await;
        let report = report.unwrap();
        let conn = conn.unwrap_or_else(|e| panic!("{e}\n{report}"));
        assert_eq!(conn.transport(), Transport::Quic, "{report}");
        assert_eq!(conn.endpoint().addr(), SocketAddr::new(V4, quic_port));
        assert_eq!(conn.alpn().unwrap().as_bytes(), b"h3");
        let first = &report.attempts()[0].endpoint;
        assert_eq!(first.addr(), SocketAddr::new(V4, quic_port), "{report}");
        assert_eq!(first.transport(), Transport::Quic, "{report}");
        assert!(
            matches!(first.provenance(), Provenance::AltSvc { host, .. } if host.as_str() == ORIGIN),
            "{report}"
        );
        // Counted before the server's handshake can answer: the client's connection was it.
        assert_eq!(s.quic.accepted(), 1);
        drop(conn);

        // The same race without alternatives: TCP to the origin only (it stalls, and the
        // handshake timeout fails it).
        c.set_alt_svc(ORIGIN, tcp_port, []);
        let (conn, report) = c
            .connect_tls_with_report((ORIGIN, tcp_port), &tls(&ca))
            .await;
        let report = report.unwrap();
        assert!(conn.is_err(), "{report}");
        assert!(
            report
                .attempts()
                .iter()
                .all(|a| a.endpoint.transport() == Transport::Tcp
                    && a.endpoint.addr().port() == tcp_port),
            "{report}"
        );
    });
}

/// `Alt-Svc: h3="alt.…:PORT"`: the alternative's host gets its own address queries
/// through the connector's resolver, the attempt goes to its address and port, and the
/// QUIC handshake names the origin: a certificate for the origin alone is accepted. (The
/// first start waits for the alternative's answers within the Resolution Delay, HG19;
/// answers later than that join after the origin's TCP attempt started, V45.)
#[test]
fn the_alternative_host_is_resolved_and_the_origin_name_checked() {
    serial(async {
        let ca = TestCa::new();
        let s = servers(&ca, TlsServe::Stall, &[ORIGIN]);
        let (tcp_port, quic_port) = (s.tcp.addr().port(), s.quic.addr().port());
        let c = connector();
        c.set_alt_svc(
            ORIGIN,
            tcp_port,
            [AltService::new(ALT, quic_port).alpn(["h3"])],
        );
        let (conn, report) = c
            .connect_tls_with_report((ORIGIN, tcp_port), &tls(&ca))
            .await;
        let report = report.unwrap();
        let conn = conn.unwrap_or_else(|e| panic!("{e}\n{report}"));
        assert_eq!(conn.transport(), Transport::Quic, "{report}");
        assert_eq!(conn.endpoint().addr(), SocketAddr::new(V4, quic_port));
        assert!(
            matches!(conn.endpoint().provenance(), Provenance::AltSvc { host, .. } if host.as_str() == ALT),
            "{report}"
        );
        let asked: Vec<(String, QueryKind)> = report
            .queries()
            .iter()
            .map(|q| (q.name.to_string(), q.kind))
            .collect();
        assert!(
            asked
                .iter()
                .any(|(name, kind)| name == ALT && *kind != QueryKind::Https),
            "{report}"
        );
    });
}

/// A QUIC server whose certificate names only the alternative's host fails the attempt
/// with a certificate error: the name checked is the origin's (RFC 7838 §2.1), never the
/// alternative's.
#[test]
fn a_certificate_for_the_alternative_alone_is_refused() {
    serial(async {
        let ca = TestCa::new();
        let s = servers(&ca, TlsServe::Stall, &[ALT]);
        let (tcp_port, quic_port) = (s.tcp.addr().port(), s.quic.addr().port());
        // Nothing on the origin's TCP port: the race ends with the QUIC attempt's error.
        drop(s.tcp);
        let c = connector();
        c.set_alt_svc(
            ORIGIN,
            tcp_port,
            [AltService::new(ALT, quic_port).alpn(["h3"])],
        );
        let (conn, report) = c
            .connect_tls_with_report((ORIGIN, tcp_port), &tls(&ca))
            .await;
        let report = report.unwrap();
        let error = conn.err().unwrap_or_else(|| panic!("connected\n{report}"));
        let failure = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<Failure<std::io::Error>>())
            .unwrap_or_else(|| panic!("{error}"));
        let quic = failure
            .attempts()
            .iter()
            .find(|a| a.endpoint.transport() == Transport::Quic)
            .unwrap_or_else(|| panic!("no QUIC attempt\n{report}"));
        assert_eq!(quic.endpoint.addr(), SocketAddr::new(V4, quic_port));
        let kind = quic
            .error
            .as_ref()
            .and_then(AttemptError::of)
            .map(|e| e.kind());
        assert_eq!(kind, Some(AttemptErrorKind::Certificate), "{report}");
    });
}

/// Plain TCP connects race no alternative (nothing would check that it speaks for the
/// origin), and an expired alternative is not raced and is forgotten.
#[test]
fn plain_connects_and_expired_alternatives_race_none() {
    serial(async {
        let ca = TestCa::new();
        let s = servers(&ca, TlsServe::Echo, &[ORIGIN]);
        let (tcp_port, quic_port) = (s.tcp.addr().port(), s.quic.addr().port());
        let c = connector();
        let h3 = AltService::new("", quic_port).alpn(["h3"]);
        c.set_alt_svc(ORIGIN, tcp_port, [h3.clone()]);
        let (stream, report) = c.connect_with_report((ORIGIN, tcp_port)).await;
        stream.unwrap();
        let report = report.unwrap();
        assert!(
            report
                .attempts()
                .iter()
                .all(|a| a.endpoint.transport() == Transport::Tcp),
            "{report}"
        );

        let past = tokio::time::Instant::now().into_std();
        c.set_alt_svc(ORIGIN, tcp_port, [h3.expires(past)]);
        let (conn, report) = c
            .connect_tls_with_report((ORIGIN, tcp_port), &tls(&ca))
            .await;
        let report = report.unwrap();
        let conn = conn.unwrap_or_else(|e| panic!("{e}\n{report}"));
        assert_eq!(conn.transport(), Transport::Tcp, "{report}");
        assert_eq!(report.attempts().len(), 1, "{report}");
        assert!(c.alt_svc(ORIGIN, tcp_port).is_empty());
        assert_eq!(s.quic.accepted(), 0);
    });
}
