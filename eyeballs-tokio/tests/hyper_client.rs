//! A real hyper client through the eyeballs connector against a real hyper server on
//! loopback (feature `hyper`).
#![cfg(feature = "hyper")]
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use eyeballs_lab::loopback::{V4, V6};
use eyeballs_tokio::{Connector, StaticResolver};

#[tokio::test]
async fn hyper_client_connects_through_eyeballs() {
    let listener = TcpListener::bind((V4, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                let body = format!("hello {}", req.uri().path());
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    // IPv6 refuses on this port (nothing listens on ::1), so the race falls back to IPv4.
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("web.eyeballs.test", [V6, V4]))
        .build()
        .unwrap();
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(eyeballs_tokio::HttpConnector::new(connector));
    for path in ["/a", "/b"] {
        let uri = format!("http://web.eyeballs.test:{port}{path}")
            .parse()
            .unwrap();
        let response = client.get(uri).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("hello {path}"));
    }
    // An IP literal is a new pool key, so a second connection, without DNS.
    let literal = format!("http://127.0.0.1:{port}/c").parse().unwrap();
    let body = client
        .get(literal)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap();
    assert_eq!(body.to_bytes(), "hello /c");
    server.abort();
}

/// HEv3 §11 (V37), RFC 9460 §9.5 on protected DNS: an `http` origin whose `https` form has
/// an HTTPS record is not connected in cleartext: the request fails with
/// `FailureReason::UpgradeToHttps` (this connector has no TLS to upgrade to), and the
/// server never sees its request; an origin without a record is connected as before.
#[tokio::test]
async fn http_on_protected_dns_refuses_cleartext_to_an_origin_with_https_records() {
    use eyeballs_tokio::{Config, Failure, FailureReason, FamilyPolicy, ServiceRecord};

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let listener = TcpListener::bind((V4, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Counts the requests it serves, whatever their Host.
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let server = tokio::spawn(async move {
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            let counter = counter.clone();
            let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("plain")))) }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    let resolver = StaticResolver::new()
        .host("secure.eyeballs.test", [V4])
        .host("plain.eyeballs.test", [V4])
        .https(
            &format!("_{port}._https.secure.eyeballs.test"),
            [ServiceRecord::new(1, ".").alpn(["http/1.1"])],
        );
    let connector = Connector::builder()
        .resolver(resolver)
        .config(
            Config::default()
                .protected_dns(true)
                .family_policy(FamilyPolicy::V4Only),
        )
        .build()
        .unwrap();
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(eyeballs_tokio::HttpConnector::new(connector));
    let secure = format!("http://secure.eyeballs.test:{port}/")
        .parse()
        .unwrap();
    let error = client.get(secure).await.unwrap_err();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut reason = None;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            let failure = io
                .get_ref()
                .and_then(|i| i.downcast_ref::<Failure<std::io::Error>>());
            reason = reason.or(failure.map(Failure::reason));
        }
        source = e.source();
    }
    assert_eq!(reason, Some(FailureReason::UpgradeToHttps), "{error:?}");
    let plain = format!("http://plain.eyeballs.test:{port}/")
        .parse()
        .unwrap();
    let response = client.get(plain).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "plain");
    // The one request the server saw was the plain origin's.
    assert_eq!(served.load(Ordering::SeqCst), 1);
    server.abort();
}
