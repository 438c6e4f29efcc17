//! The driver loop: eyeballs-core's actions performed with async-io, its inputs fed back.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use async_io::{Async, Timer};
use async_net::TcpStream;
use eyeballs_core::{
    Action, AttemptId, Config, Failure, HostPort, Input, QueryId, Race, Report, Winner,
};
use eyeballs_net::{finish, start, Resolve, Settings};

type Attempt = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;
type Query = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// What woke the loop.
enum Event {
    Answer(QueryId, io::Result<Vec<IpAddr>>),
    Attempt(AttemptId, io::Result<TcpStream>),
    Timer,
}

/// Runs one race to its end. Everything it opened lives in this future: dropping it closes
/// every socket and drops every lookup.
pub(crate) async fn run(
    inner: &Settings<dyn Resolve>,
    target: &HostPort,
    config: Config,
    want_report: bool,
) -> (io::Result<TcpStream>, Option<Report>) {
    let answers_both = inner.resolver.answers_both();
    let (mut race, name) = match start(target, config, &inner.history, answers_both, Instant::now())
    {
        Ok(started) => started,
        Err(e) => return (Err(e), None),
    };
    tracing::debug!(target: "eyeballs", %target, "race started");
    let result = drive(inner, &mut race, &name).await;
    finish(&race, result, &inner.history, want_report)
}

/// The loop of the eyeballs-core crate docs: drain actions, wait for the first of I/O and
/// the deadline, feed it back.
async fn drive(
    inner: &Settings<dyn Resolve>,
    race: &mut Race<io::Error>,
    name: &str,
) -> Result<(Winner, TcpStream), Failure<io::Error>> {
    let mut queries: Vec<(QueryId, Query)> = Vec::new();
    let mut attempts: Vec<(AttemptId, Attempt)> = Vec::new();
    // A connection reported to the race, kept until the race says who won.
    let mut connected: Vec<(AttemptId, TcpStream)> = Vec::new();
    let mut timer = Timer::never();
    let mut armed = None;
    loop {
        while let Some(action) = race.poll_action() {
            match action {
                Action::Resolve { query, kind } => {
                    tracing::debug!(target: "eyeballs", %query, %kind, "resolve");
                    queries.push((query, inner.resolver.resolve(name, kind)));
                }
                Action::Connect { attempt, addr } => {
                    tracing::debug!(target: "eyeballs", %attempt, %addr, "connect");
                    attempts.push((attempt, Box::pin(connect(inner.socket.open(addr), addr))));
                }
                Action::Cancel { attempt } => {
                    tracing::debug!(target: "eyeballs", %attempt, "cancel");
                    // Dropping the future or the stream closes the socket now.
                    attempts.retain(|(a, _)| *a != attempt);
                    connected.retain(|(a, _)| *a != attempt);
                }
                Action::Finish(Ok(winner)) => {
                    let at = connected.iter().position(|(a, _)| *a == winner.attempt);
                    // The race names a winner only after our `Connected`, which we send only
                    // with the stream stored.
                    let Some(at) = at else {
                        unreachable!("the winner's stream was stored before it was reported")
                    };
                    return Ok((winner, connected.swap_remove(at).1));
                }
                Action::Finish(Err(failure)) => return Err(failure),
                _ => {}
            }
        }
        let deadline = race.poll_timeout();
        if deadline != armed {
            match deadline {
                Some(d) => timer.set_at(d),
                None => timer = Timer::never(),
            }
            armed = deadline;
        }
        let event = poll_fn(|cx| {
            for i in 0..queries.len() {
                if let Poll::Ready(r) = queries[i].1.as_mut().poll(cx) {
                    return Poll::Ready(Event::Answer(queries.swap_remove(i).0, r));
                }
            }
            for i in 0..attempts.len() {
                if let Poll::Ready(r) = attempts[i].1.as_mut().poll(cx) {
                    return Poll::Ready(Event::Attempt(attempts.swap_remove(i).0, r));
                }
            }
            if armed.is_some() && Pin::new(&mut timer).poll(cx).is_ready() {
                return Poll::Ready(Event::Timer);
            }
            Poll::Pending
        })
        .await;
        let now = Instant::now();
        match event {
            Event::Answer(query, Ok(addrs)) => {
                tracing::debug!(target: "eyeballs", %query, ?addrs, "resolved");
                race.handle_input(Input::Resolved { query, addrs }, now);
            }
            Event::Answer(query, Err(error)) => {
                tracing::debug!(target: "eyeballs", %query, %error, "resolve failed");
                race.handle_input(Input::ResolveFailed { query, error }, now);
            }
            Event::Attempt(attempt, Ok(stream)) => {
                tracing::debug!(target: "eyeballs", %attempt, "connected");
                connected.push((attempt, stream));
                race.handle_input(Input::Connected { attempt }, now);
            }
            Event::Attempt(attempt, Err(error)) => {
                tracing::debug!(target: "eyeballs", %attempt, %error, "connect failed");
                race.handle_input(Input::ConnectFailed { attempt, error }, now);
            }
            Event::Timer => {
                // The core compares the deadline with `now` itself; an early wake is a no-op.
                armed = None;
                race.handle_timeout(now);
            }
        }
    }
}

/// Connects an opened socket: a non-blocking `connect`, then writable with `SO_ERROR` zero.
/// Dropping the future closes it.
async fn connect(socket: io::Result<socket2::Socket>, addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = socket?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(EINPROGRESS) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    let stream = Async::new(std::net::TcpStream::from(socket))?;
    stream.writable().await?;
    if let Some(e) = stream.get_ref().take_error()? {
        return Err(e);
    }
    // Writable without an error but with no peer would be a spurious wake-up; ask the
    // kernel, which answers ENOTCONN then.
    stream.get_ref().peer_addr()?;
    Ok(TcpStream::from(stream))
}

/// `EINPROGRESS`: a non-blocking connect under way (Linux, Android; the BSDs and macOS).
#[cfg(any(target_os = "linux", target_os = "android"))]
const EINPROGRESS: i32 = 115;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const EINPROGRESS: i32 = 36;
