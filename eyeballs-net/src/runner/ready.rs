//! A keyed set of futures that polls only the ones that were woken: a wake-up of the race
//! loop costs a look at each future's flag and a poll of the woken ones, never a poll of
//! every query and attempt in flight.
//!
//! Each future gets a waker of its own, which raises its flag and wakes the loop. A set
//! holds a race's few lookups or attempts, so it keeps the first two inline and looks
//! futures up by scanning: a race with a few futures in flight allocates only their
//! wakers (and the async loop keeps an attempt done at its first poll out of the set: no
//! waker at all), and a removed future (a cancelled attempt) is dropped at once.

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
    /// The waker of the task that polls the set, as last seen: each slot's waker keeps a
    /// copy to wake it (no state shared between slots, so none to allocate).
    task: Option<Waker>,
}

struct Slot<K, F> {
    key: K,
    future: F,
    waker: Arc<SlotWaker>,
    /// `waker` as a `Waker`, made once.
    as_waker: Waker,
}

/// One slot's waker: a flag, and the task to wake.
struct SlotWaker {
    /// The task that polls the set; `None` once the slot is emptied or the set is gone (a
    /// slot's waker can outlive both: a socket or a timer keeps it until dropped itself).
    task: Mutex<Option<Waker>>,
    /// Woken since the set last polled this slot.
    woken: AtomicBool,
}

