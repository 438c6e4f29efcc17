//! A keyed set of futures that polls only the ones that were woken: a wake-up of the race
//! loop costs a look at each future's flag and a poll of the woken ones, never a poll of
//! every query and attempt in flight.
//!
//! Each future gets a waker of its own, which raises its flag and wakes the loop. A set
//! holds a race's few lookups or attempts, so it keeps the first two inline and looks
//! futures up by scanning: a race that connects at once allocates only its futures'
//! wakers, and a removed future (a cancelled attempt) is dropped at once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// Futures keyed by `K`, polled when woken.
pub(crate) struct ReadySet<K, F> {
    /// The first two futures, with no allocation.
    inline: [Option<Slot<K, F>>; 2],
    /// The others; an emptied entry is reused.
    more: Vec<Option<Slot<K, F>>>,
    /// Made with the first future: a set that never holds one allocates nothing.
    shared: Option<Arc<Shared>>,
}

struct Slot<K, F> {
    key: K,
    future: F,
    waker: Arc<SlotWaker>,
    /// `waker` as a `Waker`, made once.
    as_waker: Waker,
}

/// What the set and every slot's waker share: the task to wake.
#[derive(Default)]
struct Shared {
    task: Mutex<Option<Waker>>,
    /// The set is gone: wake-ups wake nobody. (A slot's waker can outlive the set: a socket
    /// or a timer keeps it until it is dropped itself; it holds `Shared`, and `Shared` holds
    /// no slot, so nothing is kept in a cycle.)
    closed: AtomicBool,
}

struct SlotWaker {
    shared: Arc<Shared>,
    /// Woken since the set last polled this slot.
    woken: AtomicBool,
}

impl<K: PartialEq + Copy, F: Future + Unpin> ReadySet<K, F> {
    pub(crate) fn new() -> Self {
        ReadySet {
            inline: [None, None],
            more: Vec::new(),
            shared: None,
        }
    }

    /// Returns whether the set holds no future.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) fn is_empty(&self) -> bool {
        self.slots().all(Option::is_none)
    }

    /// Adds `future` under `key` (replacing and dropping one with the same key); it is
    /// polled on the next [`ReadySet::poll_next`].
    pub(crate) fn insert(&mut self, key: K, future: F) {
        drop(self.remove(key));
        let shared = self.shared.get_or_insert_with(Arc::default).clone();
        let waker = Arc::new(SlotWaker {
            shared,
            woken: AtomicBool::new(false),
        });
        let as_waker = Waker::from(waker.clone());
        // Woken from the start: the next poll polls it, and a waiting loop wakes up.
        waker.wake_by_ref();
        let slot = Some(Slot {
            key,
            future,
            waker,
            as_waker,
        });
        if let Some(empty) = self.slots_mut().find(|s| s.is_none()) {
            *empty = slot;
            return;
        }
        self.more.push(slot);
    }

    /// Takes out the future under `key`, if there is one.
    pub(crate) fn remove(&mut self, key: K) -> Option<F> {
        let slot = self
            .slots_mut()
            .find(|s| s.as_ref().is_some_and(|s| s.key == key))?;
        slot.take().map(|s| s.future)
    }

    /// Polls the woken futures until one is ready, and returns its key and output, removed
    /// from the set. Pending when none of them is ready (the task is woken when one is).
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<(K, F::Output)> {
        let Some(shared) = &self.shared else {
            return Poll::Pending;
        };
        {
            let mut task = shared.lock();
            match &*task {
                Some(t) if t.will_wake(cx.waker()) => {}
                _ => *task = Some(cx.waker().clone()),
            }
        }
        // The task is registered first: a wake-up after a flag was read wakes it again.
        for slot in self.slots_mut() {
            let Some(entry) = slot else { continue };
            if !entry.waker.woken.swap(false, Ordering::AcqRel) {
                continue;
            }
            let mut slot_cx = Context::from_waker(&entry.as_waker);
            if let Poll::Ready(out) = std::pin::Pin::new(&mut entry.future).poll(&mut slot_cx) {
                let key = entry.key;
                *slot = None;
                return Poll::Ready((key, out));
            }
        }
        Poll::Pending
    }

    fn slots(&self) -> impl Iterator<Item = &Option<Slot<K, F>>> {
        self.inline.iter().chain(self.more.iter())
    }

    fn slots_mut(&mut self) -> impl Iterator<Item = &mut Option<Slot<K, F>>> {
        self.inline.iter_mut().chain(self.more.iter_mut())
    }
}

