//! The ids of a race's queries and attempts, and what a query asks for.

use core::fmt;

/// Identifies one DNS query of a race. Counted from 0 in the order the queries are asked for.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryId(pub(crate) usize);

/// Identifies one connection attempt of a race. Counted from 0 in the order attempts start.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum QueryKind {
    /// IPv6 addresses (AAAA records).
    #[cfg_attr(feature = "serde", serde(rename = "AAAA"))]
    Aaaa,
    /// IPv4 addresses (A records).
    A,
    /// Both families in one call, as `getaddrinfo` answers.
    #[cfg_attr(feature = "serde", serde(rename = "AAAA+A"))]
    Both,
    /// HTTPS records (RFC 9460 §9): service information, answered with
    /// [`Input::ResolvedServices`](crate::Input::ResolvedServices).
    #[cfg_attr(feature = "serde", serde(rename = "HTTPS"))]
    Https,
}

impl fmt::Display for QueryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryKind::Aaaa => "AAAA",
            QueryKind::A => "A",
            QueryKind::Both => "AAAA+A",
            QueryKind::Https => "HTTPS",
        })
    }
}
