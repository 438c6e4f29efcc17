//! RFC 6724 §6 destination address selection, all ten rules (RFC 8305 §4 R12, HEv3 §5.3
//! V22), plus the history rules R13/R14 (V23).
//!
//! The rules that compare a destination with its source address (2, 3, 4, 5, 7, 9) use the
//! facts the driver reports ([`Source`](crate::Source)): the source address the kernel would
//! use, and whether it is deprecated, a home address, or reached through an encapsulating
//! transition mechanism. A destination without a fact is neither preferred nor avoided by
//! those rules.
//!
//! | Rule | Prefer | Here |
//! |---|---|---|
//! | 1 | usable destinations | no route ([`Source::unreachable`](crate::Source::unreachable)) or history saw it fail recently |
//! | 2 | matching scope | `scope(D) == scope(Source(D))` |
//! | 3 | no deprecated source | [`Source::deprecated`](crate::Source::deprecated) |
//! | 4 | home addresses | [`Source::home`](crate::Source::home) |
//! | 5 | matching label | §2.1 policy table labels of D and Source(D) |
//! | 6 | higher precedence | §2.1 policy table (ULA, 6to4, Teredo, IPv4-mapped, site-local, 6bone) |
//! | 7 | native transport | [`Source::encapsulated`](crate::Source::encapsulated), or a 6to4/Teredo source |
//! | 8 | smaller scope | §3.1 scopes (IPv4 loopback and 169.254/16 are link-local, §3.2) |
//! | R13, R14 | lower round trip, used before | [`History`](crate::History) |
//! | 9 | longest matching prefix | IPv6 only, up to 64 bits (see below) |
//! | 10 | otherwise, the order received | the resolver's order (`getaddrinfo` has sorted it) |
//!
//! Rule 9 is applied to IPv6 only, and only up to the first 64 bits (the usual prefix
//! length; the core does not know the source's real one): for IPv4 it defeats DNS round robin
//! (every client picks the same server of a block), which is why glibc, Go and Android
//! restrict it too.

use core::time::Duration;
use std::net::{IpAddr, Ipv6Addr};

/// What the driver told the race about its route to one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) source: IpAddr,
    pub(crate) deprecated: bool,
    pub(crate) home: bool,
    pub(crate) encapsulated: bool,
}

/// The sort key of one candidate: smaller sorts first.
///
/// Packed in rule order into two integers, so that comparing two keys is two integer
/// comparisons (a race sorts thousands of them):
///
/// - `hi`, from bit 31 down: rule 1 (no route, or recently failed: last), rule 2 (the
///   source's scope differs from the destination's), rule 3 (deprecated source), rule 4 (not
///   a home address), rule 5 (the source's label differs), rule 6 (`u8::MAX - precedence`,
///   8 bits), rule 7 (encapsulated), rule 8 (scope, 8 bits); bits 9..0 are zero.
/// - `lo`, from bit 127 down: R13/R14's smoothed round trip (seconds, 64 bits, then
///   nanoseconds, 30 bits; unknown is `Duration::MAX`, last), rule 9 (`128 -
///   CommonPrefixLen`, 8 bits), rule 10 (the order of arrival, 26 bits: an answer holds at
///   most [`MAX_ANSWER_ADDRS`](crate::MAX_ANSWER_ADDRS) addresses, far fewer than 2^26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SortKey {
    hi: u32,
    /// `lo`'s upper half (the round trip's seconds) and lower half, kept apart so that a key
    /// takes 24 bytes, not 32 (a `u128` would align it to 16).
    lo_hi: u64,
    lo_lo: u64,
}

const DEMOTED: u32 = 1 << 31;
const SCOPE_MISMATCH: u32 = 1 << 30;
const DEPRECATED: u32 = 1 << 29;
const NOT_HOME: u32 = 1 << 28;
const LABEL_MISMATCH: u32 = 1 << 27;
const PRECEDENCE_SHIFT: u32 = 19;
const ENCAPSULATED: u32 = 1 << 18;
const SCOPE_SHIFT: u32 = 10;
/// The bits of rule 10 (the order of arrival) at the bottom of a key's `lo`.
pub(crate) const SEQ_BITS: u32 = 26;
/// `lo >> RTT_SHIFT` of an unknown round trip (`Duration::MAX`).
const RTT_SHIFT: u32 = 34;
const UNKNOWN_RTT: u128 = ((u64::MAX as u128) << 30) | 999_999_999;

impl SortKey {
    /// A placeholder key (for the inline slots of empty buffers).
    pub(crate) const ZERO: SortKey = SortKey {
        hi: 0,
        lo_hi: 0,
        lo_lo: 0,
    };

