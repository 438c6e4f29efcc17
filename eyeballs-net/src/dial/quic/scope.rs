//! quinn's tasks of one attempt, ended together: a [`quinn::Runtime`] wrapper that ties
//! every task it spawns (the endpoint driver, the connection driver) to a [`Scope`].
//!
//! Why: dropping a `Connecting` closes the connection, and quinn keeps it (its driver, the
//! endpoint driver and so the socket) for the draining period, three PTOs: about 3 s for a
//! handshake that never had an RTT sample. A losing, failed or dropped attempt should leave
//! nothing behind, so on [`Scope::abort`] each task is polled once more (the connection
//! driver sends the CONNECTION_CLOSE that dropping the `Connecting` queued) and dropped,
//! which drops the last handle of the socket and closes it. The winner
//! [`detach`](Scope::detach)es its scope: its tasks then run as quinn spawned them.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use quinn::{AsyncTimer, AsyncUdpSocket, Runtime};

/// The tasks of one attempt.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    aborted: AtomicBool,
    detached: AtomicBool,
    /// Each task's latest waker, by the index it got when spawned (two per attempt).
    wakers: Mutex<Vec<Option<Waker>>>,
}

impl Scope {
    /// Ends the tasks, after one last poll each, unless the scope was detached.
    pub(crate) fn abort(&self) {
        if self.detached.load(Ordering::SeqCst) {
            return;
        }
        self.aborted.store(true, Ordering::SeqCst);
        let wakers = std::mem::take(&mut *self.wakers());
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
    }

    /// Lets the tasks run to their own end: the connection won.
    pub(crate) fn detach(&self) {
        self.detached.store(true, Ordering::SeqCst);
        self.wakers().clear();
    }

    fn wakers(&self) -> MutexGuard<'_, Vec<Option<Waker>>> {
        // A vector of wakers is never left half-written: a poisoned lock is still good.
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `inner` with its spawns tied to a [`Scope`].
pub(crate) struct ScopedRuntime {
    inner: Arc<dyn Runtime>,
    scope: Arc<Scope>,
}

impl ScopedRuntime {
    pub(crate) fn new(inner: Arc<dyn Runtime>, scope: Arc<Scope>) -> Self {
        ScopedRuntime { inner, scope }
    }
}

impl fmt::Debug for ScopedRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedRuntime")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Runtime for ScopedRuntime {
    fn new_timer(&self, i: Instant) -> Pin<Box<dyn AsyncTimer>> {
        self.inner.new_timer(i)
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        let index = {
            let mut wakers = self.scope.wakers();
            wakers.push(None);
            wakers.len() - 1
        };
        self.inner.spawn(Box::pin(ScopedTask {
            future,
            scope: self.scope.clone(),
            index,
        }));
    }

    fn wrap_udp_socket(&self, t: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        self.inner.wrap_udp_socket(t)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }
}

/// A task of a scope: runs its future until the scope is aborted.
struct ScopedTask {
    future: Pin<Box<dyn Future<Output = ()> + Send>>,
    scope: Arc<Scope>,
    index: usize,
}

impl Future for ScopedTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.scope.aborted.load(Ordering::SeqCst) {
            // One last poll lets a connection driver send its close; then it is dropped.
            let _ = this.future.as_mut().poll(cx);
            return Poll::Ready(());
        }
        if !this.scope.detached.load(Ordering::SeqCst) {
            let mut wakers = this.scope.wakers();
            // Empty once aborted (taken) or detached: nothing to keep then.
            if let Some(slot) = wakers.get_mut(this.index) {
                match slot {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
            }
        }
        // Aborted between the first look and the registration: the abort took the wakers
        // before ours was kept, so wake ourselves for the last poll.
        if this.scope.aborted.load(Ordering::SeqCst) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.future.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    /// A quinn runtime that keeps what is spawned, for the test to poll.
    type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

    #[derive(Default)]
    struct Kept(Mutex<Vec<Task>>);

    impl fmt::Debug for Kept {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Kept")
        }
    }

    impl Runtime for Kept {
        fn new_timer(&self, _: Instant) -> Pin<Box<dyn AsyncTimer>> {
            unreachable!("no timer in these tests")
        }
        fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(future);
        }
        fn wrap_udp_socket(&self, _: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
            Err(io::ErrorKind::Unsupported.into())
        }
    }

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Spawns, through a scoped runtime, a task that never ends and counts its polls.
    fn spawned() -> (Arc<Scope>, Task, Arc<AtomicUsize>) {
        let kept = Arc::new(Kept::default());
        let scope = Arc::new(Scope::default());
        let polls = Arc::new(AtomicUsize::new(0));
        let counted = polls.clone();
        ScopedRuntime::new(kept.clone(), scope.clone()).spawn(Box::pin(std::future::poll_fn(
            move |_| {
                counted.fetch_add(1, Ordering::SeqCst);
                Poll::<()>::Pending
            },
        )));
        let task = kept.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        (scope, task.expect("one task spawned"), polls)
    }

    #[test]
    fn an_aborted_task_is_woken_polled_once_more_and_ends() {
        let (scope, mut task, polls) = spawned();
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(task.as_mut().poll(&mut cx).is_pending());
        scope.abort();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "woken for its last poll");
        assert!(task.as_mut().poll(&mut cx).is_ready());
        assert_eq!(
            polls.load(Ordering::SeqCst),
            2,
            "the last poll reached the future"
        );
    }

    #[test]
    fn a_detached_task_runs_on_after_an_abort() {
        let (scope, mut task, polls) = spawned();
        let waker = Waker::from(Arc::new(Wakes::default()));
        let mut cx = Context::from_waker(&waker);
        scope.detach();
        scope.abort();
        for _ in 0..3 {
            assert!(task.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::SeqCst), 3);
    }
}
