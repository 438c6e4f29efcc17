//! HTTPS with hyper-util's `Client` over `eyeballs_tokio::HttpsConnector` (features
//! `hyper`, `tls`, `ring`, `platform-verifier`): each connection is a TLS-aware race (an
//! attempt counts once its TLS handshake is done), and `h2` makes hyper speak HTTP/2.
//! The client trusts the platform's roots plus a test CA's, which issued the loopback
//! server's certificate. (`HttpsConnector::platform(&["h2", "http/1.1"])` is the one-call
//! form for real hosts.)
// An example prints what happened.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use bytes::Bytes;
use eyeballs_lab::loopback::V4;
use eyeballs_lab::tls::TestCa;
use eyeballs_tokio::{Connector, HttpsConnector, StaticResolver};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

const NAME: &str = "https.example.test";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ca = TestCa::new();
    let acceptor =
        tokio_rustls::TlsAcceptor::from(Arc::new(ca.server_config(&[NAME], &["h2", "http/1.1"])));
    let listener = tokio::net::TcpListener::bind((V4, 0)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(|req: hyper::Request<_>| async move {
                    let body = format!("{:?} {}", req.version(), req.uri().path());
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from(
                        body,
                    ))))
                });
                // The client offers h2 first, and the server chose it.
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });

    // The platform's roots, and the test CA's besides.
    let mut config = eyeballs_tokio::platform_client_config([ca.root()])?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host(NAME, [V4]))
        .build()?;
    let https = HttpsConnector::new(connector, Arc::new(config))?;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let response = client
        .get(format!("https://{NAME}:{port}/tls").parse()?)
        .await?;
    let version = response.version();
    let body = response.into_body().collect().await?.to_bytes();
    println!("{version:?}: {}", String::from_utf8_lossy(&body));
    assert_eq!(body, "HTTP/2.0 /tls");
    Ok(())
}
