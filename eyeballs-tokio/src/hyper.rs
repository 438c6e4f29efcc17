//! A connector for hyper-util's legacy `Client` (feature `hyper`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::Connector;

/// hyper-util's legacy `Client` connector that races with Happy Eyeballs (feature `hyper`):
/// a `tower_service::Service<http::Uri>`, the eyeballs stand-in for hyper-util's own
/// `HttpConnector`.
///
/// The port defaults to 443 for `https` and 80 otherwise. TLS is the caller's layer (wrap
/// it as you would hyper-util's `HttpConnector`, say with hyper-rustls'
/// `HttpsConnectorBuilder::wrap_connector`), or use [`HttpsConnector`](crate::HttpsConnector)
/// (features `hyper` and `tls`), whose race counts the TLS handshake (HEv3 §6.1) and
/// races the origin's alternative services (`Alt-Svc`). This one races none: nothing in a
/// plain TCP race checks that an alternative speaks for the origin (RFC 7838 §2.1).
///
/// With `Config::protected_dns(true)`, an `http` URI is raced with
/// [`Connector::connect_http`] (HEv3 §11, V37): no stream, so no cleartext, before the HTTPS
/// answer of the origin's `https` form; when it has a record, the connect fails with
/// `FailureReason::UpgradeToHttps` inside the `io::Error`, since this connector has no TLS:
/// [`HttpsConnector`](crate::HttpsConnector) follows the upgrade.
///
/// # Examples
///
/// ```no_run
/// use bytes::Bytes;
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use eyeballs_tokio::HttpConnector;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client: Client<_, Empty<Bytes>> =
///     Client::builder(TokioExecutor::new()).build(HttpConnector::default());
/// let response = client.get("http://localhost:8080/".parse()?).await?;
/// println!("{}", response.status());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct HttpConnector {
    connector: Connector,
}

impl HttpConnector {
    /// Races with `connector`'s settings, resolver and history.
    pub fn new(connector: Connector) -> Self {
        HttpConnector { connector }
    }
}

impl From<Connector> for HttpConnector {
    fn from(connector: Connector) -> Self {
        HttpConnector::new(connector)
    }
}

impl tower_service::Service<http::Uri> for HttpConnector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connector = self.connector.clone();
        Box::pin(async move {
            let host = uri.host().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("{uri} has no host"))
            })?;
            let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                Some("https") => 443,
                _ => 80,
            });
            let http = uri.scheme_str() != Some("https");
            let stream = match http && connector.config().is_protected_dns() {
                true => connector.connect_http((host, port)).await?,
                false => connector.connect((host, port)).await?,
            };
            Ok(TokioIo::new(stream))
        })
    }
}