    /// Builds the key of `dest`, the `seq`-th address of its answer, with its route (`None`:
    /// unknown; `Some(None)`: no route) and what history knows of it.
    pub(crate) fn new(
        dest: IpAddr,
        route: Option<Option<Route>>,
        seq: u64,
        failing: bool,
        rtt: Option<Duration>,
    ) -> Self {
        let (dest_precedence, dest_label) = policy(dest);
        let dest_scope = scope(dest);
        let mut hi = (u32::from(u8::MAX - dest_precedence) << PRECEDENCE_SHIFT)
            | (u32::from(dest_scope) << SCOPE_SHIFT);
        if failing || route == Some(None) {
            hi |= DEMOTED;
        }
        let mut inverse_prefix: u8 = 128;
        match route {
            Some(Some(r)) => {
                let (_, label) = policy(r.source);
                hi |= flag(scope(r.source) != dest_scope, SCOPE_MISMATCH)
                    | flag(r.deprecated, DEPRECATED)
                    | flag(!r.home, NOT_HOME)
                    | flag(label != dest_label, LABEL_MISMATCH)
                    | flag(r.encapsulated || is_transition(r.source), ENCAPSULATED);
                if let (IpAddr::V6(s), IpAddr::V6(d)) = (r.source, dest) {
                    inverse_prefix = 128 - common_prefix_len(s, d).min(64);
                }
            }
            // Unknown is the usual case, not a home address: no better than a known one.
            _ => hi |= NOT_HOME,
        }
        let rtt = rtt.unwrap_or(Duration::MAX);
        let seq = seq.min((1 << SEQ_BITS) - 1);
        let lo = (u128::from(rtt.as_secs()) << 64)
            | (u128::from(rtt.subsec_nanos()) << RTT_SHIFT)
            | (u128::from(inverse_prefix) << SEQ_BITS)
            | u128::from(seq);
        SortKey {
            hi,
            lo_hi: (lo >> 64) as u64,
            lo_lo: lo as u64,
        }
    }

    /// [`SortKey::new`] of `dest` without a route fact (`route` is `None`) or history (not
    /// failing, no round trip): the usual case, at a fraction of the cost.
    #[inline]
    pub(crate) fn unrouted(dest: IpAddr, seq: u64) -> Self {
        let (dest_precedence, _) = policy(dest);
        let hi = (u32::from(u8::MAX - dest_precedence) << PRECEDENCE_SHIFT)
            | (u32::from(scope(dest)) << SCOPE_SHIFT)
            | NOT_HOME;
        // `Duration::MAX`: its seconds fill `lo_hi`, its nanoseconds lead `lo_lo`.
        let seq = seq.min((1 << SEQ_BITS) - 1);
        let nanos = u64::from(Duration::MAX.subsec_nanos());
        SortKey {
            hi,
            lo_hi: Duration::MAX.as_secs(),
            lo_lo: (nanos << RTT_SHIFT) | (128 << SEQ_BITS) | seq,
        }
    }

    fn lo(&self) -> u128 {
        (u128::from(self.lo_hi) << 64) | u128::from(self.lo_lo)
    }

    /// Returns whether this destination is demoted by rule 1.
    pub(crate) fn is_demoted(&self) -> bool {
        self.hi & DEMOTED != 0
    }

    /// Returns whether history saw this destination work, and not fail since.
    pub(crate) fn is_good(&self) -> bool {
        !self.is_demoted() && self.lo() >> RTT_SHIFT != UNKNOWN_RTT
    }

    /// Returns whether the route to this destination is poor: no route, or a source whose
    /// scope or label differs from the destination's (a link-local or ULA-only source for a
    /// global destination: RFC 6724 rules 1, 2, 5).
    pub(crate) fn is_poor_route(&self) -> bool {
        self.hi & (DEMOTED | SCOPE_MISMATCH | LABEL_MISMATCH) != 0
    }

    /// The key as two integers that compare as it does: rules 1–8 (22 bits), then the rest.
    pub(crate) fn packed(&self) -> (u32, u128) {
        (self.hi >> SCOPE_SHIFT, self.lo())
    }

    /// The part of the key that compares destinations of different families (rules 1–8):
    /// which family RFC 6724 puts first.
    pub(crate) fn family_rank(&self) -> u32 {
        self.hi
    }
}

fn flag(on: bool, bit: u32) -> u32 {
    if on {
        bit
    } else {
        0
    }
}

