//! tokio, as eyeballs drives it: its clock, its timer and its sockets (and, with features,
//! tokio-rustls, quinn's tokio runtime and hickory's tokio provider). Written with nothing
//! but `eyeballs_net::runtime`, as any runtime can be.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use eyeballs_net::runtime::{finish_connect, start_connect, Runtime, Timer};
use eyeballs_net::SocketOptions;
use tokio::io::Interest;
use tokio::net::TcpStream;
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
    type Connect = TokioConnect;

    fn now(&self) -> std::time::Instant {
        // tokio's clock, so that tests with paused time see the race's timers move.
        Instant::now().into_std()
    }

    fn timer(&self) -> TokioTimer {
        TokioTimer(Box::pin(tokio::time::sleep_until(Instant::now())))
    }

    fn connect(&self, addr: SocketAddr, options: &SocketOptions) -> Self::Connect {
        let mut connected = false;
        let stream = options.open(addr).and_then(|socket| {
            start_connect(&socket, addr)?;
            // On loopback the kernel often ends the handshake inside `connect`: a peer now (a
            // socket has one only once connected) spares the wait for the reactor's wake-up.
            connected = socket.peer_addr().is_ok();
            // Registered with the reactor of the runtime this runs on.
            TcpStream::from_std(std::net::TcpStream::from(socket))
        });
        // A stream that could not be registered keeps its error for the first poll.
        let connected = connected && stream.is_ok();
        TokioConnect {
            stream: Some(stream),
            connected,
        }
    }

    fn poll_read_tcp(
        tcp: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = tokio::io::ReadBuf::new(buf);
        tokio::io::AsyncRead::poll_read(Pin::new(tcp), cx, &mut buf).map_ok(|()| buf.filled().len())
    }

    fn poll_write_tcp(
        tcp: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(tcp), cx, buf)
    }
}

/// A TCP connect on tokio's reactor: established at the first poll when it had a peer as
/// `connect` returned; otherwise writable, then `SO_ERROR` and a peer. A named future, so a
/// connect allocates no box for it.
#[derive(Debug)]
pub struct TokioConnect {
    stream: Option<io::Result<TcpStream>>,
    /// It had a peer as `connect` returned: ready at the first poll.
    connected: bool,
}

impl Future for TokioConnect {
    type Output = io::Result<TcpStream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.connected {
            if let Some(Ok(stream)) = self.stream.take() {
                return Poll::Ready(Ok(stream));
            }
        }
        let stream = match self.stream.as_mut() {
            Some(Ok(stream)) => stream,
            Some(Err(_)) | None => {
                let done = self.stream.take();
                return Poll::Ready(
                    done.unwrap_or_else(|| Err(io::Error::other("polled after the end"))),
                );
            }
        };
        loop {
            std::task::ready!(stream.poll_write_ready(cx))?;
            // Writable, then `SO_ERROR` and a peer (mio's contract for a non-blocking
            // connect): a wake-up with the connect still under way clears the readiness and
            // waits again.
            let done = stream.try_io(Interest::WRITABLE, || match finish_connect(&*stream) {
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                other => other,
            });
            match done {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    self.stream = None;
                    return Poll::Ready(Err(e));
                }
                Ok(()) => {
                    let done = self.stream.take();
                    return Poll::Ready(
                        done.unwrap_or_else(|| Err(io::Error::other("polled after the end"))),
                    );
                }
            }
        }
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
    fn quic(&self) -> Option<&dyn eyeballs_net::runtime::QuicRuntime> {
        Some(self)
    }
}

/// QUIC on tokio (feature `quic`): quinn's tasks on the tokio runtime that polls the
/// connect, sockets on its reactor.
#[cfg(feature = "quic")]
impl eyeballs_net::runtime::QuicRuntime for Tokio {
    fn quinn(&self) -> io::Result<std::sync::Arc<dyn quinn::Runtime>> {
        Ok(std::sync::Arc::new(quinn::TokioRuntime))
    }

    fn udp(
        &self,
        socket: std::net::UdpSocket,
    ) -> io::Result<Box<dyn eyeballs_net::runtime::UdpIo>> {
        Ok(Box::new(quic::TokioUdp(tokio::net::UdpSocket::from_std(
            socket,
        )?)))
    }
}

#[cfg(feature = "quic")]
mod quic {
    use std::future::Future;
    use std::io;
    use std::os::fd::{AsFd, BorrowedFd};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::Interest;

    /// tokio's UDP socket as eyeballs' [`UdpIo`](eyeballs_net::runtime::UdpIo).
    #[derive(Debug)]
    pub(super) struct TokioUdp(pub(super) tokio::net::UdpSocket);

    impl AsFd for TokioUdp {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.0.as_fd()
        }
    }

    impl eyeballs_net::runtime::UdpIo for TokioUdp {
        fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.0.poll_recv_ready(cx)
        }

        fn try_recv(&self, recv: &mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize> {
            self.0.try_io(Interest::READABLE, recv)
        }

        fn try_send(&self, send: &mut dyn FnMut() -> io::Result<()>) -> io::Result<()> {
            self.0.try_io(Interest::WRITABLE, send)
        }

        fn writable(&self) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send + Sync + '_>> {
            Box::pin(self.0.writable())
        }

        // tokio wakes readers on read readiness only (EPOLLERR wakes writers): an ICMP
        // error is waited for on its own.
        fn error(&self) -> Pin<Box<dyn Future<Output = io::Error> + Send + '_>> {
            Box::pin(async move {
                // `async_io` runs the closure on ERROR readiness and, on `WouldBlock` (the
                // error was taken by a send or receive first), clears it and waits again.
                let taken = self
                    .0
                    .async_io(Interest::ERROR, || match self.0.take_error() {
                        Ok(Some(e)) | Err(e) => Ok(e),
                        Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                    })
                    .await;
                match taken {
                    Ok(e) => e,
                    // The runtime is shutting down: nothing more will be reported.
                    Err(_) => std::future::pending().await,
                }
            })
        }
    }
}

#[cfg(feature = "hickory")]
impl eyeballs_net::runtime::HickoryRuntime for Tokio {
    type Provider = hickory_resolver::net::runtime::TokioRuntimeProvider;

    fn provider() -> io::Result<Self::Provider> {
        Ok(Self::Provider::default())
    }
}
