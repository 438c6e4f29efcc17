//! NAT64 address synthesis (RFC 8305 §7.1, R36; RFC 6052 §2.2).

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

    /// Returns the IPv4-embedded IPv6 address for `v4` (RFC 6052 §2.2).
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
