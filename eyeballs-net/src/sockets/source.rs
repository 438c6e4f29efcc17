//! Which source address the host would use for a destination: the fact RFC 6724's
//! source-based rules compare with (RFC 8305 §4, R12) and the key of history (R15).
//!
//! Connecting a UDP socket picks the route and the source address without sending a packet
//! (glibc's `getaddrinfo` and Go do the same for RFC 6724). On Linux the IPv6 source's flags
//! come from `/proc/net/if_inet6`: deprecated (RFC 6724 rule 3) and home address (rule 4).
//!
//! The cache belongs to one connector (no process-wide state) and keeps time by the
//! runtime's clock: answers are reused for [`SOURCE_CACHE_TTL`], at most
//! [`SOURCE_CACHE_CAPACITY`] of them. The flags table is a file read, which never happens
//! on an async thread: the async loops have it read on the resolver pool (until it is, an
//! IPv6 source's flags count as unset), the blocking loop reads it itself.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eyeballs_core::{QueryKind, Source};
use socket2::{Domain, Protocol, Socket, Type};

use crate::resolve::pool;
use crate::sockets::options::SocketOptions;

/// How long a probed source address is reused.
pub const SOURCE_CACHE_TTL: Duration = Duration::from_secs(1);
/// How many destinations a connector's cache holds; the oldest entry goes first.
pub const SOURCE_CACHE_CAPACITY: usize = 256;

/// Where the flags table of IPv6 addresses is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagsRead {
    /// On this thread (a blocking loop).
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    Here,
    /// On the resolver pool (an async loop).
    Pool,
}

/// Where a connector's source facts come from: probed on this host (every connector a
/// user builds), or given by a simulated host (feature `sim`).
#[derive(Clone)]
pub(crate) enum Sources {
    /// Probed with UDP sockets and cached ([`SourceCache`]).
    Probe(Arc<SourceCache>),
    /// Answered by the simulated host of `eyeballs_net::sim`: no socket, no cache.
    #[cfg(feature = "sim")]
    Given(Arc<dyn Fn(IpAddr) -> Option<Source> + Send + Sync>),
}

impl Default for Sources {
    fn default() -> Self {
        Sources::Probe(Arc::default())
    }
}

impl Sources {
    /// Returns the facts for `dests` at `now` (see [`SourceCache::probe`]), lazily: a
    /// literal's facts go into its race with no list of their own.
    pub(crate) fn facts<'a, I: IntoIterator<Item = IpAddr> + 'a>(
        &'a self,
        dests: I,
        options: &'a SocketOptions,
        now: Instant,
        read: FlagsRead,
    ) -> impl Iterator<Item = Source> + 'a {
        dests.into_iter().filter_map(move |dest| match self {
            Sources::Probe(cache) => cache.fact(dest, options, now, read),
            #[cfg(feature = "sim")]
            Sources::Given(host) => host(dest),
        })
    }
}

/// A probed destination.
#[derive(Debug)]
struct Entry {
    dest: IpAddr,
    /// The local address attempts bind to.
    bind: Option<SocketAddr>,
    fact: Option<Source>,
    /// Until when it is reused: probed + [`SOURCE_CACHE_TTL`], worked out once (a lookup
    /// compares two instants).
    until: Instant,
}

/// One connector's cache of source facts.
#[derive(Debug, Default)]
pub(crate) struct SourceCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Oldest first.
    entries: Vec<Entry>,
    /// IPv6 addresses with their `IFA_F_*` flags, as last read.
    flags: Vec<(Ipv6Addr, u32)>,
    /// When `flags` was read; `None` before the first read.
    flags_read: Option<Instant>,
    /// A read is queued on the pool.
    flags_pending: bool,
}

