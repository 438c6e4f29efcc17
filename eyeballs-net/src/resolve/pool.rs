//! One process-wide pool of threads for blocking DNS lookups, capped, shared by every driver.
//!
//! A blocking lookup (`getaddrinfo`, or a blocking driver's own resolver) cannot be
//! cancelled, and one that never returns (a hung `getaddrinfo`) holds its thread until the
//! system resolver gives up. A thread per lookup, or a runtime's blocking pool, would then
//! keep a thread (and its socket) per abandoned connect. This pool bounds that, for the
//! async drivers' system resolvers and the blocking driver alike:
//!
//! - **Coalesced.** Identical lookups in flight (the same resolver, name and [`QueryKind`])
//!   are one call, whose answer goes to everyone who asked.
//! - **Capped.** A lookup runs on one of at most [`THREADS`] threads; at most [`QUEUED`]
//!   more wait for a thread, in order.
//! - **Fail-fast.** When every thread is busy and the queue is full, a new lookup fails at
//!   once with [`io::ErrorKind::WouldBlock`], which a race treats as a failed query: a hung
//!   resolver makes races fail fast instead of piling up threads or waiting without bound.
//! - **Withdrawn.** A waiter that goes away ([`withdraw`]; dropping a [`Lookup`] future, so
//!   a dropped connect or a race that timed out) leaves its lookups: a queued lookup nobody
//!   waits for is dropped, a running one finishes on its thread and its answer is dropped.
//!   What an abandoned connect leaves behind is at most a running lookup, which holds one
//!   pool thread (and `getaddrinfo`'s socket) until it returns, and which the next connect
//!   to the same name joins.
//! - **Idle exit.** A thread with nothing to do for [`IDLE`] exits; an idle process has no
//!   pool threads. Threads are named `eyeballs-dns`.
//! - **AAAA first.** RFC 8305 §3 (R1) asks for the AAAA query to be sent before the A
//!   query. Two threads that call `getaddrinfo` at once race to the wire, so an A lookup
//!   whose name has an AAAA lookup running (same resolver and name) waits until that one
//!   has run for [`AAAA_HEAD_START`] or has returned, whichever comes first (see there for
//!   what that guarantees, and what not).
//!
//! The async drivers use [`lookup`] (a future); the blocking driver uses [`submit`] with a
//! callback that feeds its poller, and [`withdraw`] when its race ends.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use eyeballs_core::QueryKind;

use super::system::{localhost_answer, system_lookup};

/// The most pool threads the process runs at once: the most lookups that run at once.
pub(crate) const THREADS: usize = 8;

/// The most lookups that wait for a pool thread; one more fails at once (`WouldBlock`).
pub(crate) const QUEUED: usize = 64;

/// How long a pool thread waits for work before it exits.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// How long an AAAA lookup runs before the A lookup of the same name may start, unless it
/// returns sooner (RFC 8305 §3, R1: "the AAAA query is sent first").
///
/// `getaddrinfo` cannot say when its query has left, so the A lookup waits for the AAAA
/// call to have been running this long (or to have returned, which it can only do after
/// its query was sent, or when it sent none). Measured from the call to the query's arrival
/// at a DNS server on loopback (kernel receive timestamps; glibc 2.36, a fresh process per
/// call, 200 calls on 2 cores busy with a build): median 0.14 ms, 99th percentile 1.4 ms,
/// slowest 13.4 ms (a thread that waited for a CPU); a second call in the process 0.1 ms at
/// most. 20 ms covers the slowest with room to spare, and is well inside the Resolution
/// Delay (50 ms), so the A answer is at most this much later than with both calls at once,
/// and only when the AAAA answer takes longer.
///
/// What it cannot guarantee: a thread starved of CPU for longer than this between its call
/// and its send still lets the A query leave first; and a resolver behind `getaddrinfo`
/// (nscd, systemd-resolved) sends on its own schedule.
pub(crate) const AAAA_HEAD_START: Duration = Duration::from_millis(20);

