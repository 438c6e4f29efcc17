//! RFC 8305 §3 (R1) for hickory: the AAAA query of a name leaves before its A query.
//!
//! hickory sends a UDP query from the lookup's own future. Its first poll hands the query to
//! the name server connection's background task, which hands it back ready to go and wakes
//! the lookup; a later poll sends it. The race polls its AAAA lookup before its A lookup,
//! but the background task may run on another thread (async-io's `eyeballs-hickory`
//! thread, a multi-threaded tokio runtime): while the race's task is still in the A
//! lookup's first poll, the background task can hand both queries back, and the A lookup
//! sends at once while the AAAA lookup waits for its next poll. The lab saw the A query
//! first in 1 lookup of 25 on async-std and on blocking. Waiting for a wake-up of the AAAA
//! lookup is no cure: hickory's futures wake themselves while they are polled.
//!
//! So the send is watched where it happens: the resolver's UDP sockets ([`Sequenced`])
//! report each AAAA query they send, by its name. An A lookup starts once the AAAA lookup
//! of the same name on the same resolver (the latest one in flight) has sent its query
//! (an AAAA query for the name, or for the name under a search domain), has finished (an
//! answer from hickory's cache sends nothing), or was dropped; and after [`AAAA_WAIT`] at
//! most, for an AAAA query that goes out by TCP or an AAAA lookup nobody polls. The wait
//! is what the race's task needs to poll the AAAA lookup once more: microseconds, not a
//! round trip, so the A answer is not noticeably later.
//!
//! [`Sequenced`]: super::sequenced::Sequenced

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The longest an A lookup waits for the AAAA lookup of its name to send (see the module
/// docs): a bound for an AAAA query that leaves by TCP (its socket is not watched) or an
/// AAAA lookup that is not polled; the usual wait ends when the AAAA query leaves.
pub(crate) const AAAA_WAIT: Duration = Duration::from_millis(20);

/// The AAAA lookups in flight on one resolver (and its clones), by name: what an A lookup
/// of the same name waits for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Order(Arc<Mutex<Waiting>>);

/// Each AAAA lookup in flight: its name (as [`key`] makes it) and its gate.
type Waiting = Vec<(String, Arc<Gate>)>;

/// Opened once an AAAA lookup has sent its query (or finished, or was dropped).
#[derive(Debug, Default)]
struct Gate(Mutex<GateState>);

#[derive(Debug, Default)]
struct GateState {
    open: bool,
    /// The A lookups waiting.
    waiting: Vec<Waker>,
}

/// A lookup, as the resolver's futures are.
pub(crate) type Lookup<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A timer of the resolver's runtime.
pub(crate) type Timer = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Order {
    /// Wraps the AAAA lookup of `name`: A lookups of `name` made from now on wait for its
    /// query to leave (see the module docs).
    pub(crate) fn aaaa<T>(&self, name: &str, lookup: Lookup<T>) -> Lookup<T>
    where
        T: Send + 'static,
    {
        let gate = Arc::new(Gate::default());
        self.lock().push((key(name), gate.clone()));
        Box::pin(Opening {
            lookup,
            gate: Some((self.clone(), gate)),
        })
    }

    /// Wraps the A lookup of `name`: it starts once the latest AAAA lookup of `name` in
    /// flight has sent its query, or after the timer `wait` makes ([`AAAA_WAIT`]).
    pub(crate) fn a<T, W>(&self, name: &str, lookup: Lookup<T>, wait: W) -> Lookup<T>
    where
        T: Send + 'static,
        W: FnOnce() -> Timer + Send + 'static,
    {
        let name = key(name);
        let gate = self
            .lock()
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, g)| g.clone());
        let Some(gate) = gate else {
            return lookup;
        };
        Box::pin(async move {
            let mut timer = wait();
            std::future::poll_fn(|cx| {
                if gate.is_open_or_wait(cx.waker()) {
                    return Poll::Ready(());
                }
                timer.as_mut().poll(cx)
            })
            .await;
            lookup.await
        })
    }

    /// Notes that an AAAA query for `qname` left: the AAAA lookups of that name (or of a
    /// name that `qname` is under a search domain) have sent.
    pub(crate) fn aaaa_sent(&self, qname: &str) {
        let qname = key(qname);
        let sent: Vec<Arc<Gate>> = self
            .lock()
            .iter()
            .filter(|(n, _)| {
                qname == *n
                    || qname
                        .strip_prefix(n.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            })
            .map(|(_, g)| g.clone())
            .collect();
        for gate in sent {
            self.open(&gate);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // Every change under the lock is one push or retain: a panic leaves it consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens `gate` and forgets it.
    fn open(&self, gate: &Arc<Gate>) {
        self.lock().retain(|(_, g)| !Arc::ptr_eq(g, gate));
        let waiting = {
            let mut state = gate.lock();
            state.open = true;
            std::mem::take(&mut state.waiting)
        };
        for waker in waiting {
            waker.wake();
        }
    }
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        // Every change under the lock is one field update: a panic leaves it consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns whether the gate is open; if not, `waker` is woken when it opens.
    fn is_open_or_wait(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if state.open {
            return true;
        }
        if !state.waiting.iter().any(|w| w.will_wake(waker)) {
            state.waiting.push(waker.clone());
        }
        false
    }
}

/// Names compare without case and final dot, as DNS compares them.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// An AAAA lookup that opens its gate when it finishes or is dropped (its query, if it sent
/// one, opened it already).
struct Opening<T> {
    lookup: Lookup<T>,
    gate: Option<(Order, Arc<Gate>)>,
}

impl<T> Opening<T> {
    fn open(&mut self) {
        if let Some((order, gate)) = self.gate.take() {
            order.open(&gate);
        }
    }
}

impl<T> Future for Opening<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let answer = self.lookup.as_mut().poll(cx);
        if answer.is_ready() {
            self.open();
        }
        answer
    }
}

