//! Alt-Svc alternatives on the blocking driver (RFC 7838; HEv3 V59; HG17): an `h2`
//! alternative on another port of the origin's host races over TCP+TLS as a group of its
//! own, before the origin's plain address, and wins while the origin stalls its handshakes;
//! the certificate is checked against the origin's name (feature `tls`).
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use eyeballs_blocking::{AltSvcValue, Connector, Provenance, StaticResolver, Tls, Transport};
use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::{TestCa, TlsServe, TlsServer};

const ORIGIN: &str = "origin.alt-svc.test";

#[test]
fn an_h2_alternative_on_another_port_wins() {
    let ca = TestCa::new();
    let bind = || TcpListener::bind(SocketAddr::new(V4, 0)).unwrap();
    let origin = TlsServer::start(
        bind(),
        ca.server_config(&[ORIGIN], &["h2"]),
        TlsServe::Stall,
    )
    .unwrap();
    let alt =
        TlsServer::start(bind(), ca.server_config(&[ORIGIN], &["h2"]), TlsServe::Echo).unwrap();
    let (port, alt_port) = (origin.addr().port(), alt.addr().port());
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(ORIGIN, [V4]))
        .handshake_timeout(Duration::from_secs(5))
        .history(false)
        .build()
        .unwrap();
    let value: AltSvcValue = format!(r#"h2=":{alt_port}"; ma=60"#).parse().unwrap();
    connector.set_alt_svc(ORIGIN, port, value.services(std::time::Instant::now()));
    let tls = Tls::new(Arc::new(ca.client_config(&["h2"]))).unwrap();

    let (conn, report) = connector.connect_tls_with_report((ORIGIN, port), &tls);
    let report = report.unwrap();
    let conn = conn.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(conn.transport(), Transport::Tcp, "{report}");
    assert_eq!(
        conn.endpoint().addr(),
        SocketAddr::new(V4, alt_port),
        "{report}"
    );
    assert!(
        matches!(conn.endpoint().provenance(), Provenance::AltSvc { .. }),
        "{report}"
    );
    // The alternative's group comes before the origin's plain address (HG17).
    assert_eq!(
        report.attempts()[0].endpoint.addr(),
        SocketAddr::new(V4, alt_port),
        "{report}"
    );
    // Logged when the server read the ClientHello, before it answered: the origin's name.
    assert_eq!(alt.sni(), [Some(ORIGIN.to_owned())]);
}
