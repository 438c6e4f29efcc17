//! tokio, as eyeballs drives it: its clock, its timer and its sockets (and, with features,
//! tokio-rustls, quinn's tokio runtime and hickory's tokio provider). Written with nothing
//! but `eyeballs_net::runtime`, as any runtime can be.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use eyeballs_net::runtime::{Runtime, Timer};
use eyeballs_net::SocketOptions;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, Sleep};

/// The tokio runtime, as eyeballs drives it: [`Connector`](crate::Connector) is
/// `eyeballs_net::Connector<Tokio>`. It holds nothing: every race runs on the tokio
/// runtime that polls it, and reads tokio's clock (so tests with paused time see the race's
/// timers move).
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

/// tokio's timer, re-armed in place.
#[derive(Debug)]
pub struct TokioTimer(Pin<Box<Sleep>>);

impl Timer for TokioTimer {
    fn reset(&mut self, deadline: std::time::Instant) {
        self.0.as_mut().reset(Instant::from_std(deadline));
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Runtime for Tokio {
    type Tcp = TcpStream;
    type Timer = TokioTimer;
    type Connect = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

    fn now(&self) -> std::time::Instant {
        // tokio's clock, so that tests with paused time see the race's timers move.
        Instant::now().into_std()
    }

    fn timer(&self) -> TokioTimer {
        TokioTimer(Box::pin(tokio::time::sleep_until(Instant::now())))
    }

    fn connect(&self, addr: SocketAddr, options: &SocketOptions) -> Self::Connect {
        let socket = options.open(addr);
        Box::pin(async move {
            let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket?));
            socket.connect(addr).await
        })
    }
}

/// A TLS stream over TCP, as tokio-rustls makes it (feature `tls`).
#[cfg(feature = "tls")]
pub type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

#[cfg(feature = "tls")]
impl eyeballs_net::runtime::TlsRuntime for Tokio {
    type TlsStream = TlsStream;
    type Handshake = tokio_rustls::Connect<TcpStream>;

    fn handshake(
        &self,
        config: std::sync::Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
        tcp: TcpStream,
    ) -> Self::Handshake {
        tokio_rustls::TlsConnector::from(config).connect(name, tcp)
    }

    fn alpn(stream: &TlsStream) -> Option<&[u8]> {
        stream.get_ref().1.alpn_protocol()
    }

    #[cfg(feature = "quic")]
    fn quinn(&self) -> Option<std::sync::Arc<dyn quinn::Runtime>> {
        Some(std::sync::Arc::new(quinn::TokioRuntime))
    }
}

#[cfg(feature = "hickory")]
impl eyeballs_net::runtime::HickoryRuntime for Tokio {
    type Provider = hickory_resolver::net::runtime::TokioRuntimeProvider;

    fn provider() -> io::Result<Self::Provider> {
        Ok(Self::Provider::default())
    }
}
