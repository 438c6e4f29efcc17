//! `http` origins on the blocking driver (HEv3 V37, RFC 9460 §9.5): `connect_http` asks
//! the HTTPS query of the origin's `https` form; on protected DNS an origin with a
//! ServiceMode record is refused as `UpgradeToHttps` (connect again with TLS), one without
//! gets its plain TCP stream. Real loopback sockets; answers from a static resolver.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use eyeballs_blocking::{Config, Connector, Failure, FailureReason, ServiceRecord, StaticResolver};

const NAME: &str = "origin.eyeballs.test";

fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn connector(resolver: StaticResolver) -> Connector {
    Connector::builder()
        .resolver(resolver)
        .config(Config::default().protected_dns(true))
        .history(false)
        .build()
        .unwrap()
}

/// The origin's `https` form (a port other than 80 is itself) has a ServiceMode record:
/// the connect fails with `UpgradeToHttps` instead of returning a cleartext stream.
#[test]
fn an_origin_with_https_records_is_refused_for_an_upgrade() {
    let (_listener, port) = listener();
    let record = ServiceRecord::new(1, ".").alpn(["h2"]);
    let resolver = StaticResolver::new()
        .host(NAME, [Ipv4Addr::LOCALHOST.into()])
        .https(&format!("_{port}._https.{NAME}"), [record]);
    let err = connector(resolver).connect_http((NAME, port)).unwrap_err();
    let failure = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Failure<io::Error>>())
        .unwrap_or_else(|| panic!("a race failure: {err}"));
    assert_eq!(failure.reason(), FailureReason::UpgradeToHttps, "{err}");
}

/// Without HTTPS records the same connect returns the plain TCP stream.
#[test]
fn an_origin_without_https_records_gets_its_stream() {
    let (_listener, port) = listener();
    let resolver = StaticResolver::new().host(NAME, [Ipv4Addr::LOCALHOST.into()]);
    let stream = connector(resolver).connect_http((NAME, port)).unwrap();
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(stream.peer_addr().unwrap(), server);
}
