//! What a connector holds, shared by its clones and read by every race it runs.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eyeballs_core::{Config, Race};

use super::history::SharedHistory;
use crate::alt_svc::AltSvcStore;
use crate::proxy::Proxy;
use crate::resolve::cache::SharedDnsCache;
use crate::resolve::Resolve;
use crate::sockets::{SocketOptions, Sources};

/// A connector's settings and state: built once by the builder, never changed but for
/// the history, the DNS cache, the source cache and the alternative services, which live
/// behind their own locks.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) socket: SocketOptions,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) history: SharedHistory,
    /// Answers with their TTLs, for optimistic DNS (off by default).
    pub(crate) dns_cache: SharedDnsCache,
    /// Where source facts come from: probed (a user's connector) or given (a simulated host).
    pub(crate) sources: Sources,
    pub(crate) handshake_timeout: Duration,
    /// The alternative services users set per origin, which TLS connects race.
    pub(crate) alt_svc: AltSvcStore,
    /// The proxy every connect goes through (V60), if any.
    pub(crate) proxy: Option<Proxy>,
    /// The last finished race, whose memory the next race is built in.
    pub(crate) spare: SpareRace,
}

/// A connector's last finished race, kept so that the next connect builds its race in that
/// race's memory ([`Race::restart`]) instead of allocating: at most one race per connector,
/// and only a small one (at most [`SPARE_MOST`] attempts, and as many answered addresses and
/// service records), so it holds a few kilobytes. Taken and put back without waiting: a connect that finds the slot
/// busy (another thread's connect is at it) or empty builds a new race, and a finished race
/// that finds it busy or full is dropped.
#[derive(Default)]
pub(crate) struct SpareRace(Mutex<Option<Race<io::Error>>>);

/// The most attempts, and the most answered addresses and service records, of a race kept as
/// a connector's spare: a long walk's buffers are freed, not held between connects.
pub(crate) const SPARE_MOST: usize = 64;

impl SpareRace {
    /// Takes the spare race, if there is one and the slot is free.
    pub(crate) fn take(&self) -> Option<Race<io::Error>> {
        self.0.try_lock().ok()?.take()
    }

    /// Keeps `race` (finished) for the next connect, if it is small and the slot is free
    /// and empty.
    pub(crate) fn put(&self, race: Race<io::Error>) {
        let answered: usize = race
            .queries()
            .iter()
            .map(|q| q.addrs().len() + q.records().len())
            .sum();
        if race.attempts().len() > SPARE_MOST || answered > SPARE_MOST {
            return;
        }
        if let Ok(mut slot) = self.0.try_lock() {
            if slot.is_none() {
                *slot = Some(race);
            }
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("history", &self.history.is_on())
            .field("dns_cache", &self.dns_cache.is_on())
            .field("handshake_timeout", &self.handshake_timeout)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv6Addr, SocketAddr};
    use std::time::Instant;

    use eyeballs_core::{Action, Input, Target};

    use super::*;

    /// The spare holds one race, and only a small one: a race that answered more than
    /// `SPARE_MOST` addresses is dropped, not kept between connects.
    #[test]
    fn a_spare_keeps_one_small_race() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let spare = SpareRace::default();
        let one = Target::addrs([SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 443)]);
        let small: Race<io::Error> = Race::new(one, Config::default(), now).expect("valid");
        spare.put(small);
        assert!(spare.take().is_some(), "a small race is kept");
        assert!(spare.take().is_none(), "and taken once");
        let host = Target::host("example.test", 443);
        let mut big: Race<io::Error> = Race::new(host, Config::default(), now).expect("valid");
        let Some(Action::Resolve { query, .. }) = big.poll_action() else {
            panic!("a host race asks DNS first")
        };
        let addrs = (1..=u16::try_from(SPARE_MOST).expect("small") + 1)
            .map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)))
            .collect();
        big.handle_input(Input::Resolved { query, addrs }, now);
        spare.put(big);
        assert!(
            spare.take().is_none(),
            "a race of 65 answered addresses is not kept"
        );
    }
}
