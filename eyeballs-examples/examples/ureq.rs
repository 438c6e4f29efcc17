//! ureq 3 over eyeballs (eyeballs-blocking, feature `ureq`): an `Agent` whose connections
//! are Happy Eyeballs races, TCP+TLS for `https` (an attempt counts once its TLS
//! handshake is done). An HTTPS server (a test CA's certificate) answers on 127.0.0.1;
//! `::1` refuses. `UreqConnector::platform()` is the one-call form for real hosts.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use eyeballs_blocking::{Connector, StaticResolver, UreqConnector};
use eyeballs_lab::loopback::{V4, V6};
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer};

const NAME: &str = "ureq.example.test";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ca = TestCa::new();
    let (port, mut listeners, _) = same_port(&[V4], &[])?;
    let _server = TlsServer::start(
        listeners.remove(0),
        ca.server_config(&[NAME], &["http/1.1"]),
        TlsServe::Http,
    )?;
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .build()?;
    let agent = UreqConnector::new(connector, Arc::new(ca.client_config(&[])))?.agent();
    let mut response = agent.get(format!("https://{NAME}:{port}/ureq")).call()?;
    let body = response.body_mut().read_to_string()?;
    println!("{}: {body}", response.status());
    assert_eq!(body, "GET /ureq");
    Ok(())
}
