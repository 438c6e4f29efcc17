//! ureq 3 through eyeballs (feature `ureq`): an `Agent` whose connections are races, on
//! loopback. HTTPS: IPv6's TLS stalls, IPv4 wins after the attempt delay, the connection
//! is pooled and reused; HTTP: a plain TCP race; a certificate from another CA fails with
//! the library's sentence.
#![cfg(feature = "ureq")]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyeballs_blocking::{Connector, StaticResolver, UreqConnector};
use eyeballs_lab::loopback::{V4, V6};
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer};

const NAME: &str = "ureq.eyeballs.test";

fn connector() -> Connector {
    Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .build()
        .unwrap()
}

#[test]
fn https_requests_race_tcp_and_tls() {
    let ca = TestCa::new();
    let (port, mut listeners, _) = same_port(&[V6, V4], &[]).unwrap();
    let config = || ca.server_config(&[NAME], &["http/1.1"]);
    let v4 = TlsServer::start(listeners.pop().unwrap(), config(), TlsServe::Http).unwrap();
    let v6 = TlsServer::start(listeners.pop().unwrap(), config(), TlsServe::Stall).unwrap();
    let agent = UreqConnector::new(connector(), Arc::new(ca.client_config(&[])))
        .unwrap()
        .agent();
    let started = Instant::now();
    for path in ["/a", "/b"] {
        let mut response = agent
            .get(format!("https://{NAME}:{port}{path}"))
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.body_mut().read_to_string().unwrap(),
            format!("GET {path}")
        );
    }
    // IPv6 connected and stalled in TLS; IPv4 started after the attempt delay and won.
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(v6.handshakes(), 0);
    assert_eq!(
        v4.handshakes(),
        1,
        "the second request reused the connection"
    );
    assert_eq!(v4.alpn(), [Some(b"http/1.1".to_vec())]);
}

#[test]
fn http_requests_race_tcp() {
    let listener = TcpListener::bind((V4, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    // One connection, one request, then the server is done (bounded).
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        while reader.read_line(&mut String::new()).unwrap() > 2 {}
        let body = line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        write!(
            &stream,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    let agent = UreqConnector::new(connector(), Arc::new(TestCa::new().client_config(&[])))
        .unwrap()
        .agent();
    let mut response = agent
        .get(format!("http://{NAME}:{port}/plain"))
        .call()
        .unwrap();
    assert_eq!(response.body_mut().read_to_string().unwrap(), "GET /plain");
    server.join().unwrap();
}

#[test]
fn another_ca_fails_with_a_sentence() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let listener = TcpListener::bind((V4, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let _server = TlsServer::start(
        listener,
        other.server_config(&[NAME], &["http/1.1"]),
        TlsServe::Http,
    )
    .unwrap();
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V4]))
        .build()
        .unwrap();
    let agent = UreqConnector::new(connector, Arc::new(ca.client_config(&[])))
        .unwrap()
        .agent();
    let err = agent
        .get(format!("https://{NAME}:{port}/"))
        .call()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "TCP 127.0.0.1:{port} http/1.1: the server's certificate is not trusted"
        )),
        "{text}"
    );
}