/// RFC 6724 §2.1 default policy table: (precedence, label) of `ip`.
///
/// IPv4 addresses are looked up as their IPv4-mapped form `::ffff:0:0/96`.
pub(crate) fn policy(ip: IpAddr) -> (u8, u8) {
    let v6 = match ip {
        IpAddr::V4(_) => return (35, 4),
        IpAddr::V6(v6) => v6,
    };
    let bits = u128::from(v6);
    // The table's prefixes, longest first, told apart by the first 16 bits (every prefix
    // but `::1/128`, `::ffff:0:0/96` and `::/96` fits in them, and those three start with 0).
    match (bits >> 112) as u16 {
        0 if bits == 1 => (50, 0),                    // ::1/128, loopback
        0 if bits >> 32 == 0xffff => (35, 4),         // ::ffff:0:0/96, IPv4-mapped
        0 if bits >> 32 == 0 => (1, 3),               // ::/96, deprecated IPv4-compatible addresses
        0x2001 if (bits >> 96) as u16 == 0 => (5, 5), // 2001::/32, Teredo
        0x2002 => (30, 2),                            // 2002::/16, 6to4
        0x3ffe => (1, 12),                            // 3ffe::/16, 6bone
        0xfec0..=0xfeff => (1, 11),                   // fec0::/10, site-local
        0xfc00..=0xfdff => (3, 13),                   // fc00::/7, unique local
        _ => (40, 1),
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

/// Returns whether a source address belongs to a tunnelling transition mechanism (6to4,
/// Teredo): RFC 6724 rule 7's "encapsulating transition mechanism".
fn is_transition(source: IpAddr) -> bool {
    matches!(policy(source).1, 2 | 5)
}

/// RFC 6724 §2.2: the number of leading bits two addresses share.
fn common_prefix_len(a: Ipv6Addr, b: Ipv6Addr) -> u8 {
    (u128::from(a) ^ u128::from(b)).leading_zeros() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6724 §2.1's table as written: every prefix tried, longest first.
    fn policy_by_table(v6: Ipv6Addr) -> (u8, u8) {
        let bits = u128::from(v6);
        let in_prefix = |prefix: Ipv6Addr, len: u32| {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            bits & mask == u128::from(prefix) & mask
        };
        let table = [
            (Ipv6Addr::LOCALHOST, 128, (50, 0)),
            (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, (35, 4)),
            (Ipv6Addr::UNSPECIFIED, 96, (1, 3)),
            (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, (5, 5)),
            (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, (30, 2)),
            (Ipv6Addr::new(0x3ffe, 0, 0, 0, 0, 0, 0, 0), 16, (1, 12)),
            (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, (1, 11)),
            (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, (3, 13)),
        ];
        table
            .iter()
            .find(|(p, len, _)| in_prefix(*p, *len))
            .map_or((40, 1), |(_, _, v)| *v)
    }

    proptest! {
        /// The key without facts is [`SortKey::new`]'s.
        #[test]
        fn an_unrouted_key_is_the_key_without_facts(
            bits in any::<u128>(),
            v4 in any::<bool>(),
            seq in 0u64..(1 << 27),
        ) {
            let dest = if v4 {
                IpAddr::V4(std::net::Ipv4Addr::from(bits as u32))
            } else {
                IpAddr::V6(Ipv6Addr::from(bits))
            };
            prop_assert_eq!(SortKey::unrouted(dest, seq), SortKey::new(dest, None, seq, false, None));
        }

        /// The policy table read by the first 16 bits answers as the table tried prefix by
        /// prefix: for any address, and for addresses near each prefix's edges.
        #[test]
        fn policy_matches_the_table(
            bits in any::<u128>(),
            first in prop::sample::select(vec![
                0u16, 1, 0x2001, 0x2002, 0x2003, 0x3ffe, 0x3fff, 0xfc00, 0xfdff, 0xfe00,
                0xfe80, 0xfebf, 0xfec0, 0xfeff, 0xff00, 0xfbff,
            ]),
            low in 0u128..3,
            shape in 0u8..4,
        ) {
            let candidates = [
                bits,
                (u128::from(first) << 112) | (bits >> 16),
                (u128::from(first) << 112) | low,
                (0xffffu128 << 32) | (bits & 0xffff_ffff),
                low,
                (u128::from(first) << 112) | ((bits >> 16) & u128::from(u16::MAX) << (96 - 16 * u32::from(shape))),
            ];
            for b in candidates {
                let v6 = Ipv6Addr::from(b);
                prop_assert_eq!(policy(IpAddr::V6(v6)), policy_by_table(v6), "{}", v6);
            }
        }
    }
}
