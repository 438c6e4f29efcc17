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
