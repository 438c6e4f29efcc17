//! One process-wide pool of resolver threads, capped, shared by every race.
//!
//! A blocking lookup cannot be cancelled, and one that never returns (a hung `getaddrinfo`)
//! would hold its thread forever; a thread per query would then leak a thread per race. The
//! pool bounds that: at most [`THREADS`] threads, each lookup on one of them, identical
//! lookups in flight (same resolver, name and kind) answered by one call, and at most
//! [`QUEUED`] lookups waiting for a thread. When every thread is busy and the queue is full,
//! a new lookup fails at once (`WouldBlock`) rather than wait without bound; the race then
//! treats it as a failed query. A race that ends (won, failed, timed out) withdraws its
//! waiters, so it leaves nothing behind but a lookup already running, which holds one thread
//! until it returns. A thread with nothing to do for [`IDLE`] exits.

use std::io;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use eyeballs_core::{QueryId, QueryKind};
use mio::Waker;

use crate::resolve::Resolve;

/// The most resolver threads the process runs at once.
pub(crate) const THREADS: usize = 8;
/// The most lookups that wait for a thread; one more fails at once.
pub(crate) const QUEUED: usize = 64;
/// How long a thread waits for work before it exits.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// A query's answer, sent to its race.
pub(crate) type Answer = (QueryId, io::Result<Vec<IpAddr>>);

/// Where one race wants one query's answer.
pub(crate) struct Waiter {
    /// The race, from [`race_id`].
    pub(crate) race: u64,
    pub(crate) query: QueryId,
    pub(crate) answers: mpsc::Sender<Answer>,
    pub(crate) waker: Arc<Waker>,
}

/// Returns a number no other race of this process has, to withdraw its waiters with.
pub(crate) fn race_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Asks `resolver` for `name` and `kind` on a pool thread; the answer goes to `waiter`,
/// which is woken. Joins an identical lookup already queued or running.
///
/// # Errors
///
/// `WouldBlock` when every thread is busy and [`QUEUED`] lookups wait already; the error of
/// spawning the first thread.
pub(crate) fn submit(
    resolver: &Arc<dyn Resolve>,
    name: &str,
    kind: QueryKind,
    waiter: Waiter,
) -> io::Result<()> {
    let pool = pool();
    let mut state = pool.lock();
    if let Some(lookup) = state
        .lookups
        .iter_mut()
        .find(|l| l.is(resolver, name, kind))
    {
        lookup.waiters.push(waiter);
        return Ok(());
    }
    let queued = state.lookups.iter().filter(|l| !l.started).count();
    if queued >= QUEUED {
        return Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!("{name}: no resolver thread free ({THREADS} busy, {QUEUED} lookups queued)"),
        ));
    }
    state.lookups.push(Lookup {
        resolver: resolver.clone(),
        name: name.to_string(),
        kind,
        started: false,
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
                state.lookups.pop();
                return Err(e);
            }
            Err(_) => {}
        }
    }
    pool.work.notify_one();
    Ok(())
}

/// Withdraws every waiter of `race`: a lookup nobody waits for any more leaves the queue (a
/// running one finishes on its thread, and its answer is dropped).
pub(crate) fn withdraw(race: u64) {
    let mut state = pool().lock();
    for lookup in &mut state.lookups {
        lookup.waiters.retain(|w| w.race != race);
    }
    state.lookups.retain(|l| l.started || !l.waiters.is_empty());
}

/// Returns how many resolver threads are running.
#[cfg(test)]
pub(crate) fn threads() -> usize {
    pool().lock().threads
}

struct Pool {
    state: Mutex<State>,
    /// Signalled when a lookup is queued.
    work: Condvar,
}

#[derive(Default)]
struct State {
    /// Queued (in order) and running lookups; at most `THREADS + QUEUED`.
    lookups: Vec<Lookup>,
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
}

struct Lookup {
    resolver: Arc<dyn Resolve>,
    name: String,
    kind: QueryKind,
    started: bool,
    waiters: Vec<Waiter>,
}

impl Lookup {
    fn is(&self, resolver: &Arc<dyn Resolve>, name: &str, kind: QueryKind) -> bool {
        // The same resolver object: the lookup holds it, so its address is not reused.
        Arc::ptr_eq(&self.resolver, resolver) && self.kind == kind && self.name == name
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State::default()),
        work: Condvar::new(),
    })
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A thread that panicked while holding the lock left the state consistent: every
        // change under it is a single push, retain or field update.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A pool thread: runs queued lookups until it has waited [`IDLE`] for one.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            let Some(lookup) = state.lookups.iter_mut().find(|l| !l.started) else {
                state.idle += 1;
                let (guard, wait) = self
                    .work
                    .wait_timeout(state, IDLE)
                    .unwrap_or_else(|e| e.into_inner());
                state = guard;
                state.idle -= 1;
                if wait.timed_out() && state.lookups.iter().all(|l| l.started) {
                    state.threads -= 1;
                    return;
                }
                continue;
            };
            lookup.started = true;
            let (resolver, name, kind) =
                (lookup.resolver.clone(), lookup.name.clone(), lookup.kind);
            drop(state);
            let answer = catch_unwind(AssertUnwindSafe(|| resolver.resolve(&name, kind)))
                .unwrap_or_else(|_| {
                    Err(io::Error::other(format!("{name}: the resolver panicked")))
                });
            state = self.lock();
            let at = state
                .lookups
                .iter()
                .position(|l| l.started && l.is(&resolver, &name, kind));
            let waiters = at.map(|at| state.lookups.remove(at).waiters);
            drop(state);
            for waiter in waiters.into_iter().flatten() {
                // A race that ended since has dropped its receiver: the answer is dropped.
                if waiter.answers.send((waiter.query, copy(&answer))).is_ok() {
                    let _ = waiter.waker.wake();
                }
            }
            state = self.lock();
        }
    }
}

/// Copies an answer for one more waiter (`io::Error` is not `Clone`).
fn copy(answer: &io::Result<Vec<IpAddr>>) -> io::Result<Vec<IpAddr>> {
    match answer {
        Ok(addrs) => Ok(addrs.clone()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}
