//! A connector for hyper-util's legacy `Client` (feature `hyper`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::connector::Connector;

/// A `Connector` is a `tower_service::Service<http::Uri>`, so hyper-util's legacy `Client`
/// connects through Happy Eyeballs (feature `hyper`).
///
/// The port defaults to 443 for `https` and 80 otherwise. TLS is the caller's layer (wrap
/// this connector as you would hyper-util's `HttpConnector`, say with hyper-rustls'
/// `HttpsConnectorBuilder::wrap_connector`).
///
/// # Examples
///
/// ```no_run
/// use bytes::Bytes;
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client: Client<_, Empty<Bytes>> =
///     Client::builder(TokioExecutor::new()).build(eyeballs_tokio::Connector::default());
/// let response = client.get("http://localhost:8080/".parse()?).await?;
/// println!("{}", response.status());
/// # Ok(())
/// # }
/// ```
impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connector = self.clone();
        Box::pin(async move {
            let host = uri.host().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("{uri} has no host"))
            })?;
            let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                Some("https") => 443,
                _ => 80,
            });
            let stream = connector.connect((host, port)).await?;
            Ok(TokioIo::new(stream))
        })
    }
}
