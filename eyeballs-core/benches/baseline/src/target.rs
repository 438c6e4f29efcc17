//! What a race is about: its target, and the ids of its queries and attempts.

use core::fmt;
use std::net::SocketAddr;

/// Identifies one DNS query of a race. Counted from 0 in the order the queries are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryId(pub(crate) usize);

/// Identifies one connection attempt of a race. Counted from 0 in the order attempts start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttemptId(pub(crate) usize);

macro_rules! id_methods {
    ($t:ident, $what:literal) => {
        impl $t {
            #[doc = concat!("Makes the id of the ", $what, " with this index (for tests and replays).")]
            pub const fn from_index(index: usize) -> Self {
                $t(index)
            }

            #[doc = concat!("Returns the index of the ", $what, ", counted from 0.")]
            pub const fn index(self) -> usize {
                self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "#{}", self.0)
            }
        }
    };
}
id_methods!(QueryId, "query");
id_methods!(AttemptId, "attempt");

/// What a DNS query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryKind {
    /// IPv6 addresses (AAAA records).
    Aaaa,
    /// IPv4 addresses (A records).
    A,
    /// Both families in one call, as `getaddrinfo` answers.
    Both,
}

impl fmt::Display for QueryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryKind::Aaaa => "AAAA",
            QueryKind::A => "A",
            QueryKind::Both => "AAAA+A",
        })
    }
}

/// What a race connects to: a host name to resolve, or addresses given directly.
///
/// # Examples
///
/// ```
/// use eyeballs_core::Target;
///
/// let by_name = Target::host(443); // the race asks for AAAA and A queries
/// let literal = Target::addrs(["[::1]:443".parse().unwrap(), "127.0.0.1:443".parse().unwrap()]);
/// # let _ = (by_name, literal);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub(crate) kind: TargetKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetKind {
    Host { port: u16, combined: bool },
    Addrs(Vec<SocketAddr>),
}

impl Target {
    /// A host name resolved with two queries, AAAA then A (R1), answered separately, so the
    /// Resolution Delay (R5) and late-answer merging (R8) apply. The adapter knows the name;
    /// the race only needs the port.
    pub fn host(port: u16) -> Self {
        Target {
            kind: TargetKind::Host {
                port,
                combined: false,
            },
        }
    }

    /// A host name resolved with one query that returns both families at once, as
    /// `getaddrinfo` does (R3's fallback). Its order is kept among equal RFC 6724 keys.
    pub fn host_combined(port: u16) -> Self {
        Target {
            kind: TargetKind::Host {
                port,
                combined: true,
            },
        }
    }

    /// Addresses given directly, such as IP literals: no DNS at all.
    pub fn addrs<I: IntoIterator<Item = SocketAddr>>(addrs: I) -> Self {
        Target {
            kind: TargetKind::Addrs(addrs.into_iter().collect()),
        }
    }
}
