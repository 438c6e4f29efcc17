//! Which source address the host would use for a destination: the fact that RFC 6724's
//! source-based rules compare with (RFC 8305 §4, R12) and that keys history (R15).
//!
//! Connecting a UDP socket picks the route and the source address without sending a packet
//! (glibc's `getaddrinfo` and Go do the same for RFC 6724). On Linux the IPv6 source's flags
//! come from `/proc/net/if_inet6`: deprecated (RFC 6724 rule 3) and home address (rule 4).
//! Answers are cached per destination for [`SOURCE_CACHE_TTL`], in a process-wide cache of
//! at most [`SOURCE_CACHE_CAPACITY`] entries, so a connect by name costs the probe once a
//! second.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eyeballs_core::Source;

use crate::socket::SocketOptions;
use socket2::{Domain, Protocol, Socket, Type};

/// How long a probed source address is reused.
pub const SOURCE_CACHE_TTL: Duration = Duration::from_secs(1);
/// How many destinations the cache holds; the oldest entry goes first.
pub const SOURCE_CACHE_CAPACITY: usize = 256;

/// (destination, the local address attempts bind to, fact, when probed), oldest first.
type Cache = Vec<(IpAddr, Option<SocketAddr>, Option<Source>, Instant)>;

static CACHE: Mutex<Cache> = Mutex::new(Vec::new());

/// Returns what the host knows of its route to each of `dests`: the source address it would
/// use, or that it has no route. Destinations it cannot probe (a link-local address without
/// its zone, say) get no fact. Probes run on the calling thread; none blocks (no packet is
/// sent).
///
/// # Examples
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use eyeballs_net::probe_sources;
///
/// let facts = probe_sources([IpAddr::V4(Ipv4Addr::LOCALHOST)]);
/// assert_eq!(facts[0].source(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
/// ```
pub fn probe_sources<I: IntoIterator<Item = IpAddr>>(dests: I) -> Vec<Source> {
    probe_sources_with(dests, &SocketOptions::new())
}

/// Probes like [`probe_sources`], with the local bind and device that the attempts'
/// [`SocketOptions`] give: a bound source is the source, whatever the route says. So a
/// connector bound to another address (another network) gets other facts, and none of the
/// history learned from the first (R15).
pub fn probe_sources_with<I: IntoIterator<Item = IpAddr>>(
    dests: I,
    options: &SocketOptions,
) -> Vec<Source> {
    let now = Instant::now();
    // A device changes the route without a local address to key the cache by: no cache.
    let cacheable = options.device().is_none();
    let mut facts = Vec::new();
    for dest in dests {
        let bind = options.bind_for(dest);
        let cached = lock()
            .iter()
            .find(|(d, b, _, at)| {
                cacheable
                    && *d == dest
                    && *b == bind
                    && now.saturating_duration_since(*at) < SOURCE_CACHE_TTL
            })
            .map(|(_, _, fact, _)| *fact);
        let fact = match cached {
            Some(fact) => fact,
            None => {
                let fact = probe(dest, bind, options.device());
                if cacheable {
                    remember(dest, bind, fact, now);
                }
                fact
            }
        };
        facts.extend(fact);
    }
    facts
}

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
    let (deprecated, home) = match local {
        IpAddr::V6(v6) => flags(v6),
        IpAddr::V4(_) => (false, false),
    };
    Some(Source::new(dest, local).deprecated(deprecated).home(home))
}

/// Reads an IPv6 address's flags from `/proc/net/if_inet6` (Linux): `IFA_F_DEPRECATED`
/// (0x20) and `IFA_F_HOMEADDRESS` (0x10). Elsewhere, or when unreadable: neither.
fn flags(addr: std::net::Ipv6Addr) -> (bool, bool) {
    const HOME: u32 = 0x10;
    const DEPRECATED: u32 = 0x20;
    let Ok(table) = std::fs::read_to_string("/proc/net/if_inet6") else {
        return (false, false);
    };
    let hex: String = addr.octets().iter().map(|b| format!("{b:02x}")).collect();
    // Lines: address, interface index, prefix length, scope, flags, name.
    table
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let a = fields.next()?;
            let f = fields.nth(3)?;
            (a == hex)
                .then(|| u32::from_str_radix(f, 16).ok())
                .flatten()
        })
        .next()
        .map_or((false, false), |f| (f & DEPRECATED != 0, f & HOME != 0))
}

/// `ENETUNREACH` or `EHOSTUNREACH`: the kernel has no route.
fn is_unreachable(e: &std::io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const NO_ROUTE: [i32; 2] = [101, 113];
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const NO_ROUTE: [i32; 2] = [51, 65];
    e.raw_os_error()
        .is_some_and(|code| NO_ROUTE.contains(&code))
}

fn remember(dest: IpAddr, bind: Option<SocketAddr>, fact: Option<Source>, now: Instant) {
    let mut cache = lock();
    cache.retain(|(d, b, _, _)| (*d, *b) != (dest, bind));
    if cache.len() >= SOURCE_CACHE_CAPACITY {
        cache.remove(0);
    }
    cache.push((dest, bind, fact, now));
}

/// Locks the cache; a poisoned lock still holds valid entries (each update is one call).
fn lock() -> MutexGuard<'static, Cache> {
    CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
