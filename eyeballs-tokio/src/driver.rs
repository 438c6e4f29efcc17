//! The driver loop: eyeballs-core's actions performed with tokio, its inputs fed back.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::Poll;

use eyeballs_core::{
    Action, AttemptId, Config, Failure, HostPort, Input, QueryId, Race, Report, Winner,
};
use eyeballs_net::{finish, start};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, Sleep};

use eyeballs_net::{Resolve, Settings};

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
    let now = Instant::now().into_std();
    let answers_both = inner.resolver.answers_both();
    let (mut race, name) = match start(target, config, &inner.history, answers_both, now) {
        Ok(started) => started,
        Err(e) => return (Err(e), None),
    };
    tracing::debug!(target: "eyeballs", %target, "race started");
    let result = drive(inner, &mut race, &name).await;
    let (result, report) = finish(&race, result, &inner.history, want_report);
    match &result {
        Ok(s) => {
            tracing::debug!(target: "eyeballs", %target, peer = ?s.peer_addr().ok(), "race won")
        }
        Err(e) => tracing::debug!(target: "eyeballs", %target, error = %e, "race failed"),
    }
    (result, report)
}

/// The loop of the crate docs of eyeballs-core: drain actions, wait for the first of I/O and
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
    let mut sleep: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep_until(Instant::now()));
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
                    // The race declares a winner only after our `Connected`, which we send
                    // only with the stream stored.
                    let Some(at) = at else {
                        unreachable!("the winner's stream was stored before it was reported")
                    };
                    return Ok((winner, connected.swap_remove(at).1));
                }
                Action::Finish(Err(failure)) => return Err(failure),
                _ => {}
            }
        }
        let deadline = race.poll_timeout().map(Instant::from_std);
        if deadline != armed {
            if let Some(d) = deadline {
                sleep.as_mut().reset(d);
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
            if armed.is_some() && sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Timer);
            }
            Poll::Pending
        })
        .await;
        let now = Instant::now().into_std();
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

/// Connects an opened socket. Dropping the future closes it.
async fn connect(socket: io::Result<socket2::Socket>, addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket?));
    socket.connect(addr).await
}