impl<T> Drop for Opening<T> {
    fn drop(&mut self) {
        self.open();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Wake;

    #[derive(Default)]
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn never() -> Timer {
        Box::pin(std::future::pending())
    }

    fn at_once() -> Timer {
        Box::pin(std::future::ready(()))
    }

    fn poll<T>(f: &mut Lookup<T>, flag: &Arc<Flag>) -> Poll<T> {
        let waker = Waker::from(flag.clone());
        f.as_mut().poll(&mut Context::from_waker(&waker))
    }

    fn pending() -> Lookup<u8> {
        Box::pin(std::future::pending())
    }

    #[test]
    fn a_starts_when_the_aaaa_query_has_left() {
        let order = Order::default();
        let flag = Arc::new(Flag::default());
        let mut aaaa = order.aaaa("Www.Lab.Test.", pending());
        let mut a = order.a("www.lab.test", Box::pin(async { 4 }), never);
        assert!(poll(&mut aaaa, &flag).is_pending());
        assert!(
            poll(&mut a, &flag).is_pending(),
            "A waits for the AAAA query"
        );
        order.aaaa_sent("www.lab.tes");
        order.aaaa_sent("lab.test");
        assert!(poll(&mut a, &flag).is_pending(), "other names do not count");
        order.aaaa_sent("WWW.lab.test.");
        assert!(flag.0.load(Ordering::SeqCst), "the A lookup is woken");
        assert_eq!(poll(&mut a, &flag), Poll::Ready(4));
        assert!(order.lock().is_empty(), "nothing is kept");
        // Under a search domain.
        let _aaaa = order.aaaa("www", pending());
        let mut a = order.a("www", Box::pin(async { 5 }), never);
        assert!(poll(&mut a, &flag).is_pending());
        order.aaaa_sent("www.corp.test.");
        assert_eq!(poll(&mut a, &flag), Poll::Ready(5));
    }

    #[test]
    fn a_does_not_wait_for_a_finished_or_dropped_aaaa_another_name_or_past_its_limit() {
        let order = Order::default();
        let flag = Arc::new(Flag::default());
        let mut answered = order.aaaa("cached.test", Box::pin(async { 6 }));
        assert_eq!(poll(&mut answered, &flag), Poll::Ready(6));
        let mut a = order.a("cached.test", Box::pin(async { 0 }), never);
        assert_eq!(poll(&mut a, &flag), Poll::Ready(0), "AAAA answered");
        let aaaa = order.aaaa("www.lab.test", pending());
        let mut other = order.a("other.lab.test", Box::pin(async { 1 }), never);
        assert_eq!(poll(&mut other, &flag), Poll::Ready(1), "another name");
        let mut limited = order.a("www.lab.test", Box::pin(async { 2 }), at_once);
        assert_eq!(
            poll(&mut limited, &flag),
            Poll::Ready(2),
            "the limit passed"
        );
        let mut waiting = order.a("www.lab.test", Box::pin(async { 3 }), never);
        assert!(poll(&mut waiting, &flag).is_pending());
        drop(aaaa);
        assert_eq!(poll(&mut waiting, &flag), Poll::Ready(3), "AAAA dropped");
        assert!(order.lock().is_empty());
    }
}
