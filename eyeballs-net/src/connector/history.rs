//! A history shared by every connect of one connector.

use std::sync::{Arc, Mutex, MutexGuard};

use eyeballs_core::{History, Race};

/// The history of a connector: shared by its clones, or off.
///
/// A race copies only its own destinations' entries, under the lock: the literal target's
/// when it starts ([`History::copy_for`]; the race is built after the lock is released,
/// [`Race::with_history_copy`]), each answer's when it arrives ([`Race::handle_history`]),
/// both through [`SharedHistory::read`]; it records its outcome
/// when it ends ([`History::record_race`]). Each of these costs O(k log n) for k
/// destinations, whatever the history's size.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedHistory(Option<Arc<Mutex<History>>>);

impl SharedHistory {
    /// Shares `history`, or keeps none.
    pub(crate) fn new(history: Option<History>) -> Self {
        SharedHistory(history.map(|h| Arc::new(Mutex::new(h))))
    }

    /// Returns whether there is a history.
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Returns a copy of the history, or `None` when it is off.
    pub(crate) fn snapshot(&self) -> Option<History> {
        self.0.as_ref().map(|h| lock(h).clone())
    }

    /// Calls `f` with the history (`None` when it is off), under its lock: a race starts
    /// from it (it copies only its own destinations' entries). Keep `f`
    /// short; it must not block.
    pub(crate) fn read<T>(&self, f: impl FnOnce(Option<&History>) -> T) -> T {
        match &self.0 {
            Some(h) => f(Some(&lock(h))),
            None => f(None),
        }
    }

    /// Forgets everything (call it when the network attachment changes, R16).
    pub(crate) fn clear(&self) {
        if let Some(h) = &self.0 {
            lock(h).clear();
        }
    }

    /// Records what `race` learned.
    pub(crate) fn record<E>(&self, race: &Race<E>) {
        if let Some(h) = &self.0 {
            lock(h).record_race(race);
        }
    }
}

/// Locks the history; a poisoned lock still holds valid data (every update is one call).
fn lock(h: &Mutex<History>) -> MutexGuard<'_, History> {
    h.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