impl SourceCache {
    /// Returns the facts for `dests` at `now`: the source address the host would use, or
    /// that it has no route. Destinations it cannot probe get no fact. No packet is sent.
    /// Lazy: each destination is probed (or found in the cache) as the iterator is read, so
    /// a literal's facts go into its race with no list of their own.
    #[cfg(test)]
    fn probe<'a, I: IntoIterator<Item = IpAddr> + 'a>(
        self: &'a Arc<Self>,
        dests: I,
        options: &'a SocketOptions,
        now: Instant,
        read: FlagsRead,
    ) -> impl Iterator<Item = Source> + 'a {
        dests
            .into_iter()
            .filter_map(move |dest| self.fact(dest, options, now, read))
    }

    /// The fact for one destination, cached or probed, with its IPv6 source's flags.
    fn fact(
        self: &Arc<Self>,
        dest: IpAddr,
        options: &SocketOptions,
        now: Instant,
        read: FlagsRead,
    ) -> Option<Source> {
        // A device changes the route without a local address to key the cache by: no cache.
        let cacheable = options.device().is_none();
        let bind = options.bind_for(dest);
        let cached = self.lock().entries.iter().find_map(|e| {
            (cacheable && e.dest == dest && e.bind == bind && now < e.until).then_some(e.fact)
        });
        let fact = match cached {
            Some(fact) => fact,
            None => {
                let fact = probe(dest, bind, options.device());
                if cacheable {
                    self.remember(dest, bind, fact, now);
                }
                fact
            }
        };
        let mut fact = fact?;
        if matches!(fact.source(), Some(IpAddr::V6(s)) if !s.is_loopback()) {
            self.flag(&mut fact, now, read);
        }
        Some(fact)
    }

    /// Marks an IPv6 source deprecated or a home address from the flags table, refreshing
    /// it first when it is older than the cache's time to live.
    fn flag(self: &Arc<Self>, fact: &mut Source, now: Instant, read: FlagsRead) {
        let stale = {
            let inner = self.lock();
            !inner.flags_pending
                && inner
                    .flags_read
                    .is_none_or(|at| now.saturating_duration_since(at) >= SOURCE_CACHE_TTL)
        };
        if stale {
            match read {
                FlagsRead::Here => self.store_flags(read_flags(), now),
                FlagsRead::Pool => self.refresh_on_pool(now),
            }
        }
        let Some(IpAddr::V6(source)) = fact.source() else {
            return;
        };
        let inner = self.lock();
        if let Some((_, f)) = inner.flags.iter().find(|(a, _)| *a == source) {
            *fact = fact.deprecated(f & DEPRECATED != 0).home(f & HOME != 0);
        }
    }

    /// Queues a read of the flags table on the resolver pool; the table is stamped with
    /// `now` (the runtime's clock) when it arrives.
    fn refresh_on_pool(self: &Arc<Self>, now: Instant) {
        self.lock().flags_pending = true;
        let job = pool::Job::new(
            self,
            "/proc/net/if_inet6",
            QueryKind::Both,
            move |cache, _, _| {
                cache.store_flags(read_flags(), now);
                Ok(pool::Reply::Addrs(Vec::new()))
            },
        );
        if pool::submit(job, pool::Group::unique(), drop).is_err() {
            // A full pool: try again with a later race.
            self.lock().flags_pending = false;
        }
    }

    fn store_flags(&self, flags: Vec<(Ipv6Addr, u32)>, now: Instant) {
        let mut inner = self.lock();
        inner.flags = flags;
        inner.flags_read = Some(now);
        inner.flags_pending = false;
    }

    fn remember(&self, dest: IpAddr, bind: Option<SocketAddr>, fact: Option<Source>, now: Instant) {
        let mut inner = self.lock();
        inner.entries.retain(|e| (e.dest, e.bind) != (dest, bind));
        if inner.entries.len() >= SOURCE_CACHE_CAPACITY {
            inner.entries.remove(0);
        }
        // A time to live past what `Instant` holds: not reused.
        let until = now.checked_add(SOURCE_CACHE_TTL).unwrap_or(now);
        inner.entries.push(Entry {
            dest,
            bind,
            fact,
            until,
        });
    }

    /// Locks the cache; a poisoned lock still holds valid entries (each update is one
    /// assignment or push).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `IFA_F_HOMEADDRESS`.
