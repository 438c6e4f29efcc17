//! The driver loop: eyeballs-core's actions performed with tokio, its inputs fed back.

use std::future::{poll_fn, Future};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use eyeballs_core::{
    Action, AttemptId, Failure, Host, HostPort, Input, QueryId, Race, Report, Target, Winner,
};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::connector::Inner;
use crate::socket::zone_index;

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
    inner: &Inner,
    target: HostPort,
    want_report: bool,
) -> (io::Result<TcpStream>, Option<Report>) {
    let now = Instant::now().into_std();
    let (race_target, name) = match literal(&target) {
        Ok(Some(t)) => (t, None),
        Ok(None) => {
            let port = target.port();
            let t = if inner.resolver.answers_both() {
                Target::host_combined(port)
            } else {
                Target::host(port)
            };
            (t, Some(target.host()))
        }
        Err(e) => return (Err(e), None),
    };
    let race = match &inner.history {
        Some(h) => Race::with_history(race_target, inner.config, &lock(h), now),
        None => Race::new(race_target, inner.config, now),
    };
    let mut race = match race {
        Ok(race) => race,
        // The builder validated the config; this cannot happen, but is not worth a panic.
        Err(e) => return (Err(io::Error::new(io::ErrorKind::InvalidInput, e)), None),
    };
    tracing::debug!(target: "eyeballs", %target, "race started");
    let name = match name {
        Some(Host::Name(n)) => n.clone(),
        _ => String::new(),
    };
    let result = drive(inner, &mut race, &name).await;
    if let Some(h) = &inner.history {
        lock(h).record_race(&race);
    }
    let report = want_report.then(|| Report::new(&race, Some(result.as_ref().map(|(w, _)| w))));
    let result = result.map(|(_, stream)| stream).map_err(io::Error::from);
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
    inner: &Inner,
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
                    attempts.push((attempt, Box::pin(inner.socket.clone().connect(addr))));
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

/// The race target of an IP literal, or `None` for a name.
fn literal(target: &HostPort) -> io::Result<Option<Target>> {
    let scope = match target.host() {
        Host::ZonedIpv6 { zone, .. } => zone_index(zone)?,
        _ => 0,
    };
    Ok(target.literal_target(scope))
}

/// Locks the history; a poisoned lock still holds valid data (every update is one call).
fn lock(
    h: &Arc<Mutex<eyeballs_core::History>>,
) -> std::sync::MutexGuard<'_, eyeballs_core::History> {
    h.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
