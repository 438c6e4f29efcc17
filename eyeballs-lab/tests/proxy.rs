//! The lab's loopback proxies (HEv3 V60) with a plain std client: they forward to the
//! names the test maps, and only those; they refuse and stall as told.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use eyeballs_lab::loopback::V4;
use eyeballs_lab::proxy::{ProxyServe, ProxyServer};
use eyeballs_net::ProxyKind;

/// An origin on 127.0.0.1 that echoes one message, on a thread of its own.
fn echo_origin() -> SocketAddr {
    let listener = TcpListener::bind((V4, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 64];
            if let Ok(n) = s.read(&mut buf) {
                let _ = s.write_all(&buf[..n]);
            }
        }
    });
    addr
}

fn proxy(kind: ProxyKind, serve: ProxyServe) -> ProxyServer {
    let listener = TcpListener::bind((V4, 0)).unwrap();
    ProxyServer::start(kind, listener, &[("origin.test", V4)], serve).unwrap()
}

fn client(proxy: &ProxyServer) -> TcpStream {
    let s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn read_answer(s: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
        answer.push(byte[0]);
    }
    String::from_utf8(answer).unwrap()
}

#[test]
fn http_connect_resolves_through_the_map_and_forwards() {
    let origin = echo_origin();
    let p = proxy(ProxyKind::HttpConnect, ProxyServe::Tunnel);
    let mut s = client(&p);
    let target = format!("origin.test:{}", origin.port());
    write!(s, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").unwrap();
    assert!(read_answer(&mut s).starts_with("HTTP/1.1 200 "));
    s.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    assert_eq!(p.requests(), vec![target]);
}

#[test]
fn an_unmapped_name_is_refused_never_resolved() {
    let p = proxy(ProxyKind::HttpConnect, ProxyServe::Tunnel);
    let mut s = client(&p);
    write!(
        s,
        "CONNECT localhost:80 HTTP/1.1\r\nHost: localhost:80\r\n\r\n"
    )
    .unwrap();
    assert!(read_answer(&mut s).starts_with("HTTP/1.1 502 "));
}

#[test]
fn socks5_resolves_the_domain_name_through_the_map() {
    let origin = echo_origin();
    let p = proxy(ProxyKind::Socks5, ProxyServe::Tunnel);
    let mut s = client(&p);
    s.write_all(&[5, 1, 0]).unwrap();
    let mut method = [0u8; 2];
    s.read_exact(&mut method).unwrap();
    assert_eq!(method, [5, 0]);
    let mut req = vec![5, 1, 0, 3, 11];
    req.extend_from_slice(b"origin.test");
    req.extend_from_slice(&origin.port().to_be_bytes());
    s.write_all(&req).unwrap();
    let mut reply = [0u8; 10];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply[..2], [5, 0]);
    s.write_all(b"pong").unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pong");
}

#[test]
fn refuse_and_stall_answer_as_told() {
    let p = proxy(ProxyKind::HttpConnect, ProxyServe::Refuse(407));
    let mut s = client(&p);
    write!(s, "CONNECT origin.test:1 HTTP/1.1\r\n\r\n").unwrap();
    assert!(read_answer(&mut s).starts_with("HTTP/1.1 407 Proxy Authentication Required"));

    let p = proxy(ProxyKind::HttpConnect, ProxyServe::Stall);
    let mut s = client(&p);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    write!(s, "CONNECT origin.test:1 HTTP/1.1\r\n\r\n").unwrap();
    let mut byte = [0u8; 1];
    let err = s.read(&mut byte).unwrap_err();
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    assert_eq!(p.requests(), vec!["origin.test:1"]);
}

#[test]
fn names_must_map_to_loopback() {
    let listener = TcpListener::bind((V4, 0)).unwrap();
    let ip = "192.0.2.1".parse().unwrap();
    let err = ProxyServer::start(
        ProxyKind::Socks5,
        listener,
        &[("x.test", ip)],
        ProxyServe::Tunnel,
    )
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
