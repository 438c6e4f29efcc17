//! Real HTTPS requests through hyper-util's legacy `Client` and the eyeballs
//! `HttpsConnector` against a hyper server behind tokio-rustls on loopback, with a test CA
//! (features `hyper` and `tls`).
#![cfg(all(feature = "hyper", feature = "tls"))]
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::service::service_fn;
use hyper::{Request, Response, Version};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use eyeballs_lab::loopback::{V4, V6};
use eyeballs_lab::tls::{same_port, TestCa, TlsServe, TlsServer};
use eyeballs_tokio::{Connector, HttpsConnector, StaticResolver, TlsConfigError};

const NAME: &str = "www.eyeballs.test";

/// Serves HTTPS on `listener` (HTTP/2 when the client chose `h2`, else HTTP/1.1): the body
/// names the path and the version.
async fn serve_https(listener: std::net::TcpListener, ca: &TestCa) -> tokio::task::JoinHandle<()> {
    listener.set_nonblocking(true).unwrap();
    let listener = TcpListener::from_std(listener).unwrap();
    let config = ca.server_config(&[NAME], &["h2", "http/1.1"]);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        // Bounded: the test makes a handful of connections.
        for _ in 0..16 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let body = format!("{} {:?}", req.uri().path(), req.version());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                });
                let io = TokioIo::new(tls);
                let _ = match h2 {
                    true => {
                        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await
                    }
                    false => {
                        hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await
                    }
                };
            });
        }
    })
}

fn https(ca: &TestCa, alpn: &[&str]) -> HttpsConnector {
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V6, V4]))
        .history(false)
        .build()
        .unwrap();
    HttpsConnector::new(connector, Arc::new(ca.client_config(alpn))).unwrap()
}