impl<K: PartialEq + Copy, F: Future + Unpin> ReadySet<K, F> {
    pub(crate) fn new() -> Self {
        ReadySet {
            inline: [None, None],
            more: Vec::new(),
            task: None,
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
        // Woken from the start: the next poll polls it. No wake-up of the task: the loops
        // insert only while they run, and poll their sets before they wait.
        let waker = Arc::new(SlotWaker {
            task: Mutex::new(self.task.clone()),
            woken: AtomicBool::new(true),
        });
        let as_waker = Waker::from(waker.clone());
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
        slot.take().map(|s| {
            s.waker.forget_task();
            s.future
        })
    }

    /// Polls the woken futures until one is ready, and returns its key and output, removed
    /// from the set. Pending when none of them is ready (the task is woken when one is).
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<(K, F::Output)> {
        // Nothing to poll (a literal's race asks no DNS): keep no task either. A future
        // inserted later is polled on the next call, which gives every slot the task when
        // the set has none or another.
        if self.slots().all(Option::is_none) {
            return Poll::Pending;
        }
        let changed = !self.task.as_ref().is_some_and(|t| t.will_wake(cx.waker()));
        if changed {
            self.task = Some(cx.waker().clone());
            // Every slot gets the task before any is polled: the loop below may return at
            // the first ready future, and a slot it did not reach would keep no task (one
            // inserted before the first poll) or a stale one, so its wake-up would wake
            // nobody. The task is registered before the flag is read: a wake-up after the
            // read wakes it again.
            for entry in self.inline.iter().chain(self.more.iter()).flatten() {
                *entry.waker.lock() = self.task.clone();
            }
        }
        for slot in self.inline.iter_mut().chain(self.more.iter_mut()) {
            let Some(entry) = slot else { continue };
            if !entry.waker.woken.swap(false, Ordering::AcqRel) {
                continue;
            }
            let mut slot_cx = Context::from_waker(&entry.as_waker);
            if let Poll::Ready(out) = std::pin::Pin::new(&mut entry.future).poll(&mut slot_cx) {
                let key = entry.key;
                entry.waker.forget_task();
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
        // Never polled with a future in it (a literal's query set, an attempt set whose
        // attempt was done at its first poll): no slot's waker holds a task (a slot gets
        // the set's task, which is only ever set, never cleared), so none to forget.
        if self.task.is_none() {
            return;
        }
        // A waker that outlives its slot wakes nobody (and holds no task).
        for slot in self.inline.iter().chain(self.more.iter()).flatten() {
            slot.waker.forget_task();
        }
    }
}

impl SlotWaker {
    fn lock(&self) -> MutexGuard<'_, Option<Waker>> {
        // Every change under the lock is one assignment: a panic cannot leave it half-changed.
        self.task.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the task: the slot is emptied or the set is gone.
    fn forget_task(&self) {
        // Dropped outside the lock: a waker's drop may run arbitrary code.
        let task = self.lock().take();
        drop(task);
    }
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.woken.swap(true, Ordering::AcqRel) {
            return;
        }
        let task = self.lock().clone();
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

    /// A poll that returns early (a ready future before the others) still gives every
    /// slot the task: futures inserted before the first poll, or polled under an older
    /// waker, would otherwise keep no task (or a stale one), and their wake-ups would
    /// wake nobody. Found as a race whose A answer waited 134 s for an unrelated timer
    /// (smol, hickory, CI of 2026-12-07).
    #[test]
    fn an_early_ready_future_does_not_leave_the_others_without_the_task() {
        for second_waker in [false, true] {
            let task = Arc::new(Count::default());
            let waker = Waker::from(task.clone());
            let mut cx = Context::from_waker(&waker);
            let mut set: ReadySet<u32, Boxed> = ReadySet::new();
            let late = Arc::new(Mutex::new(Probe::default()));
            let first = Arc::new(Mutex::new(Probe::default()));
            if second_waker {
                // Registered under one waker, then the task's waker changes.
                set.insert(0, probe(&first));
                set.insert(2, probe(&late));
                assert_eq!(set.poll_next(&mut cx), Poll::Pending);
                answer(&first, 10);
            }
            set.insert(1, Box::pin(ready(10)));
            if !second_waker {
                set.insert(2, probe(&late));
            }
            let task = Arc::new(Count::default());
            let waker = Waker::from(task.clone());
            let mut cx = Context::from_waker(&waker);
            // The ready future is taken first; the late one has not been given the task.
            let (key, _) = match set.poll_next(&mut cx) {
                Poll::Ready(out) => out,
                Poll::Pending => panic!("a future is ready"),
            };
            assert!(key == 0 || key == 1, "{key}");
            while let Poll::Ready((key, _)) = set.poll_next(&mut cx) {
                assert_ne!(key, 2, "not answered yet");
            }
            answer(&late, 30);
            assert_eq!(
                task.0.load(Ordering::Relaxed),
                1,
                "the answer wakes the task (second waker: {second_waker})"
            );
            assert_eq!(set.poll_next(&mut cx), Poll::Ready((2, 30)));
        }
    }

    /// A waker kept by someone else (a socket, a timer) after the set is gone keeps only
    /// its own flag: not the set's task, not the future, and a wake-up wakes nobody.
    #[test]
    fn a_waker_that_outlives_the_set_holds_nothing_and_wakes_nobody() {
        let task = Arc::new(Count::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set: ReadySet<u32, Boxed> = ReadySet::new();
        // A future that leaks its waker to the outside, as a reactor registration does.
        let outside: Arc<Mutex<Option<Waker>>> = Arc::default();
        let slot = outside.clone();
        let dropped = Arc::new(());
        let in_future = dropped.clone();
        set.insert(
            1,
            Box::pin(std::future::poll_fn(move |cx| {
                let _alive = &in_future;
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
                Poll::<u32>::Pending
            })),
        );
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        let before = task.0.load(Ordering::Relaxed);
        drop(set);
        assert_eq!(
            Arc::strong_count(&dropped),
            1,
            "the future went with the set"
        );
        let kept = outside.lock().unwrap_or_else(|e| e.into_inner()).take();
        let kept = kept.expect("the future kept its waker");
        kept.wake_by_ref();
        assert_eq!(
            task.0.load(Ordering::Relaxed),
            before,
            "a late wake-up woke the task"
        );
        // Only the test's own handles hold the task now: the slot's waker let it go.
        assert_eq!(Arc::strong_count(&task), 2);
        drop(kept);
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
