//! A connector for hyper-util's legacy `Client` (feature `hyper`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::connector::{Connector, Runtime};
use crate::drive::AsyncIo;

/// A tokio `Connector` is a `tower_service::Service<http::Uri>`, so hyper-util's legacy
/// `Client` connects through Happy Eyeballs (feature `hyper`, which `eyeballs-tokio`'s
/// `hyper` feature turns on; its crate docs show a `Client` built on it).
///
/// The port defaults to 443 for `https` and 80 otherwise. TLS is the caller's layer (wrap
/// this connector as you would hyper-util's `HttpConnector`).
impl<R> tower_service::Service<http::Uri> for Connector<R>
where
    R: Runtime,
    R::Io: AsyncIo<Stream = TcpStream>,
{
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