async fn get(client: &Client<HttpsConnector, Empty<Bytes>>, uri: &str) -> (Version, String) {
    let response = client.get(uri.parse().unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    let version = response.version();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (version, String::from_utf8(body.to_vec()).unwrap())
}

/// IPv6 accepts TCP but never answers TLS; IPv4 is a real HTTPS server. The race counts TLS
/// (IPv6's TCP connect is not enough), so hyper gets the IPv4 connection, speaks HTTP/2
/// when `h2` was negotiated and HTTP/1.1 when only `http/1.1` was offered, and reuses the
/// pooled connection for a second request.
#[tokio::test]
async fn https_requests_go_through_a_tls_aware_race() {
    let ca = TestCa::new();
    let (port, mut listeners, _) = same_port(&[V6, V4], &[]).unwrap();
    let v4 = listeners.pop().unwrap();
    let stalled = TlsServer::start(
        listeners.pop().unwrap(),
        ca.server_config(&[NAME], &["h2"]),
        TlsServe::Stall,
    )
    .unwrap();
    let server = serve_https(v4, &ca).await;

    let h2: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(https(&ca, &["h2", "http/1.1"]));
    for path in ["/a", "/b"] {
        let (version, body) = get(&h2, &format!("https://{NAME}:{port}{path}")).await;
        assert_eq!(version, Version::HTTP_2);
        assert_eq!(body, format!("{path} HTTP/2.0"));
    }
    let h1: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(https(&ca, &["http/1.1"]));
    let (version, body) = get(&h1, &format!("https://{NAME}:{port}/c")).await;
    assert_eq!(version, Version::HTTP_11);
    assert_eq!(body, "/c HTTP/1.1");
    // Each client's first race tried IPv6 first; its TLS never came, so IPv4 won.
    assert_eq!(stalled.accepted(), 2);
    assert_eq!(stalled.handshakes(), 0);
    server.abort();
}

/// A certificate the client does not trust: the request fails, and the error says which
/// endpoint refused and why.
#[tokio::test]
async fn an_untrusted_certificate_fails_the_request() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let listener = std::net::TcpListener::bind(SocketAddr::new(V4, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_https(listener, &other).await;
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(https(&ca, &["http/1.1"]));
    let err = client
        .get(format!("https://{NAME}:{port}/").parse().unwrap())
        .await
        .unwrap_err();
    let source = std::error::Error::source(&err)
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        source.contains(&format!(
            "TCP 127.0.0.1:{port} http/1.1: the server's certificate is not trusted: its \
             signature does not verify"
        )),
        "{source}"
    );
    assert_eq!(source.matches("127.0.0.1").count(), 1, "{source}");
    server.abort();
}

/// Only `h3` (hyper does not speak HTTP/3): no TCP id, refused when built.
#[test]
fn an_h3_only_config_is_refused() {
    let ca = TestCa::new();
    let err = HttpsConnector::new(Connector::default(), Arc::new(ca.client_config(&["h3"])));
    assert_eq!(err.unwrap_err(), TlsConfigError::NoAlpn);
}

/// `Alt-Svc` through hyper (RFC 7838): the origin's port stalls its TLS handshakes; after
/// `remember_alt_svc` with a response's `Alt-Svc: http/1.1=":PORT"`, the next request races
/// the alternative (its own group, first) and is answered there, its certificate checked
/// against the origin's name. `clear` forgets it; an `http` URI and a bad value change
/// nothing, the latter with an error naming the place.
#[tokio::test]
async fn alt_svc_headers_send_requests_to_the_alternative() {
    let ca = TestCa::new();
    let origin = std::net::TcpListener::bind(SocketAddr::new(V4, 0)).unwrap();
    let port = origin.local_addr().unwrap().port();
    let stalled = TlsServer::start(
        origin,
        ca.server_config(&[NAME], &["http/1.1"]),
        TlsServe::Stall,
    )
    .unwrap();
    let alt = std::net::TcpListener::bind(SocketAddr::new(V4, 0)).unwrap();
    let alt_port = alt.local_addr().unwrap().port();
    let alt = TlsServer::start(
        alt,
        ca.server_config(&[NAME], &["http/1.1"]),
        TlsServe::Http,
    )
    .unwrap();
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V4]))
        .history(false)
        .build()
        .unwrap();
    let https = HttpsConnector::new(connector, Arc::new(ca.client_config(&["http/1.1"]))).unwrap();
    let uri: http::Uri = format!("https://{NAME}:{port}/a").parse().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::ALT_SVC,
        format!(r#"http%2F1.1=":{alt_port}"; ma=60"#)
            .parse()
            .unwrap(),
    );
    let http_uri: http::Uri = format!("http://{NAME}:{port}/").parse().unwrap();
    https.remember_alt_svc(&http_uri, &headers).unwrap();
    assert!(https.connector().alt_svc(NAME, port).is_empty());
    https.remember_alt_svc(&uri, &headers).unwrap();
    assert_eq!(https.connector().alt_svc(NAME, port)[0].port(), alt_port);

    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(https.clone());
    let response = client.get(uri.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(alt.handshakes(), 1);
    assert_eq!(stalled.handshakes(), 0);

    // `ma` counts from the response's generation: with `Age: 61`, `ma=60` has expired.
    let mut aged = headers.clone();
    aged.insert(http::header::AGE, "61".parse().unwrap());
    https.remember_alt_svc(&uri, &aged).unwrap();
    let now = tokio::time::Instant::now().into_std();
    let expiry = https.connector().alt_svc(NAME, port)[0].expiry().unwrap();
    assert!(expiry < now, "{expiry:?} {now:?}");
    https.remember_alt_svc(&uri, &headers).unwrap();
    let expiry = https.connector().alt_svc(NAME, port)[0].expiry().unwrap();
    assert!(expiry > now, "{expiry:?} {now:?}");

    let mut bad = http::HeaderMap::new();
    bad.insert(http::header::ALT_SVC, "h2=443".parse().unwrap());
    let err = https.remember_alt_svc(&uri, &bad).unwrap_err();
    assert!(err.to_string().contains("at byte 3"), "{err}");
    assert_eq!(https.connector().alt_svc(NAME, port).len(), 1);
    headers.insert(http::header::ALT_SVC, "clear".parse().unwrap());
    https.remember_alt_svc(&uri, &headers).unwrap();
    assert!(https.connector().alt_svc(NAME, port).is_empty());
}

