//! async-io, as eyeballs drives it (for async-std and smol): its clock, its timer, its
//! sockets (and, with features, futures-rustls and hickory's async-io provider). Written
//! with nothing but `eyeballs_net::runtime`, as any runtime can be.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::{Async, Timer};
use async_net::TcpStream;
use eyeballs_net::runtime::{finish_connect, start_connect, Runtime};
use eyeballs_net::SocketOptions;

/// The async-io reactor, as eyeballs drives it (for async-std and smol):
/// [`Connector`](crate::Connector) is `eyeballs_net::Connector<AsyncIo>`. It holds nothing:
/// sockets and timers are async-io's, whose reactor async-std and smol share (driven by
/// whichever thread waits in `block_on`, or by async-io's own thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncIo;

/// async-io's timer, re-armed in place.
#[derive(Debug)]
pub struct AsyncIoTimer(Timer);

impl eyeballs_net::runtime::Timer for AsyncIoTimer {
    fn reset(&mut self, deadline: Instant) {
        self.0.set_at(deadline);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl Runtime for AsyncIo {
    type Tcp = TcpStream;
    type Timer = AsyncIoTimer;
    type Connect = AsyncIoConnect;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn timer(&self) -> AsyncIoTimer {
        AsyncIoTimer(Timer::never())
    }

    fn connect(&self, addr: SocketAddr, options: &SocketOptions) -> Self::Connect {
        let mut connected = false;
        let stream = options.open(addr).and_then(|socket| {
            start_connect(&socket, addr)?;
            // On loopback the handshake is often over before `connect` returns: a peer now
            // (a socket has one only once it is connected) saves the wait for writability
            // and the checks after it.
            connected = socket.peer_addr().is_ok();
            // `open` made it non-blocking already: no second system call for that.
            Async::new_nonblocking(std::net::TcpStream::from(socket))
        });
        // A stream that could not be registered keeps its error for the first poll.
        let connected = connected && stream.is_ok();
        AsyncIoConnect {
            stream: Some(stream),
            connected,
        }
    }

    fn poll_read_tcp(
        tcp: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        futures_lite::io::AsyncRead::poll_read(Pin::new(tcp), cx, buf)
    }

    fn poll_write_tcp(
        tcp: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_lite::io::AsyncWrite::poll_write(Pin::new(tcp), cx, buf)
    }
}

/// A TCP connect on async-io's reactor: connected when it had a peer as `connect` returned,
/// or else once writable with no `SO_ERROR` and a peer; a named future, so a connect
/// allocates no box for it.
#[derive(Debug)]
pub struct AsyncIoConnect {
    stream: Option<io::Result<Async<std::net::TcpStream>>>,
    /// It had a peer as `connect` returned: ready at the first poll.
    connected: bool,
}

impl Future for AsyncIoConnect {
    type Output = io::Result<TcpStream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.connected {
            if let Some(Ok(stream)) = self.stream.take() {
                return Poll::Ready(Ok(TcpStream::from(stream)));
            }
        }
        loop {
            let stream = match self.stream.as_ref() {
                Some(Ok(stream)) => stream,
                _ => {
                    let done = self.stream.take();
                    let error = match done {
                        Some(Err(e)) => e,
                        _ => io::Error::other("polled after the end"),
                    };
                    return Poll::Ready(Err(error));
                }
            };
            std::task::ready!(stream.poll_writable(cx))?;
            // Writable without an error but with no peer is a spurious wake-up.
            match finish_connect(stream.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
                Err(e) => {
                    self.stream = None;
                    return Poll::Ready(Err(e));
                }
                Ok(()) => {
                    let Some(Ok(stream)) = self.stream.take() else {
                        unreachable!("checked above")
                    };
                    return Poll::Ready(Ok(TcpStream::from(stream)));
                }
            }
        }
    }
}

/// A TLS stream over TCP, as futures-rustls makes it (feature `tls`).
#[cfg(feature = "tls")]
pub type TlsStream = futures_rustls::client::TlsStream<TcpStream>;

#[cfg(feature = "tls")]
impl eyeballs_net::runtime::TlsRuntime for AsyncIo {
    type TlsStream = TlsStream;
    type Handshake = futures_rustls::Connect<TcpStream>;

    fn handshake(
        &self,
        config: std::sync::Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
        tcp: TcpStream,
    ) -> Self::Handshake {
        futures_rustls::TlsConnector::from(config).connect(name, tcp)
    }

    fn alpn(stream: &TlsStream) -> Option<&[u8]> {
        stream.get_ref().1.alpn_protocol()
    }

    #[cfg(feature = "quic")]
    fn quic(&self) -> Option<&dyn eyeballs_net::runtime::QuicRuntime> {
        Some(self)
    }
}

/// QUIC on async-io (feature `quic`): quinn's tasks on eyeballs-net's `eyeballs-quic`
/// thread ([`AsyncIoQuinn`](eyeballs_net::AsyncIoQuinn)), sockets on async-io's reactor.
#[cfg(feature = "quic")]
impl eyeballs_net::runtime::QuicRuntime for AsyncIo {
    fn quinn(&self) -> io::Result<std::sync::Arc<dyn eyeballs_net::quinn::Runtime>> {
        Ok(std::sync::Arc::new(eyeballs_net::AsyncIoQuinn::new()?))
    }

    fn udp(
        &self,
        socket: std::net::UdpSocket,
    ) -> io::Result<Box<dyn eyeballs_net::runtime::UdpIo>> {
        Ok(Box::new(Async::new_nonblocking(socket)?))
    }
}

#[cfg(feature = "hickory")]
impl eyeballs_net::runtime::HickoryRuntime for AsyncIo {
    type Provider = eyeballs_net::AsyncIoRuntimeProvider;

    fn provider() -> io::Result<Self::Provider> {
        eyeballs_net::AsyncIoRuntimeProvider::new()
    }
}
