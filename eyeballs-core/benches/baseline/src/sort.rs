//! RFC 6724 §6 destination address ordering, as far as it can be decided from the addresses
//! themselves (RFC 8305 §4, R12), plus the history rules R13/R14.
//!
//! Which rules apply here:
//! - Rule 1 (avoid unusable destinations): an address the [`History`](crate::History) saw fail
//!   recently is "known to be otherwise unusable", so it goes after the others.
//! - Rules 2, 3, 4, 5, 7 and 9 compare with the *source* address the kernel would pick, which a
//!   sans-IO core cannot know. `getaddrinfo` applies them before it answers, and its order is
//!   kept here because the sort is stable (rule 10).
//! - Rule 6 (higher precedence) and rule 8 (smaller scope) use the default policy table of
//!   RFC 6724 §2.1 and the scopes of §3.1.
//! - R13 (lower round-trip time, between rules 8 and 9) and R14 (previously used) come from the
//!   history; an address with a recorded round trip has been used, so one key serves both.

use core::time::Duration;
use std::net::{IpAddr, Ipv6Addr};

/// The sort key of one candidate: smaller sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SortKey {
    /// Rule 1: recently failed addresses last.
    demoted: bool,
    /// Rule 6: `u8::MAX - precedence`, so that higher precedence sorts first.
    inverse_precedence: u8,
    /// Rule 8: smaller scope first.
    scope: u8,
    /// R13/R14: lower smoothed round trip first; unknown last.
    rtt: Duration,
    /// Rule 10: otherwise keep the order of arrival.
    seq: u64,
}

impl SortKey {
    /// Builds the key of `ip`, the `seq`-th address received, with what history knows of it.
    pub(crate) fn new(ip: IpAddr, seq: u64, demoted: bool, rtt: Option<Duration>) -> Self {
        SortKey {
            demoted,
            inverse_precedence: u8::MAX - precedence(ip),
            scope: scope(ip),
            rtt: rtt.unwrap_or(Duration::MAX),
            seq,
        }
    }

    /// Returns whether history demoted this address (rule 1).
    pub(crate) fn is_demoted(&self) -> bool {
        self.demoted
    }

    /// Returns whether history saw this address work, and not fail since.
    pub(crate) fn is_good(&self) -> bool {
        !self.demoted && self.rtt != Duration::MAX
    }
}

/// RFC 6724 §2.1 default policy table: the precedence of `ip`.
///
/// IPv4 addresses are looked up as their IPv4-mapped form `::ffff:0:0/96` (precedence 35).
pub(crate) fn precedence(ip: IpAddr) -> u8 {
    let v6 = match ip {
        IpAddr::V4(_) => return 35,
        IpAddr::V6(v6) => v6,
    };
    let bits = u128::from(v6);
    let in_prefix = |prefix: Ipv6Addr, len: u32| {
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        bits & mask == u128::from(prefix) & mask
    };
    // Longest matching prefix wins; the table is listed here from longest to shortest.
    if v6 == Ipv6Addr::LOCALHOST {
        50
    } else if in_prefix(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96) {
        35
    } else if in_prefix(Ipv6Addr::UNSPECIFIED, 96) {
        1 // ::/96, deprecated IPv4-compatible addresses
    } else if in_prefix(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32) {
        5 // Teredo
    } else if in_prefix(Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        30 // 6to4
    } else if in_prefix(Ipv6Addr::new(0x3ffe, 0, 0, 0, 0, 0, 0, 0), 16)
        || in_prefix(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10)
    {
        1 // 6bone, site-local
    } else if in_prefix(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7) {
        3 // unique local
    } else {
        40
    }
}

/// RFC 6724 §3.1 scope of `ip`: 0x2 link-local, 0x5 site-local, 0xe global (multicast carries
/// its own).
pub(crate) fn scope(ip: IpAddr) -> u8 {
    const LINK_LOCAL: u8 = 0x2;
    const SITE_LOCAL: u8 = 0x5;
    const GLOBAL: u8 = 0xe;
    match ip {
        // §3.2: IPv4 loopback and auto-configuration addresses are link-local.
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_link_local() => LINK_LOCAL,
        IpAddr::V4(_) => GLOBAL,
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_multicast() {
                (first & 0x000f) as u8
            } else if v6.is_loopback() || first & 0xffc0 == 0xfe80 {
                LINK_LOCAL
            } else if first & 0xffc0 == 0xfec0 {
                SITE_LOCAL
            } else if let Some(v4) = v6.to_ipv4_mapped() {
                scope(IpAddr::V4(v4))
            } else {
                GLOBAL
            }
        }
    }
}
