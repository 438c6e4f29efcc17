//! NAT64 addresses (RFC 6052 §2.2): synthesis (RFC 8305 §7.1, R36; HEv3 at HEAD §8.3, V52)
//! and de-synthesis (HEAD §8.2, V51, V62), never of a non-global IPv4 address under the
//! well-known prefix (RFC 6052 §3.1, V57).

use core::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A NAT64 prefix: an IPv6 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 6052 §2.2).
///
/// RFC 8305 §7.1: "the client SHOULD ... synthesize IPv6 addresses ... from the IPv4 address
/// literal using the NAT64 prefix, and ... append them to the list of addresses as if they had
/// been received in DNS responses." Discovering the prefix (RFC 7050) is the adapter's job.
///
/// # Examples
///
/// ```
/// use std::net::{Ipv4Addr, Ipv6Addr};
/// use eyeballs_core::Nat64Prefix;
///
/// let well_known = Nat64Prefix::WELL_KNOWN; // 64:ff9b::/96
/// assert_eq!(
///     well_known.synthesize(Ipv4Addr::new(192, 0, 2, 33)),
///     "64:ff9b::c000:221".parse::<Ipv6Addr>().unwrap(),
/// );
/// let p = Nat64Prefix::new("2001:db8:100::".parse().unwrap(), 40)?;
/// assert_eq!(
///     p.synthesize(Ipv4Addr::new(192, 0, 2, 33)),
///     "2001:db8:1c0:2:21::".parse::<Ipv6Addr>().unwrap(),
/// );
/// # Ok::<(), eyeballs_core::Nat64Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nat64Prefix {
    prefix: Ipv6Addr,
    len: u8,
}

impl Nat64Prefix {
    /// The Well-Known Prefix `64:ff9b::/96` (RFC 6052 §2.1).
    pub const WELL_KNOWN: Nat64Prefix = Nat64Prefix {
        prefix: Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        len: 96,
    };

    /// Makes a prefix from its address and length.
    ///
    /// # Errors
    ///
    /// [`Nat64Error::Length`] when `len` is not 32, 40, 48, 56, 64 or 96;
    /// [`Nat64Error::HostBits`] when bits beyond `len` are set; [`Nat64Error::ReservedOctet`]
    /// when bits 64 to 71, which RFC 6052 reserves, are not zero.
    pub fn new(prefix: Ipv6Addr, len: u8) -> Result<Self, Nat64Error> {
        if !matches!(len, 32 | 40 | 48 | 56 | 64 | 96) {
            return Err(Nat64Error::Length(len));
        }
        let bits = u128::from(prefix);
        let host_mask = u128::MAX >> len;
        if bits & host_mask != 0 {
            return Err(Nat64Error::HostBits { prefix, len });
        }
        if prefix.octets()[8] != 0 {
            return Err(Nat64Error::ReservedOctet(prefix));
        }
        Ok(Nat64Prefix { prefix, len })
    }

    /// Returns the prefix's address.
    pub fn addr(&self) -> Ipv6Addr {
        self.prefix
    }

    /// Returns the prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Returns the IPv4-embedded IPv6 address for `v4` (RFC 6052 §2.2), or `None` when this
    /// prefix may not represent it: the well-known prefix never represents a non-global IPv4
    /// address (RFC 6052 §3.1, V57; see [`Nat64Prefix::represents`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use eyeballs_core::Nat64Prefix;
    ///
    /// let wkp = Nat64Prefix::WELL_KNOWN;
    /// assert_eq!(wkp.try_synthesize(Ipv4Addr::new(10, 1, 2, 3)), None); // RFC 1918
    /// assert!(wkp.try_synthesize(Ipv4Addr::new(8, 8, 8, 8)).is_some());
    /// let local = Nat64Prefix::new("2001:db8:64::".parse().unwrap(), 96)?;
    /// assert!(local.try_synthesize(Ipv4Addr::new(10, 1, 2, 3)).is_some());
    /// # Ok::<(), eyeballs_core::Nat64Error>(())
    /// ```
    pub fn try_synthesize(&self, v4: Ipv4Addr) -> Option<Ipv6Addr> {
        self.represents(v4).then(|| self.synthesize(v4))
    }

    /// Returns the IPv4 address that `v6` embeds under this prefix (RFC 6052 §2.2): `v6`
    /// starts with the prefix (and, under a prefix shorter than /96, has octet 8 zero), and
    /// the prefix may represent the address it embeds ([`Nat64Prefix::represents`]).
    /// `None` for any other address. HEv3 at HEAD (§8.2, V51, V62) de-synthesizes every AAAA
    /// answer with it before grouping and sorting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use eyeballs_core::Nat64Prefix;
    ///
    /// let wkp = Nat64Prefix::WELL_KNOWN;
    /// assert_eq!(wkp.extract("64:ff9b::c000:221".parse().unwrap()), Some(Ipv4Addr::new(192, 0, 2, 33)));
    /// assert_eq!(wkp.extract("2001:db8::1".parse().unwrap()), None);
    /// assert_eq!(wkp.extract("64:ff9b::c612:102".parse().unwrap()), None); // 198.18.1.2
    /// ```
    pub fn extract(&self, v6: Ipv6Addr) -> Option<Ipv4Addr> {
        let len = u32::from(self.len);
        let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
        let bits = u128::from(v6);
        if bits & mask != u128::from(self.prefix) & mask {
            return None;
        }
        let octets = v6.octets();
        if self.len < 96 && octets[8] != 0 {
            return None;
        }
        let mut v4 = [0u8; 4];
        let mut at = usize::from(self.len / 8);
        for byte in &mut v4 {
            if at == 8 {
                at += 1;
            }
            *byte = octets[at];
            at += 1;
        }
        let v4 = Ipv4Addr::from(v4);
        self.represents(v4).then_some(v4)
    }