impl<K, F> Drop for ReadySet<K, F> {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.closed.store(true, Ordering::Release);
            // Dropped outside the lock: a waker's drop may run arbitrary code.
            let task = shared.lock().take();
            drop(task);
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Option<Waker>> {
        // Every change under the lock is one assignment: a panic cannot leave it half-changed.
        self.task.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.woken.swap(true, Ordering::AcqRel) || self.shared.closed.load(Ordering::Acquire) {
            return;
        }
        let task = self.shared.lock().clone();
        if let Some(task) = task {
            task.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{pending, ready};
    use std::pin::Pin;

    type Boxed = Pin<Box<dyn Future<Output = u32> + Send>>;

    /// A waker that counts its wake-ups (the loop's task).
    #[derive(Default)]
    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A future that counts its polls, pending until it is given a value.
    #[derive(Default)]
    struct Probe {
        polls: usize,
        value: Option<u32>,
        waker: Option<Waker>,
    }

    fn probe(p: &Arc<Mutex<Probe>>) -> Boxed {
        let p = p.clone();
        Box::pin(std::future::poll_fn(move |cx| {
            let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
            p.polls += 1;
            match p.value {
                Some(v) => Poll::Ready(v),
                None => {
                    p.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }))
    }

    fn answer(p: &Arc<Mutex<Probe>>, value: u32) {
        let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
        p.value = Some(value);
        if let Some(w) = p.waker.take() {
            w.wake();
        }
    }

    fn polls(p: &Arc<Mutex<Probe>>) -> usize {
        p.lock().unwrap_or_else(|e| e.into_inner()).polls
    }

    #[test]
    fn polls_new_futures_and_returns_the_ready_one() {
        let task = Arc::new(Count::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set: ReadySet<u32, Boxed> = ReadySet::new();
        set.insert(1, Box::pin(pending()));
        set.insert(2, Box::pin(ready(20)));
        assert_eq!(set.poll_next(&mut cx), Poll::Ready((2, 20)));
        // Only the pending one is left, and nothing woke it.
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert!(set.remove(1).is_some());
        assert!(set.remove(1).is_none());
    }

    #[test]
    fn only_the_woken_future_is_polled() {
        let task = Arc::new(Count::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set: ReadySet<u32, Boxed> = ReadySet::new();
        let probes: Vec<_> = (0..64)
            .map(|_| Arc::new(Mutex::new(Probe::default())))
            .collect();
        for (i, p) in (0..).zip(&probes) {
            set.insert(i, probe(p));
        }
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert!(probes.iter().all(|p| polls(p) == 1));
        answer(&probes[40], 7);
        assert_eq!(task.0.load(Ordering::Relaxed), 1, "the task is woken");
        assert_eq!(set.poll_next(&mut cx), Poll::Ready((40, 7)));
        let total: usize = probes.iter().map(polls).sum();
        assert_eq!(total, 65, "one more poll, of the woken future only");
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
    }

    /// A waker kept by someone else (a socket, a timer) after the set is gone must not keep
    /// the set's shared state alive through the ready queue.
    #[test]
    fn a_dropped_set_frees_its_shared_state_even_when_a_waker_outlives_it() {
        let task = Arc::new(Count::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set: ReadySet<u32, Boxed> = ReadySet::new();
        let kept = Arc::new(Mutex::new(Probe::default()));
        set.insert(1, probe(&kept));
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        let shared = Arc::downgrade(set.shared.as_ref().unwrap());
        // Queued, not yet polled: the queue holds the slot's waker.
        answer(&kept, 1);
        drop(set);
        // The probe's future is dropped with the set; a wake-up after it adds nothing.
        assert!(
            shared.upgrade().is_none(),
            "the ready queue kept the shared state alive"
        );
    }

    #[test]
    fn a_wake_up_after_the_set_is_gone_queues_nothing() {
        let task = Arc::new(Count::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set: ReadySet<u32, Boxed> = ReadySet::new();
        // A future that leaks its waker to the outside, as a reactor registration does.
        let outside: Arc<Mutex<Option<Waker>>> = Arc::default();
        let slot = outside.clone();
        set.insert(
            1,
            Box::pin(std::future::poll_fn(move |cx| {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
                Poll::<u32>::Pending
            })),
        );
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        let shared = Arc::downgrade(set.shared.as_ref().unwrap());
        drop(set);
        let kept = outside.lock().unwrap_or_else(|e| e.into_inner()).take();
        let kept = kept.expect("the future kept its waker");
        kept.wake_by_ref();
        assert!(
            shared.upgrade().is_some(),
            "the outside waker still holds it"
        );
        drop(kept);
        assert!(
            shared.upgrade().is_none(),
            "a late wake-up queued the waker: a cycle"
        );
    }

    #[test]
    fn a_removed_future_is_dropped_and_its_slot_reused_without_stale_wake_ups() {
        let task = Arc::new(Count::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set: ReadySet<u32, Boxed> = ReadySet::new();
        let old = Arc::new(Mutex::new(Probe::default()));
        set.insert(1, probe(&old));
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert!(set.remove(1).is_some());
        let new = Arc::new(Mutex::new(Probe::default()));
        set.insert(3, probe(&new));
        assert!(
            set.inline[1].is_none() && set.more.is_empty(),
            "the slot is reused"
        );
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        // The old tenant's wake-up does not poll the new one.
        answer(&old, 1);
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert_eq!(polls(&new), 1);
        answer(&new, 3);
        assert_eq!(set.poll_next(&mut cx), Poll::Ready((3, 3)));
    }
}
