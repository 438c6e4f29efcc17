//! What tokio gives the shared async loop (`eyeballs_net::run_async`): its clock, its
//! timer, and its sockets.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use eyeballs_core::{Config, HostPort, Report};
use eyeballs_net::{run_async, AsyncIo, Connecting, Resolve, Settings};
use socket2::Socket;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, Sleep};

/// Runs one race on tokio.
pub(crate) async fn run(
    settings: &Settings<dyn Resolve>,
    target: &HostPort,
    config: Config,
    want_report: bool,
) -> (io::Result<TcpStream>, Option<Report>) {
    let io = Tokio {
        sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
    };
    run_async(settings, target, config, want_report, io).await
}

struct Tokio {
    sleep: Pin<Box<Sleep>>,
}

impl AsyncIo for Tokio {
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
