//! A vector that keeps its first few elements inline: most races hold two or three
//! endpoints, and allocating a buffer for each list a race keeps costs more than the race.

use core::ops::{Deref, DerefMut};
use std::collections::VecDeque;

/// A vector of `Copy` elements whose first `N` live inline; past `N` they move to a heap
/// vector, whose capacity is kept by [`SmallBuf::clear`] (a race rebuilds its lists often).
/// It compares and prints as its elements.
#[derive(Clone)]
pub(crate) struct SmallBuf<T: Copy, const N: usize> {
    inline: [T; N],
    /// How many of `inline` hold elements (at most `N`); 32 bits, which share a word with
    /// `spilled`, so a buffer is a word smaller (a race's state holds several).
    len: u32,
    heap: Vec<T>,
    /// The elements are in `heap`.
    spilled: bool,
}

impl<T: Copy, const N: usize> SmallBuf<T, N> {
    /// An empty buffer; `fill` is a placeholder for the inline slots (never read).
    pub(crate) fn new(fill: T) -> Self {
        SmallBuf {
            inline: [fill; N],
            len: 0,
            heap: Vec::new(),
            spilled: false,
        }
    }

    /// Appends `value`.
    #[inline]
    pub(crate) fn push(&mut self, value: T) {
        if self.spilled {
            self.heap.push(value);
        } else if self.inline_len() < N {
            self.inline[self.inline_len()] = value;
            self.len += 1;
        } else {
            self.spill(N * 2);
            self.heap.push(value);
        }
    }

    /// Moves the elements to the heap, with room for `room` in all.
    #[cold]
    fn spill(&mut self, room: usize) {
        self.heap.clear();
        self.heap.reserve(room.max(self.inline_len()));
        self.heap
            .extend_from_slice(&self.inline[..self.inline_len()]);
        self.spilled = true;
    }

    /// Makes room for `more` elements: on the heap at once when they will not fit inline.
    pub(crate) fn reserve(&mut self, more: usize) {
        if self.spilled {
            self.heap.reserve(more);
        } else if self.inline_len() + more > N {
            self.spill(self.inline_len() + more);
        }
    }

    /// Removes every element, keeping the heap's capacity.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.heap.clear();
        self.spilled = false;
    }

    /// Keeps the first `len` elements.
    pub(crate) fn truncate(&mut self, len: usize) {
        if self.spilled {
            self.heap.truncate(len);
        } else {
            self.len = self.len.min(u32::try_from(len).unwrap_or(u32::MAX));
        }
    }

    /// Removes the elements for which `keep` is false, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        if self.spilled {
            self.heap.retain(keep);
            return;
        }
        let mut kept = 0;
        for i in 0..self.inline_len() {
            let v = self.inline[i];
            if keep(&v) {
                self.inline[kept] = v;
                kept += 1;
            }
        }
        // At most the `len` it was.
        self.len = u32::try_from(kept).unwrap_or(self.len);
    }

    /// Returns how many elements `inline` holds (while not spilled).
    #[inline(always)]
    fn inline_len(&self) -> usize {
        self.len as usize
    }
}

impl<T: Copy + core::fmt::Debug, const N: usize> core::fmt::Debug for SmallBuf<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq for SmallBuf<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl<T: Copy + Eq, const N: usize> Eq for SmallBuf<T, N> {}

impl<T: Copy, const N: usize> Extend<T> for SmallBuf<T, N> {
    #[inline]
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        if !self.spilled && self.inline_len() + iter.size_hint().0 > N {
            // It will not fit inline: move to the heap once, with room for all.
            self.spill(self.inline_len() + iter.size_hint().0);
        }
        if self.spilled {
            self.heap.extend(iter);
            return;
        }
        for v in iter {
            self.push(v);
        }
    }
}

impl<T: Copy, const N: usize> Deref for SmallBuf<T, N> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        if self.spilled {
            &self.heap
        } else {
            &self.inline[..self.inline_len()]
        }
    }
}

impl<T: Copy, const N: usize> DerefMut for SmallBuf<T, N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        if self.spilled {
            &mut self.heap
        } else {
            let len = self.inline_len();
            &mut self.inline[..len]
        }
    }
}

/// A first-in, first-out queue whose first `N` elements live inline (a ring); past `N` they
/// wait in a heap queue behind them, so the order is kept.
#[derive(Debug)]
pub(crate) struct SmallQueue<T, const N: usize> {
    ring: [Option<T>; N],
    /// The ring's first element, and how many it holds (below `N`: 32 bits share a word).
    head: u32,
    len: u32,
    /// What came while the ring was full: it follows the ring's elements.
    overflow: VecDeque<T>,
}

impl<T, const N: usize> SmallQueue<T, N> {
    /// An empty queue.
    pub(crate) fn new() -> Self {
        SmallQueue {
            ring: core::array::from_fn(|_| None),
            head: 0,
            len: 0,
            overflow: VecDeque::new(),
        }
    }

    /// Appends `value` at the back.
    #[inline(always)]
    pub(crate) fn push_back(&mut self, value: T) {
        if (self.len as usize) < N && self.overflow.is_empty() {
            self.ring[(self.head + self.len) as usize % N] = Some(value);
            self.len += 1;
        } else {
            self.overflow.push_back(value);
        }
    }

    /// Calls `f` with each element, front first.
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut T)) {
        for i in 0..self.len {
            if let Some(v) = &mut self.ring[(self.head + i) as usize % N] {
                f(v);
            }
        }
        self.overflow.iter_mut().for_each(f);
    }

    /// Takes the front element.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return self.overflow.pop_front();
        }
        let value = self.ring[self.head as usize].take();
        // `N` is small (a few): it fits.
        self.head = ((self.head as usize + 1) % N) as u32;
        self.len -= 1;
        // Keep the ring first in line: refill it from the overflow, in order.
        if let Some(next) = self.overflow.pop_front() {
            self.ring[(self.head + self.len) as usize % N] = Some(next);
            self.len += 1;
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::{SmallBuf, SmallQueue};

    #[test]
    fn a_small_queue_keeps_its_order_past_its_ring() {
        let mut q: SmallQueue<u32, 2> = SmallQueue::new();
        let mut out = Vec::new();
        for i in 0..5 {
            q.push_back(i);
        }
        out.extend(q.pop_front());
        q.push_back(5);
        while let Some(v) = q.pop_front() {
            out.push(v);
        }
        assert_eq!(out, [0, 1, 2, 3, 4, 5]);
        q.push_back(6);
        assert_eq!(q.pop_front(), Some(6));
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn spills_past_its_inline_slots_and_keeps_the_heap() {
        let mut b: SmallBuf<u32, 2> = SmallBuf::new(0);
        b.push(1);
        b.push(2);
        assert_eq!(&b[..], &[1, 2]);
        b.push(3);
        assert_eq!(&b[..], &[1, 2, 3]);
        b.retain(|v| *v != 2);
        assert_eq!(&b[..], &[1, 3]);
        b.truncate(1);
        assert_eq!(&b[..], &[1]);
        b.clear();
        b.extend([7, 8]);
        assert_eq!(&b[..], &[7, 8]);
        b.extend([9]);
        b.retain(|v| *v > 7);
        assert_eq!(&b[..], &[8, 9]);
        b.clear();
        b.extend(0..5);
        b.truncate(3);
        assert_eq!(&b[..], &[0, 1, 2]);
    }
}