/// What a lookup found: the addresses of an AAAA, A or combined lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The addresses, in the resolver's order.
    Addrs(Vec<IpAddr>),
}

impl Reply {
    /// Returns the addresses.
    pub(crate) fn into_addrs(self) -> Vec<IpAddr> {
        match self {
            Reply::Addrs(addrs) => addrs,
        }
    }
}

/// An answer: what the lookup found, or why it failed.
pub(crate) type Answer = io::Result<Reply>;

/// A job's blocking call, given the name and kind.
type Run = Box<dyn Fn(&str, QueryKind) -> Answer + Send>;

/// One blocking lookup for the pool: who answers, the name and the kind.
///
/// Jobs with the same resolver (the system's, or the same resolver object), name and kind
/// are one lookup while it is in flight, so the answer must depend only on those.
pub(crate) struct Job {
    who: Who,
    name: String,
    kind: QueryKind,
    run: Run,
}

/// Who answers a job: what makes two jobs the same lookup, with the name and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// [`system_lookup`].
    System,
    /// A resolver object, by its address: the job holds the object, so while the job is in
    /// the pool no other object can have that address.
    Object(usize),
}

impl Job {
    /// Makes a job that asks the operating system's resolver for `name`, one family or both
    /// as `kind` says ([`system_lookup`]).
    pub(crate) fn system(name: &str, kind: QueryKind) -> Job {
        Job {
            who: Who::System,
            name: name.to_string(),
            kind,
            run: Box::new(|name, kind| system_lookup(name, kind).map(Reply::Addrs)),
        }
    }

