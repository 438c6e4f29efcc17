//! What tokio gives the shared connector and loop (`eyeballs_net::Connector`,
//! `eyeballs_net::run_async`): its clock, its timer and its sockets.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use eyeballs_net::{AsyncIo, Connecting, Runtime};
use socket2::Socket;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, Sleep};

use crate::resolve::SystemResolver;

/// The tokio runtime, as eyeballs drives it: [`Connector`](crate::Connector) is
/// a wrapped `eyeballs_net::Connector<Tokio>`.
#[derive(Debug, Clone, Copy)]
pub struct Tokio;

impl Runtime for Tokio {
    type Io = TokioIo;
    type SystemResolver = SystemResolver;

    fn io() -> TokioIo {
        TokioIo {
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
        }
    }
}

/// tokio's clock, timer and sockets for one race.
#[derive(Debug)]
pub struct TokioIo {
    sleep: Pin<Box<Sleep>>,
}

impl AsyncIo for TokioIo {
    type Stream = TcpStream;

    fn now(&self) -> std::time::Instant {
        // tokio's clock, so that tests with paused time see the race's timers move.
        Instant::now().into_std()
    }

    fn connect(&self, socket: Socket, addr: SocketAddr) -> Connecting<TcpStream> {
        Box::pin(async move {
            let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
            socket.connect(addr).await
        })
    }

    fn set_timer(&mut self, deadline: std::time::Instant) {
        self.sleep.as_mut().reset(Instant::from_std(deadline));
    }

    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.sleep.as_mut().poll(cx)
    }
}