const HOME: u32 = 0x10;
/// `IFA_F_DEPRECATED`.
const DEPRECATED: u32 = 0x20;
/// The most lines of the flags table read (one per IPv6 address of the host).
const MAX_FLAG_LINES: usize = 4096;

/// Probes one destination with a connected UDP socket, bound like the attempts' sockets.
fn probe(dest: IpAddr, bind: Option<SocketAddr>, device: Option<&str>) -> Option<Source> {
    let domain = if dest.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).ok()?;
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    if let Some(device) = device {
        socket.bind_device(Some(device.as_bytes())).ok()?;
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
    let _ = device;
    if let Some(local) = bind {
        // Port 0 whatever the attempts use: a probe must not take their port.
        socket.bind(&SocketAddr::new(local.ip(), 0).into()).ok()?;
    }
    // Any port will do: connect only routes.
    match socket.connect(&SocketAddr::new(dest, 9).into()) {
        Ok(()) => {}
        Err(e) if is_unreachable(&e) => return Some(Source::unreachable(dest)),
        Err(_) => return None,
    }
    let local = socket.local_addr().ok()?.as_socket()?.ip();
    Some(Source::new(dest, local))
}

/// The kernel has no route (`ENETUNREACH`, `EHOSTUNREACH`).
fn is_unreachable(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NetworkUnreachable | std::io::ErrorKind::HostUnreachable
    )
}

/// Reads the IPv6 addresses' flags from `/proc/net/if_inet6` (Linux); elsewhere, or when
/// unreadable, none. Blocking: a file read.
fn read_flags() -> Vec<(Ipv6Addr, u32)> {
    let Ok(table) = std::fs::read_to_string("/proc/net/if_inet6") else {
        return Vec::new();
    };
    // Lines: address (32 hex digits), interface index, prefix length, scope, flags, name.
    table
        .lines()
        .take(MAX_FLAG_LINES)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let hex = fields.next()?;
            let flags = u32::from_str_radix(fields.nth(3)?, 16).ok()?;
            let bits = u128::from_str_radix(hex, 16)
                .ok()
                .filter(|_| hex.len() == 32)?;
            Some((Ipv6Addr::from(bits), flags))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn loopback_is_its_own_source_and_answers_are_cached_by_the_callers_clock() {
        let cache = Arc::new(SourceCache::default());
        let options = SocketOptions::new();
        let t0 = Instant::now();
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let facts: Vec<_> = cache.probe([v4], &options, t0, FlagsRead::Here).collect();
        assert_eq!(facts[0].source(), Some(v4));
        assert_eq!(cache.lock().entries.len(), 1);
        // Within the time to live by the given clock: the cached entry, not a new probe.
        let soon = t0 + Duration::from_millis(999);
        let again: Vec<_> = cache.probe([v4], &options, soon, FlagsRead::Here).collect();
        assert_eq!(again[0].source(), Some(v4));
        assert_eq!(cache.lock().entries[0].until, t0 + SOURCE_CACHE_TTL);
        // Past it: probed again and stamped with the new time.
        let later = t0 + SOURCE_CACHE_TTL;
        cache
            .probe([v4], &options, later, FlagsRead::Here)
            .for_each(drop);
        assert_eq!(cache.lock().entries[0].until, later + SOURCE_CACHE_TTL);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = Arc::new(SourceCache::default());
        let options = SocketOptions::new();
        let now = Instant::now();
        let dests = (0..=u8::MAX)
            .flat_map(|a| (1..3).map(move |b| IpAddr::V4(Ipv4Addr::new(127, 0, a, b))));
        cache
            .probe(dests, &options, now, FlagsRead::Here)
            .for_each(drop);
        assert_eq!(cache.lock().entries.len(), SOURCE_CACHE_CAPACITY);
    }

    #[test]
    fn the_flags_table_parses_addresses_and_flags() {
        // Whatever this host has: every parsed line is a real address.
        for (addr, _flags) in read_flags() {
            assert!(!addr.is_unspecified());
        }
    }
}
