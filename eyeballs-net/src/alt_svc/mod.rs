//! HTTP alternative services (RFC 7838 `Alt-Svc`) for the connector: the field value's
//! parser, and the bounded per-origin store that TLS connects read (HEv3 V41, V59;
//! HG5, HG17).
//!
//! The HTTP layer learns alternatives from responses; the connector remembers them per
//! origin ([`Connector::set_alt_svc`](crate::Connector::set_alt_svc)), and each TLS
//! connect to that origin hands the live ones to the race
//! ([`Target::alt_svc`](eyeballs_core::Target::alt_svc)), which resolves their hosts and
//! races them as a service group of their own. The TLS server name stays the origin's, so
//! the certificate is checked against the origin (RFC 7838 §2.1).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use eyeballs_core::{AltService, Name, MAX_ALT_SERVICES};

mod parse;

pub use parse::{AltSvcError, AltSvcErrorKind, AltSvcValue, ALT_SVC_DEFAULT_MAX_AGE};

/// The most origins a connector remembers alternatives for; setting another forgets the
/// origin set longest ago. Each keeps at most [`MAX_ALT_SERVICES`] alternatives (the most
/// a race takes).
pub const ALT_SVC_ORIGINS: usize = 256;

/// One origin's alternatives.
#[derive(Debug)]
struct Entry {
    host: Name,
    port: u16,
    alts: Vec<AltService>,
}

/// The alternatives a connector knows, per origin (host and port): shared by its clones,
/// bounded by [`ALT_SVC_ORIGINS`], oldest set first out.
#[derive(Debug, Default)]
pub(crate) struct AltSvcStore(Mutex<VecDeque<Entry>>);

impl AltSvcStore {
    /// Replaces the origin's alternatives with `alts` (RFC 7838 §3: a new field value
    /// replaces all of them); none forgets the origin.
    pub(crate) fn set(&self, host: &str, port: u16, alts: impl IntoIterator<Item = AltService>) {
        let host = Name::new(host);
        let alts: Vec<AltService> = alts.into_iter().take(MAX_ALT_SERVICES).collect();
        let mut entries = self.lock();
        entries.retain(|e| !(e.host == host && e.port == port));
        if alts.is_empty() {
            return;
        }
        if entries.len() >= ALT_SVC_ORIGINS {
            entries.pop_front();
        }
        entries.push_back(Entry { host, port, alts });
    }

    /// Returns the origin's alternatives, expired ones included.
    pub(crate) fn get(&self, host: &str, port: u16) -> Vec<AltService> {
        let host = Name::new(host);
        self.lock()
            .iter()
            .find(|e| e.host == host && e.port == port)
            .map(|e| e.alts.clone())
            .unwrap_or_default()
    }

    /// Returns the origin's alternatives live at `now`, for a race, and forgets the expired
    /// ones.
    pub(crate) fn for_race(&self, host: &str, port: u16, now: Instant) -> Vec<AltService> {
        let host = Name::new(host);
        let mut entries = self.lock();
        let Some(i) = entries
            .iter()
            .position(|e| e.host == host && e.port == port)
        else {
            return Vec::new();
        };
        let entry = &mut entries[i];
        entry.alts.retain(|a| a.expiry().is_none_or(|at| now < at));
        let live = entry.alts.clone();
        if live.is_empty() {
            entries.remove(i);
        }
        live
    }

    /// Forgets every origin's alternatives.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// How many origins it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Entry>> {
        // Every change under the lock leaves a valid list.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn h3(port: u16) -> AltService {
        AltService::new("", port).alpn(["h3"])
    }

    #[test]
    fn origins_are_names_and_ports_and_a_new_value_replaces() {
        let store = AltSvcStore::default();
        store.set("Example.TEST.", 443, [h3(1), h3(2)]);
        assert_eq!(store.get("example.test", 443), [h3(1), h3(2)]);
        assert!(store.get("example.test", 8443).is_empty());
        store.set("example.test", 443, [h3(3)]);
        assert_eq!(store.get("example.test", 443), [h3(3)]);
        store.set("example.test", 443, []);
        assert_eq!(store.len(), 0);
        store.set("example.test", 443, (1..=20).map(h3));
        assert_eq!(store.get("example.test", 443).len(), MAX_ALT_SERVICES);
        store.clear();
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn bounded_oldest_first_out() {
        let store = AltSvcStore::default();
        for i in 0..ALT_SVC_ORIGINS + 10 {
            store.set(&format!("o{i}.test"), 443, [h3(1)]);
        }
        assert_eq!(store.len(), ALT_SVC_ORIGINS);
        assert!(store.get("o0.test", 443).is_empty());
        assert!(store.get("o9.test", 443).is_empty());
        assert_eq!(store.get("o10.test", 443), [h3(1)]);
    }

    #[test]
    fn races_get_live_alternatives_and_expired_ones_go() {
        let store = AltSvcStore::default();
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(60);
        let short = h3(1).expires(t0 + Duration::from_secs(1));
        let long = h3(2).expires(t0 + Duration::from_secs(3600));
        store.set("a.test", 443, [short.clone(), long.clone(), h3(3)]);
        assert_eq!(store.for_race("a.test", 443, t0).len(), 3);
        assert_eq!(store.for_race("A.test", 443, later), [long, h3(3)]);
        assert_eq!(store.get("a.test", 443).len(), 2);
        store.set("b.test", 443, [h3(1).expires(t0)]);
        assert!(store.for_race("b.test", 443, t0).is_empty());
        assert!(store.get("b.test", 443).is_empty());
    }
}