    /// Returns whether this prefix may represent `v4`: any network-specific prefix may; the
    /// well-known prefix `64:ff9b::/96` only a global address (RFC 6052 §3.1, V57), so not
    /// "this network" (0/8), private (RFC 1918), shared (100.64/10), loopback, link-local,
    /// IETF protocol assignments (192.0.0/24), benchmarking (198.18/15), multicast or
    /// reserved addresses. The documentation ranges (192.0.2/24, 198.51.100/24,
    /// 203.0.113/24) count as global here: RFC 6052's own examples synthesize 192.0.2.33
    /// under the well-known prefix.
    pub fn represents(&self, v4: Ipv4Addr) -> bool {
        *self != Nat64Prefix::WELL_KNOWN || is_global(v4)
    }

    /// Returns the IPv4-embedded IPv6 address for `v4` (RFC 6052 §2.2), whatever `v4` is
    /// (see [`Nat64Prefix::try_synthesize`] for the rule of RFC 6052 §3.1).
    ///
    /// The IPv4 octets follow the prefix, skipping octet 8 (bits 64 to 71), which stays zero.
    pub fn synthesize(&self, v4: Ipv4Addr) -> Ipv6Addr {
        let mut out = self.prefix.octets();
        let mut at = usize::from(self.len / 8);
        for byte in v4.octets() {
            if at == 8 {
                at += 1;
            }
            out[at] = byte;
            at += 1;
        }
        Ipv6Addr::from(out)
    }
}

impl Nat64Prefix {
    /// The IPv4 addresses that `ipv4only.arpa` resolves to (RFC 7050 §2.2), which a DNS64
    /// server embeds in the AAAA answers it synthesizes for that name.
    pub const IPV4ONLY_ARPA: [Ipv4Addr; 2] =
        [Ipv4Addr::new(192, 0, 0, 170), Ipv4Addr::new(192, 0, 0, 171)];

    /// Finds the NAT64 prefix in the AAAA answer for `ipv4only.arpa` (RFC 7050 §3): the first
    /// address that embeds one of [`Nat64Prefix::IPV4ONLY_ARPA`] at the place one of the RFC
    /// 6052 prefix lengths puts it, tried from /96 down. `None` when the network has no DNS64
    /// (no AAAA, or none that embeds the well-known addresses).
    ///
    /// # Examples
    ///
    /// ```
    /// use eyeballs_core::Nat64Prefix;
    ///
    /// let answer = ["64:ff9b::c000:aa".parse().unwrap()];
    /// assert_eq!(Nat64Prefix::discover(&answer), Some(Nat64Prefix::WELL_KNOWN));
    /// assert_eq!(Nat64Prefix::discover(&["2001:db8::1".parse().unwrap()]), None);
    /// ```
    pub fn discover(answer: &[Ipv6Addr]) -> Option<Nat64Prefix> {
        answer.iter().find_map(|addr| {
            [96u8, 64, 56, 48, 40, 32].into_iter().find_map(|len| {
                let mask = u128::MAX << (128 - u32::from(len));
                let prefix =
                    Nat64Prefix::new(Ipv6Addr::from(u128::from(*addr) & mask), len).ok()?;
                Nat64Prefix::IPV4ONLY_ARPA
                    .iter()
                    .any(|v4| prefix.synthesize(*v4) == *addr)
                    .then_some(prefix)
            })
        })
    }
}

/// Whether the well-known prefix may represent `v4` (see [`Nat64Prefix::represents`]).
fn is_global(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b)))
}

impl fmt::Display for Nat64Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix, self.len)
    }
}

/// Why a [`Nat64Prefix`] was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Nat64Error {
    /// RFC 6052 allows only prefix lengths 32, 40, 48, 56, 64 and 96.
    Length(u8),
    /// Bits beyond the prefix length are set.
    HostBits {
        /// The address given.
        prefix: Ipv6Addr,
        /// The length given.
        len: u8,
    },
    /// Octet 8 (bits 64 to 71) is not zero, as RFC 6052 §2.2 requires.
    ReservedOctet(Ipv6Addr),
}

impl fmt::Display for Nat64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nat64Error::Length(len) => write!(
                f,
                "NAT64 prefix length /{len} is not one RFC 6052 allows (32, 40, 48, 56, 64, 96)"
            ),
            Nat64Error::HostBits { prefix, len } => {
                write!(f, "NAT64 prefix {prefix}/{len} has bits set beyond /{len}")
            }
            Nat64Error::ReservedOctet(prefix) => write!(
                f,
                "NAT64 prefix {prefix} has bits 64-71 set; RFC 6052 reserves them as zero"
            ),
        }
    }
}

impl std::error::Error for Nat64Error {}
