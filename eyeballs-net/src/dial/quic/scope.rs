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