/// HEv3 §11 (V37), RFC 9460 §9.5 on protected DNS (`Config::protected_dns`), through the
/// lab's DNS server and hickory (feature `hickory`):
/// - `http://NAME:P/`, whose `https` form has a record (`_P._https.NAME`, 1 . alpn=http/1.1):
///   the connection is upgraded to TLS to port P, where only an HTTPS server listens, and
///   the request is answered there;
/// - `http://NAME:Q/`, whose `https` form has no record, the answer 300 ms late: the request
///   goes in cleartext to the HTTP server on port Q, and its first byte reaches the server
///   no sooner than the answer, 300 ms after the query (which follows the request's start),
///   although TCP was up after the 50 ms Resolution Delay; without the hold the request
///   would follow at once. The bound is causal, so a loaded machine cannot break it.
#[cfg(feature = "hickory")]
#[tokio::test]
async fn v37_http_on_protected_dns_waits_for_the_https_answer_and_upgrades() {
    use std::time::Duration;

    use eyeballs_lab::dns::{https as record, param, DnsServer, RecordType, Reply, Zone};
    use eyeballs_tokio::HickoryResolver;
    use tokio::io::AsyncReadExt;

    let ca = TestCa::new();
    let tls_listener = std::net::TcpListener::bind((V4, 0)).unwrap();
    let tls_port = tls_listener.local_addr().unwrap().port();
    let tls_server = serve_https(tls_listener, &ca).await;
    let plain = TcpListener::bind((V4, 0)).await.unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    // Accepts one connection, reads the request's first bytes, answers, and reports when
    // the first byte came.
    let plain_server = tokio::spawn(async move {
        let (mut stream, _) = plain.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.unwrap();
        let first_byte = tokio::time::Instant::now();
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        use tokio::io::AsyncWriteExt;
        let body = "plain";
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await.unwrap();
        (first_byte, head)
    });
    let zone = Zone::default()
        .set(NAME, RecordType::A, Reply::Addrs(Duration::ZERO, vec![V4]))
        .set(
            &format!("_{tls_port}._https.{NAME}"),
            RecordType::HTTPS,
            Reply::Https(
                Duration::ZERO,
                vec![record(1, ".", vec![param::alpn(&["http/1.1"])])],
            ),
        )
        .set(
            &format!("_{plain_port}._https.{NAME}"),
            RecordType::HTTPS,
            Reply::Https(Duration::from_millis(300), vec![]),
        );
    let dns = DnsServer::start(zone);
    let connector = Connector::builder()
        .resolver(HickoryResolver::with_name_servers(&[dns.addr]).unwrap())
        .config(
            eyeballs_tokio::Config::default()
                .protected_dns(true)
                .family_policy(eyeballs_tokio::FamilyPolicy::V4Only)
                .timeout(Some(Duration::from_secs(10))),
        )
        .history(false)
        .build()
        .unwrap();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .build(HttpsConnector::new(connector, Arc::new(ca.client_config(&["http/1.1"]))).unwrap());

    let (version, body) = get(&client, &format!("http://{NAME}:{tls_port}/up")).await;
    assert_eq!((version, body.as_str()), (Version::HTTP_11, "/up HTTP/1.1"));

    let asked = tokio::time::Instant::now();
    let response = client
        .get(format!("http://{NAME}:{plain_port}/plain").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"plain");
    let (first_byte, head) = tokio::time::timeout(Duration::from_secs(10), plain_server)
        .await
        .unwrap()
        .unwrap();
    assert!(head.starts_with("GET /plain HTTP/1.1"), "{head}");
    let waited = first_byte.saturating_duration_since(asked);
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    tls_server.abort();
}
