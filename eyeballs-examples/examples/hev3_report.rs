//! Happy Eyeballs v3 with TLS and QUIC (eyeballs-tokio, features `tls` and `quic`), and
//! the race's report.
//!
//! QUIC is raced only for endpoints whose HTTPS record offers a QUIC id (`h3`): the
//! record comes from the resolver, so a real host needs the hickory resolver
//! (`HickoryResolver`, feature `hickory`; `getaddrinfo` cannot ask for HTTPS records).
//! Here a static resolver answers the record `1 . alpn=h3,h2` for `hev3.example.test`,
//! and 127.0.0.1 runs a QUIC server (h3) and a TLS server (h2) on the same port: QUIC goes
//! first, as the record asks, and TCP follows 50 ms later (`TCP_AFTER_QUIC_DELAY`, HEv3
//! V29). On an idle machine QUIC's loopback handshake is over long before that and QUIC
//! wins; on a loaded one TCP+TLS may, which is the race doing its job, so the example
//! checks the order of the starts, not the winner.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::{same_port, QuicServe, QuicServer, TestCa, TlsServe, TlsServer};
use eyeballs_tokio::{Connector, ServiceRecord, StaticResolver, Tls, Transport};

const NAME: &str = "hev3.example.test";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ca = TestCa::new();
    let (port, mut listeners, mut sockets) = same_port(&[V4], &[V4])?;
    let _tls = TlsServer::start(
        listeners.remove(0),
        ca.server_config(&[NAME], &["h2"]),
        TlsServe::Echo,
    )?;
    let _quic = QuicServer::start(
        sockets.remove(0),
        ca.server_config(&[NAME], &["h3"]),
        QuicServe::Echo,
    )?;

    // The HTTPS query for a port other than 443 asks `_PORT._https.NAME` (RFC 9460 §9.1).
    let resolver = StaticResolver::new().host(NAME, [V4]).https(
        &format!("_{port}._https.{NAME}"),
        [ServiceRecord::new(1, ".").alpn(["h3", "h2"])],
    );
    let connector = Connector::builder().resolver(resolver).build()?;
    // A real client would use Tls::platform(&["h3", "h2", "http/1.1"]).
    let tls = Tls::new(Arc::new(ca.client_config(&["h3", "h2"])))?;
    let (connection, report) = connector.connect_tls_with_report((NAME, port), &tls).await;
    let report = report.expect("the race started");
    println!("{report}");
    let connection = connection?;
    println!(
        "won: {} with ALPN {}",
        connection.endpoint(),
        connection
            .alpn()
            .map_or("none".to_owned(), ToString::to_string)
    );
    let attempts = report.attempts();
    let quic = attempts.first().expect("an attempt started");
    assert_eq!(
        quic.endpoint.transport(),
        Transport::Quic,
        "QUIC starts first"
    );
    if let Some(tcp) = attempts.get(1) {
        assert_eq!(tcp.endpoint.transport(), Transport::Tcp);
        assert!(tcp.started >= quic.started, "TCP follows QUIC");
    }
    Ok(())
}
