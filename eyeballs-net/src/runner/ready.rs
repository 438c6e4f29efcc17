//! A keyed set of futures that polls only the ones that were woken: a wake-up of the race
//! loop costs what became ready, not every query and attempt in flight.
//!
//! Each future gets a waker of its own, which puts its slot on a shared ready queue and
//! wakes the loop. Removing a future (a cancelled attempt) drops it at once, in
//! `O(log n)`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// Futures keyed by `K`, polled when woken.
pub(crate) struct ReadySet<K, F> {
    /// Slot `i` holds a future or nothing; empty slots are listed in `free`.
    slots: Vec<Option<Slot<K, F>>>,
    free: Vec<usize>,
    keys: BTreeMap<K, usize>,
    shared: Arc<Shared>,
    /// The other half of the ready queue: a poll swaps it with the queue's vector, so that
    /// wake-ups reuse two buffers instead of allocating one each time.
    spare: Vec<Arc<SlotWaker>>,
}

struct Slot<K, F> {
    key: K,
    future: F,
    waker: Arc<SlotWaker>,
    /// `waker` as a `Waker`, made once.
    as_waker: Waker,
}

/// The wake-up queue, shared by the set and every slot's waker.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    /// Woken slots, each at most once (see [`SlotWaker::queued`]); an entry whose slot has
    /// been emptied or reused since is skipped.
    ready: Vec<Arc<SlotWaker>>,
    /// The waker of the task that polls the set.
    task: Option<Waker>,
    /// The set is gone: wake-ups are dropped. A slot's waker can outlive the set (a socket
    /// or a timer keeps it until it is dropped itself); queued, it would hold `Shared`,
    /// which holds it back: a cycle that never frees.
    closed: bool,
}

struct SlotWaker {
    slot: usize,
    shared: Arc<Shared>,
    /// On the ready queue now: a second wake-up before the poll adds nothing.
    queued: AtomicBool,
}

impl<K: Ord + Copy, F: Future + Unpin> ReadySet<K, F> {
    /// Returns whether the set holds no future.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn new() -> Self {
        ReadySet {
            slots: Vec::new(),
            free: Vec::new(),
            keys: BTreeMap::new(),
            shared: Arc::default(),
            spare: Vec::new(),
        }
    }

    /// Adds `future` under `key` (replacing and dropping one with the same key); it is
    /// polled on the next [`ReadySet::poll_next`].
    pub(crate) fn insert(&mut self, key: K, future: F) {
        drop(self.remove(key));
        let slot = self.free.pop().unwrap_or(self.slots.len());
        let waker = Arc::new(SlotWaker {
            slot,
            shared: self.shared.clone(),
            queued: AtomicBool::new(false),
        });
        let as_waker = Waker::from(waker.clone());
        waker.wake_by_ref();
        let entry = Some(Slot {
            key,
            future,
            waker,
            as_waker,
        });
        match self.slots.get_mut(slot) {
            Some(s) => *s = entry,
            None => self.slots.push(entry),
        }
        self.keys.insert(key, slot);
    }

    /// Takes out the future under `key`, if there is one.
    pub(crate) fn remove(&mut self, key: K) -> Option<F> {
        let slot = self.keys.remove(&key)?;
        let entry = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(entry.future)
    }

    /// Polls the woken futures until one is ready, and returns its key and output, removed
    /// from the set. Pending when none of them is ready (the task is woken when one is).
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<(K, F::Output)> {
        let mut woken = std::mem::take(&mut self.spare);
        {
            let mut queue = self.shared.lock();
            match &queue.task {
                Some(task) if task.will_wake(cx.waker()) => {}
                _ => queue.task = Some(cx.waker().clone()),
            }
            std::mem::swap(&mut queue.ready, &mut woken);
        }
        let mut found = None;
        let mut rest = woken.drain(..);
        for waker in rest.by_ref() {
            waker.queued.store(false, Ordering::Release);
            let Some(Some(entry)) = self.slots.get_mut(waker.slot) else {
                continue;
            };
            // A wake-up for a slot's earlier tenant.
            if !Arc::ptr_eq(&entry.waker, &waker) {
                continue;
            }
            let mut slot_cx = Context::from_waker(&entry.as_waker);
            if let Poll::Ready(out) = std::pin::Pin::new(&mut entry.future).poll(&mut slot_cx) {
                let key = entry.key;
                drop(self.remove(key));
                found = Some((key, out));
                break;
            }
        }
        // Wake-ups not looked at yet go back on the queue, in front of newer ones.
        let rest: Vec<_> = rest.collect();
        if !rest.is_empty() {
            let mut queue = self.shared.lock();
            let newer = std::mem::replace(&mut queue.ready, rest);
            queue.ready.extend(newer);
        }
        // Emptied by the drain; its buffer waits for the next poll.
        self.spare = woken;
        match found {
            Some(found) => Poll::Ready(found),
            None => Poll::Pending,
        }
    }
}

impl<K, F> Drop for ReadySet<K, F> {
    fn drop(&mut self) {
        let (ready, task) = {
            let mut queue = self.shared.lock();
            queue.closed = true;
            (std::mem::take(&mut queue.ready), queue.task.take())
        };
        // Dropped outside the lock: a waker's drop may run arbitrary code.
        drop((ready, task));
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every change under the lock is one push, take or assignment: a panic cannot leave
        // the queue half-changed.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let task = {
            let mut queue = self.shared.lock();
            if queue.closed {
                return;
            }
            queue.ready.push(self.clone());
            queue.task.clone()
        };
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
        let shared = Arc::downgrade(&set.shared);
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
        let shared = Arc::downgrade(&set.shared);
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
        assert_eq!(set.slots.len(), 1, "the slot is reused");
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        // The old tenant's wake-up does not poll the new one.
        answer(&old, 1);
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert_eq!(polls(&new), 1);
        answer(&new, 3);
        assert_eq!(set.poll_next(&mut cx), Poll::Ready((3, 3)));
    }
}
