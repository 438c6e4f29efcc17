//! The driver loop of the async drivers, written once: eyeballs-core's actions performed
//! through a runtime's sockets and timer, its inputs fed back.

use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use eyeballs_core::{
    Action, AttemptId, Config, Failure, HostPort, Input, QueryId, Race, Report, Winner,
};
use socket2::Socket;

use crate::builder::Settings;
use crate::race::{finish, start};
use crate::ready::ReadySet;
use crate::resolve::Resolve;

/// A connection attempt on its way.
pub type Connecting<S> = Pin<Box<dyn Future<Output = io::Result<S>> + Send>>;

/// What an async runtime gives the loop: its clock, its timer, and how it connects a socket.
pub trait AsyncIo {
    /// The runtime's connected stream.
    type Stream: Send + 'static;

    /// Returns the runtime's idea of now (tokio's clock, say, so paused-time tests work).
    fn now(&self) -> Instant;

    /// Connects `socket` (opened non-blocking by [`SocketOptions`](crate::SocketOptions)) to
    /// `addr`. Dropping the future must close the socket.
    fn connect(&self, socket: Socket, addr: SocketAddr) -> Connecting<Self::Stream>;

    /// Arms the timer for `deadline`.
    fn set_timer(&mut self, deadline: Instant);

    /// Polls the armed timer.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// What woke the loop.
enum Event<S> {
    Answer(QueryId, io::Result<Vec<IpAddr>>),
    Attempt(AttemptId, io::Result<S>),
    Timer,
}

/// Runs one race to its end with `io`'s runtime: builds it ([`start`]), drives it, ends it
/// ([`finish`]). Everything it opened lives in this future: dropping it closes every socket
/// and drops every lookup.
pub async fn run_async<I: AsyncIo>(
    settings: &Settings<dyn Resolve>,
    target: &HostPort,
    config: Config,
    want_report: bool,
    mut io: I,
) -> (io::Result<I::Stream>, Option<Report>) {
    let answers_both = settings.resolver.answers_both();
    let started = start(target, config, &settings.history, answers_both, io.now());
    let (mut race, name) = match started {
        Ok(started) => started,
        Err(e) => return (Err(e), None),
    };
    tracing::debug!(target: "eyeballs", %target, "race started");
    let result = drive(settings, &mut race, &name, &mut io).await;
    match &result {
        Ok((w, _)) => tracing::debug!(target: "eyeballs", %target, winner = %w.addr, "race won"),
        Err(f) => tracing::debug!(target: "eyeballs", %target, reason = ?f.reason(), "race failed"),
    }
    finish(&race, result, &settings.history, want_report)
}

/// The loop of the eyeballs-core crate docs: drain actions, wait for the first of I/O and
/// the deadline, feed it back.
async fn drive<I: AsyncIo>(
    settings: &Settings<dyn Resolve>,
    race: &mut Race<io::Error>,
    name: &str,
    io: &mut I,
) -> Result<(Winner, I::Stream), Failure<io::Error>> {
    type Query = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;
    // Polled only when woken: a wake-up costs what became ready, a cancel O(log n).
    let mut queries: ReadySet<QueryId, Query> = ReadySet::new();
    let mut attempts: ReadySet<AttemptId, Connecting<I::Stream>> = ReadySet::new();
    // A connection reported to the race, kept until the race says who won.
    let mut connected: BTreeMap<AttemptId, I::Stream> = BTreeMap::new();
    let mut armed = None;
    loop {
        while let Some(action) = race.poll_action() {
            match action {
                Action::Resolve { query, kind } => {
                    tracing::debug!(target: "eyeballs", %query, %kind, "resolve");
                    queries.insert(query, settings.resolver.resolve(name, kind));
                }
                Action::Connect { attempt, addr } => {
                    tracing::debug!(target: "eyeballs", %attempt, %addr, "connect");
                    match settings.socket.open(addr) {
                        Ok(socket) => attempts.insert(attempt, io.connect(socket, addr)),
                        Err(error) => attempts.insert(attempt, Box::pin(async { Err(error) })),
                    }
                }
                Action::Cancel { attempt } => {
                    tracing::debug!(target: "eyeballs", %attempt, "cancel");
                    // Dropping the future or the stream closes the socket now.
                    drop(attempts.remove(attempt));
                    connected.remove(&attempt);
                }
                Action::Finish(Ok(winner)) => {
                    // The race names a winner only after our `Connected`, which we send only
                    // with the stream stored.
                    let Some(stream) = connected.remove(&winner.attempt) else {
                        unreachable!("the winner's stream was stored before it was reported")
                    };
                    return Ok((winner, stream));
                }
                Action::Finish(Err(failure)) => return Err(failure),
                _ => {}
            }
        }
        let deadline = race.poll_timeout();
        if deadline != armed {
            if let Some(d) = deadline {
                io.set_timer(d);
            }
            armed = deadline;
        }
        let event = poll_fn(|cx| {
            if let Poll::Ready((query, r)) = queries.poll_next(cx) {
                return Poll::Ready(Event::Answer(query, r));
            }
            if let Poll::Ready((attempt, r)) = attempts.poll_next(cx) {
                return Poll::Ready(Event::Attempt(attempt, r));
            }
            if armed.is_some() && io.poll_timer(cx).is_ready() {
                return Poll::Ready(Event::Timer);
            }
            Poll::Pending
        })
        .await;
        let now = io.now();
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
                connected.insert(attempt, stream);
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
