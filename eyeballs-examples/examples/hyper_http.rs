//! hyper-util's legacy `Client` over `eyeballs_tokio::HttpConnector` (feature `hyper`):
//! every new connection is a race. A hyper server answers on 127.0.0.1; `::1` refuses.
// An example prints what happened.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;

use bytes::Bytes;
use eyeballs_lab::loopback::{V4, V6};
use eyeballs_tokio::{Connector, HttpConnector, StaticResolver};
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind((V4, 0)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service =
                hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let body = format!("hello from {}", req.uri().path());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });

    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("http.example.test", [V6, V4]))
        .build()?;
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new(connector));
    let response = client
        .get(format!("http://http.example.test:{port}/eyeballs").parse()?)
        .await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    println!("{status}: {}", String::from_utf8_lossy(&body));
    assert_eq!(body, "hello from /eyeballs");
    Ok(())
}