    /// Makes a job that calls `lookup` with `resolver` (a blocking driver's resolver
    /// object), `name` and `kind`. Jobs of the same object (the same `Arc` allocation)
    /// with the same name and kind are one lookup while it is in flight.
    pub(crate) fn new<R, F>(resolver: &Arc<R>, name: &str, kind: QueryKind, lookup: F) -> Job
    where
        R: ?Sized + Send + Sync + 'static,
        F: Fn(&R, &str, QueryKind) -> Answer + Send + 'static,
    {
        let resolver = resolver.clone();
        Job {
            who: Who::Object(Arc::as_ptr(&resolver).cast::<()>() as usize),
            name: name.to_string(),
            kind,
            run: Box::new(move |name, kind| lookup(&resolver, name, kind)),
        }
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("who", &self.who)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Names the waiters one party has in the pool (a race, a future), so that [`withdraw`]
/// removes them together. Every [`Group::unique`] differs from every other of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Group(u64);

impl Group {
    /// Returns a group no other call of this process returns.
    pub(crate) fn unique() -> Group {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Group(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Runs `job` on a pool thread and calls `deliver` with its answer there, unless `group`
/// is withdrawn first. Joins an identical lookup already queued or running. `deliver` runs
/// on a pool thread and should only hand the answer over (send it, wake someone).
///
/// # Errors
///
/// `WouldBlock` when every thread is busy and [`QUEUED`] lookups wait already (`deliver`
/// is then not called); the error of spawning the first pool thread.
pub(crate) fn submit<D>(job: Job, group: Group, deliver: D) -> io::Result<()>
where
    D: FnOnce(Answer) + Send + 'static,
{
    let waiter = Waiter {
        group,
        deliver: Box::new(deliver),
    };
    let pool = pool();
    let mut state = pool.lock();
    if let Some(entry) = state
        .entries
        .iter_mut()
        .find(|e| e.is(job.who, &job.name, job.kind))
    {
        entry.waiters.push(waiter);
        return Ok(());
    }
    // Running lookups are at most `THREADS`: a full list means a full queue behind busy
    // threads (or lookups just handed to threads being spawned).
    if state.entries.len() >= THREADS + QUEUED {
        return Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "{}: no resolver thread free ({THREADS} lookups running, {QUEUED} queued)",
                job.name
            ),
        ));
    }
    let queued = state.entries.iter().filter(|e| e.run.is_some()).count();
    state.entries.push(Entry {
        who: job.who,
        name: job.name,
        kind: job.kind,
        run: Some(job.run),
        started: None,
        waiters: vec![waiter],
    });
    if queued + 1 > state.idle && state.threads < THREADS {
        let spawned = std::thread::Builder::new()
            .name("eyeballs-dns".into())
            .spawn(move || pool.work());
        match spawned {
            Ok(_) => state.threads += 1,
            // The threads there are will get to it; with none, nothing would.
            Err(e) if state.threads == 0 => {
                state.entries.pop();
                return Err(e);
            }
            Err(_) => {}
        }
    }
    pool.work.notify_one();
    Ok(())
}

/// Withdraws every waiter of `group`: a lookup nobody waits for any more leaves the queue
/// (a running one finishes on its thread, and its answer is dropped). A group with no
/// waiters is fine.
pub(crate) fn withdraw(group: Group) {
    let mut state = pool().lock();
    for entry in &mut state.entries {
        entry.waiters.retain(|w| w.group != group);
    }
    state
        .entries
        .retain(|e| e.run.is_none() || !e.waiters.is_empty());
}

/// Runs `job` on the pool: a future of its answer, for the async drivers' resolvers.
///
/// The job is submitted when the future is first polled. Dropping the future withdraws it
/// (see the module docs).
pub(crate) fn lookup(job: Job) -> Lookup {
    Lookup {
        state: State::Unsent(job),
    }
}

/// A job's answer on its way, from [`lookup`]. Dropping it withdraws its waiter.
///
/// # Errors
///
/// The lookup's error; `WouldBlock` when the pool is full (see [`submit`]).
#[must_use = "a lookup is submitted when first polled"]
#[derive(Debug)]
pub(crate) struct Lookup {
    state: State,
}

#[derive(Debug)]
enum State {
    Unsent(Job),
    Waiting(Group, Arc<Slot>),
    Done,
}

/// Where the pool puts one future's answer: a oneshot with the task's waker.
#[derive(Debug, Default)]
struct Slot(Mutex<Filled>);

#[derive(Debug, Default)]
struct Filled {
    answer: Option<Answer>,
    waker: Option<Waker>,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Filled> {
        // Every change under the lock is one field update: a panic leaves it consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fill(&self, answer: Answer) {
        let waker = {
            let mut filled = self.lock();
            filled.answer = Some(answer);
            filled.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Lookup {
    type Output = Answer;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        if let State::Unsent(_) = self.state {
            let State::Unsent(job) = std::mem::replace(&mut self.state, State::Done) else {
                unreachable!("the state was just matched as unsent")
            };
            // RFC 6761: the system's answer for a localhost name is known; no thread needed.
            if job.who == Who::System {
                if let Some(addrs) = localhost_answer(&job.name, job.kind) {
                    return Poll::Ready(Ok(Reply::Addrs(addrs)));
                }
            }
            let (group, slot) = (Group::unique(), Arc::new(Slot::default()));
            let filler = slot.clone();
            if let Err(e) = submit(job, group, move |answer| filler.fill(answer)) {
                return Poll::Ready(Err(e));
            }
            self.state = State::Waiting(group, slot);
        }
        let State::Waiting(_, slot) = &self.state else {
            return Poll::Ready(Err(io::Error::other(
                "the lookup was polled after its answer",
            )));
        };
        let mut filled = slot.lock();
        if let Some(answer) = filled.answer.take() {
            drop(filled);
            self.state = State::Done;
            return Poll::Ready(answer);
        }
        match &filled.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => filled.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        if let State::Waiting(group, _) = self.state {
            withdraw(group);
        }
    }
}

struct Waiter {
    group: Group,
    deliver: Box<dyn FnOnce(Answer) + Send>,
}

struct Pool {
    state: Mutex<Shared>,
    /// Signalled when a lookup is queued.
    work: Condvar,
    /// Signalled when a lookup returns (an A lookup may wait for its AAAA lookup).
    returned: Condvar,
}

#[derive(Default)]
struct Shared {
    /// Queued (in order) and running lookups; at most `THREADS + QUEUED`.
    entries: Vec<Entry>,
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
}

/// A lookup in the pool: queued while it has its `run`, running once a thread took it.
struct Entry {
    who: Who,
    name: String,
    kind: QueryKind,
    run: Option<Run>,
    /// When a thread took it; `None` while queued.
    started: Option<Instant>,
    waiters: Vec<Waiter>,
}

impl Entry {
    fn is(&self, who: Who, name: &str, kind: QueryKind) -> bool {
        self.who == who && self.kind == kind && self.name == name
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(Shared::default()),
        work: Condvar::new(),
        returned: Condvar::new(),
    })
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A thread that panicked while holding the lock left the state consistent: every
        // change under it is a single push, retain or field update.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A pool thread: runs queued lookups until it has waited [`IDLE`] for one.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            let Some(entry) = state.entries.iter_mut().find(|e| e.run.is_some()) else {
                state.idle += 1;
                let (guard, wait) = self
                    .work
                    .wait_timeout(state, IDLE)
                    .unwrap_or_else(|e| e.into_inner());
                state = guard;
                state.idle -= 1;
                if wait.timed_out() && state.entries.iter().all(|e| e.run.is_none()) {
                    state.threads -= 1;
                    return;
                }
                continue;
            };
            let (who, name, kind) = (entry.who, entry.name.clone(), entry.kind);
            let Some(run) = entry.run.take() else {
                unreachable!("the entry was found by its run")
            };
            entry.started = Some(Instant::now());
            if kind == QueryKind::A {
                state = self.after_aaaa(state, who, &name);
            }
            drop(state);
            let answer = catch_unwind(AssertUnwindSafe(|| run(&name, kind))).unwrap_or_else(|_| {
                Err(io::Error::other(format!("{name}: the resolver panicked")))
            });
            state = self.lock();
            let at = state
                .entries
                .iter()
                .position(|e| e.run.is_none() && e.is(who, &name, kind));
            let waiters = at.map(|at| state.entries.remove(at).waiters);
            drop(state);
            self.returned.notify_all();
            // Only now: `run` holds the resolver object, whose address is the lookup's key.
            drop(run);
            for waiter in waiters.into_iter().flatten() {
                let answer = copy(&answer);
                // A callback that panics loses its own answer, not the thread.
                let _ = catch_unwind(AssertUnwindSafe(|| (waiter.deliver)(answer)));
            }
            state = self.lock();
        }
    }
}

impl Pool {
    /// Holds an A lookup of `name` (its thread, with `state` locked) until the AAAA lookup
    /// of the same resolver and name that is running has run for [`AAAA_HEAD_START`] or
    /// has returned. An AAAA lookup still queued is not waited for (it was asked after this
    /// one: the queue runs in order), nor one that started long enough ago.
    fn after_aaaa<'a>(
        &self,
        mut state: MutexGuard<'a, Shared>,
        who: Who,
        name: &str,
    ) -> MutexGuard<'a, Shared> {
        let aaaa_started = |state: &Shared| {
            state
                .entries
                .iter()
                .find(|e| e.is(who, name, QueryKind::Aaaa))
                .and_then(|e| e.started)
        };
        let Some(until) =
            aaaa_started(&state).and_then(|started| started.checked_add(AAAA_HEAD_START))
        else {
            return state;
        };
        // Each wake-up looks again: the AAAA lookup returned, or the time is up.
        while aaaa_started(&state).is_some() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        state
    }
}

/// Copies an answer for one more waiter (`io::Error` is not `Clone`).
fn copy(answer: &Answer) -> Answer {
    match answer {
        Ok(addrs) => Ok(addrs.clone()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

#[cfg(test)]
mod tests;
