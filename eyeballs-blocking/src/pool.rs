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

use eyeballs_core::{QueryId, QueryKind, ServiceRecord};
use mio::Waker;

use crate::resolve::Resolve;

/// The most resolver threads the process runs at once.
pub(crate) const THREADS: usize = 8;
/// The most lookups that wait for a thread; one more fails at once.
pub(crate) const QUEUED: usize = 64;
/// How long a thread waits for work before it exits.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// A DNS answer: addresses, or HTTPS records.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Addrs(Vec<IpAddr>),
    Records(Vec<ServiceRecord>),
}

/// A query's answer, sent to its race.
pub(crate) type Answer = (QueryId, io::Result<Reply>);

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
    // Running lookups are at most `THREADS`: a full list means a full queue behind busy
    // threads (or lookups just handed to threads being spawned).
    if state.lookups.len() >= THREADS + QUEUED {
        return Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!("{name}: no resolver thread free ({THREADS} lookups running, {QUEUED} queued)"),
        ));
    }
    let queued = state.lookups.iter().filter(|l| !l.started).count();
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
            let ask = || {
                if kind == QueryKind::Https {
                    resolver.resolve_https(&name).map(Reply::Records)
                } else {
                    resolver.resolve(&name, kind).map(Reply::Addrs)
                }
            };
            let answer = catch_unwind(AssertUnwindSafe(ask)).unwrap_or_else(|_| {
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
fn copy(answer: &io::Result<Reply>) -> io::Result<Reply> {
    match answer {
        Ok(reply) => Ok(reply.clone()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    use mio::{Poll, Token};

    /// Hangs on every name until the gate opens, counting calls; panics on "panic".
    struct Gated {
        open: Mutex<bool>,
        opened: Condvar,
        calls: AtomicUsize,
    }

    impl Resolve for Gated {
        fn resolve(&self, name: &str, _kind: QueryKind) -> io::Result<Vec<IpAddr>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            assert!(name != "panic", "a resolver that panics");
            let mut open = self.open.lock().unwrap();
            while !*open {
                open = self.opened.wait(open).unwrap();
            }
            Ok(vec![IpAddr::from([127, 0, 0, 1])])
        }
    }

    fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
        let end = Instant::now() + limit;
        while !done() {
            if Instant::now() > end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// One test, so that nothing else uses the process's pool meanwhile.
    #[test]
    fn caps_threads_coalesces_fails_fast_and_idles_out() {
        let gated = Arc::new(Gated {
            open: Mutex::new(false),
            opened: Condvar::new(),
            calls: AtomicUsize::new(0),
        });
        let resolver: Arc<dyn Resolve> = gated.clone();
        let poll = Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), Token(0)).unwrap());
        let (tx, rx) = mpsc::channel();
        let waiter = |race, query| Waiter {
            race,
            query: QueryId::from_index(query),
            answers: tx.clone(),
            waker: waker.clone(),
        };
        let calls = || gated.calls.load(Ordering::SeqCst);

        // Ten races ask the same thing: one call.
        for race in 0..10 {
            submit(&resolver, "same.test", QueryKind::Aaaa, waiter(race, 0)).unwrap();
        }
        assert!(until(Duration::from_secs(5), || calls() == 1));
        // A panicking lookup is a failed query, and its thread lives on.
        submit(&resolver, "panic", QueryKind::A, waiter(10, 0)).unwrap();
        let (_, answer) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(answer.unwrap_err().to_string().contains("panicked"));

        // Distinct hung lookups fill every thread, then the queue; one more fails at once.
        let distinct = THREADS - 1 + QUEUED;
        for i in 0..distinct {
            let name = format!("n{i}.test");
            submit(&resolver, &name, QueryKind::A, waiter(100, i)).unwrap();
        }
        assert!(until(Duration::from_secs(5), || calls() == 1 + 1 + (THREADS - 1)));
        assert_eq!(threads(), THREADS);
        let refused = submit(&resolver, "one-more.test", QueryKind::A, waiter(101, 0));
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        // A hung name asked again joins its lookup instead of failing.
        submit(&resolver, "same.test", QueryKind::Aaaa, waiter(102, 0)).unwrap();

        // Race 100 ends: its queued lookups go, its running ones stay on their threads.
        withdraw(100);
        assert_eq!(pool().lock().lookups.len(), THREADS);
        submit(&resolver, "later.test", QueryKind::A, waiter(103, 0)).unwrap();

        // The hang ends: the 11 waiters of "same" and "later" get answers, race 100 none.
        *gated.open.lock().unwrap() = true;
        gated.opened.notify_all();
        let mut answered: Vec<u64> = Vec::new();
        for _ in 0..12 {
            let (query, answer) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
            assert!(answer.is_ok());
            answered.push(query.index() as u64);
        }
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        assert_eq!(calls(), 1 + 1 + (THREADS - 1) + 1);
        // Idle threads exit.
        assert!(until(IDLE * 5, || threads() == 0), "{} threads", threads());
        assert!(pool().lock().lookups.is_empty());
    }
}
