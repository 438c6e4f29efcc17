//! The async loop: a [`Runner`] driven on any [`Runtime`]. It only waits: for the
//! resolver's futures, the dialers' futures and the runtime's timer, each polled only when
//! woken ([`ReadySet`]); what they report goes to the runner.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use eyeballs_core::{AttemptId, QueryId, Report, ToHostPort};

use crate::connector::Settings;
use crate::dial::{Dial, Gate, Step};
use crate::resolve::cache::Refresh;
use crate::resolve::WithTtl;
use crate::runner::ready::ReadySet;
use crate::runner::{Answer, DialEvent, Plan, Runner, Work};
use crate::runtime::{Runtime, Timer};
use crate::sockets::FlagsRead;

pub(crate) use crate::resolve::{ask, Query};

/// An attempt whose first poll gave its step, if any.
type Early<O, F> = Option<(AttemptId, Step<O, F>)>;

/// What woke the loop.
enum Event<O, F> {
    Answer(QueryId, io::Result<WithTtl<Answer>>),
    Attempt(AttemptId, Step<O, F>),
    Timer,
}

/// Runs one race to `target` (parsed at the first poll: `InvalidInput` when it does not
/// parse) to its end on `rt` with `dial`'s dialers. Everything it opened lives in this
/// future: dropping it closes every socket and drops every lookup and handshake.
///
/// The connects' own future: they return it as it is, so a connect is one future, not
/// one wrapped in another (each layer moves the whole state, a kilobyte and more).
pub(crate) async fn run<R: Runtime, D: Dial<R>, T: ToHostPort>(
    settings: &Settings,
    rt: &R,
    target: T,
    plan: Plan,
    dial: &D,
) -> (io::Result<D::Output>, Option<Report>) {
    let target = match target.to_host_port() {
        Ok(target) => target,
        Err(e) => return (Err(io::Error::new(io::ErrorKind::InvalidInput, e)), None),
    };
    let target = &target;
    let mut runner = match Runner::start(settings, target, plan, FlagsRead::Pool, rt.now()) {
        Ok(runner) => runner,
        Err(e) => return (Err(e), None),
    };
    // Polled only when woken: a wake-up costs what became ready, a cancel O(log n).
    let mut queries: ReadySet<QueryId, Query> = ReadySet::new();
    let mut attempts: ReadySet<AttemptId, D::Future> = ReadySet::new();
    // The gates of held attempts (ECH on: the ClientHello waits for service information).
    let mut gates: Vec<(AttemptId, Gate)> = Vec::new();
    // An attempt whose first poll, right as it started, gave its step (a loopback connect
    // is often done inside `connect`): reported after the set's, as a slot of its own
    // would be, with no waker made for it. One at a time; the next goes to the set.
    let mut early: Early<D::Output, D::Future> = None;
    // Made when the race first has a deadline: one that connects at once needs none.
    let mut timer: Option<R::Timer> = None;
    let mut armed = None;
    let mut now = rt.now();
    loop {
        while let Some(work) = runner.poll_work(now) {
            match work {
                Work::Resolve { query, name, kind } => {
                    queries.insert(query, ask(&*settings.resolver, name.as_str(), kind));
                }
                Work::Adopt { query, refresh, .. } => queries.insert(query, refresh.into_query()),
                Work::Dial {
                    attempt,
                    endpoint,
                    held,
                } => {
                    let gate = held.then(|| {
                        let gate = Gate::default();
                        gates.push((attempt, gate.clone()));
                        gate
                    });
                    let proxy = settings.proxy.as_ref();
                    let mut dialing =
                        dial.dial(rt, &settings.socket, endpoint, target, gate, proxy);
                    if early.is_none() {
                        // Polled once at once, with a waker that wakes nothing: a step is
                        // kept; a pending attempt goes to the set, which polls it again
                        // with its own waker before the loop waits (futures keep the
                        // latest waker), so no wake-up is lost.
                        let mut cx = Context::from_waker(Waker::noop());
                        if let Poll::Ready(step) = Pin::new(&mut dialing).poll(&mut cx) {
                            early = Some((attempt, step));
                            continue;
                        }
                    }
                    attempts.insert(attempt, dialing);
                }
                Work::Release { attempt, endpoint } => {
                    if let Some(i) = gates.iter().position(|(a, _)| *a == attempt) {
                        gates.swap_remove(i).1.release(endpoint);
                    }
                }
                // Dropping the dialer closes its socket now.
                Work::Close { attempt } => {
                    gates.retain(|(a, _)| *a != attempt);
                    if early.as_ref().is_some_and(|(a, _)| *a == attempt) {
                        early = None;
                    }
                    drop(attempts.remove(attempt));
                }
                // Timed out: dropping the lookup lets a pool job's answer go nowhere.
                Work::Forget { query } => drop(queries.remove(query)),
            }
        }
        if runner.is_finished() {
            // Refreshes of stale cache entries still out stay with the cache (V13).
            runner.park_refreshes(|q| queries.remove(q).map(Refresh::Lookup), now);
            return runner.finish(now);
        }
        let deadline = runner.poll_timeout();
        let event = poll_fn(|cx| {
            if let Poll::Ready((query, r)) = queries.poll_next(cx) {
                return Poll::Ready(Event::Answer(query, r));
            }
            if let Poll::Ready((attempt, step)) = attempts.poll_next(cx) {
                return Poll::Ready(Event::Attempt(attempt, step));
            }
            if let Some((attempt, step)) = early.take() {
                return Poll::Ready(Event::Attempt(attempt, step));
            }
            // Nothing ready: the loop waits, so the timer must be set. Set here, not before
            // the polls, a race whose connect is done at its first poll never makes one.
            // Re-armed only when the deadline changes; the runner compares it with the clock.
            if deadline != armed {
                if let Some(d) = deadline {
                    timer.get_or_insert_with(|| rt.timer()).reset(d);
                }
                armed = deadline;
            }
            if let (Some(_), Some(timer)) = (armed, timer.as_mut()) {
                if timer.poll(cx).is_ready() {
                    return Poll::Ready(Event::Timer);
                }
            }
            Poll::Pending
        })
        .await;
        now = rt.now();
        match event {
            Event::Answer(query, answer) => runner.handle_answer(query, answer, now),
            Event::Attempt(attempt, Step::Progressed(next)) => {
                attempts.insert(attempt, next);
                runner.handle_dial(attempt, DialEvent::Progressed, now);
            }
            Event::Attempt(attempt, Step::Done(Ok(output))) => {
                runner.handle_dial(attempt, DialEvent::Established(output), now);
            }
            Event::Attempt(attempt, Step::Done(Err(error))) => {
                runner.handle_dial(attempt, DialEvent::Failed(error), now);
            }
            Event::Timer => {
                // An early wake is a no-op for the runner; re-arm on the next turn.
                armed = None;
                runner.handle_timeout(now);
            }
        }
    }
}
