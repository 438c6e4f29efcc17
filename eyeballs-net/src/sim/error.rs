//! Why a script cannot run: each error names what the script said and why it cannot
//! happen on a real network.

use std::fmt;

use eyeballs_core::{ConfigError, QueryKind, Transport};

use super::network::Family;

/// A script that cannot happen, or a setting that cannot work: from
/// [`Sim::new`](super::Sim::new), [`SimBuilder::build`](super::SimBuilder::build) and
/// [`SimRuntime::new`](super::SimRuntime::new).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptError {
    /// Text that is not an IP address (or, for an endpoint, not a socket address).
    Address {
        /// Where it was: "the AAAA answer of example.test", "an endpoint", ...
        place: String,
        /// The text.
        text: String,
    },
    /// An address of the wrong family in an answer: an IPv4 address in an AAAA answer,
    /// an IPv6 one in an A answer.
    WrongFamily {
        /// The name answered.
        name: String,
        /// The record type.
        kind: QueryKind,
        /// The address.
        addr: String,
    },
    /// Records for an address query, or addresses for an HTTPS query.
    WrongRecordType {
        /// The name answered.
        name: String,
        /// The record type asked.
        kind: QueryKind,
    },
    /// A record type the simulated resolver is never asked: it asks AAAA, A and HTTPS
    /// separately.
    UnsupportedQuery {
        /// The name.
        name: String,
        /// The record type.
        kind: QueryKind,
    },
    /// A service record no DNS server could send (RFC 9460 wire format).
    MalformedRecord {
        /// The name it answers.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An endpoint scripted to accept that the host has no route to (its family taken
    /// away, or a route without a source): it can never be reached.
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// Its transport.
        transport: Transport,
        /// The family without a route.
        family: Family,
    },
    /// A handshake scripted for an endpoint that never accepts the connect.
    HandshakeWithoutConnect {
        /// The endpoint.
        endpoint: String,
        /// Its transport.
        transport: Transport,
    },
    /// A race configuration that cannot work ([`Config::validate`](eyeballs_core::Config::validate)).
    Config(ConfigError),
    /// A handshake timeout of zero: every TLS or QUIC attempt would stall at once.
    HandshakeTimeout,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptError::Address { place, text } => {
                write!(f, "{place}: {text:?} is not an IP address")
            }
            ScriptError::WrongFamily { name, kind, addr } => {
                let want = if *kind == QueryKind::Aaaa {
                    "IPv6"
                } else {
                    "IPv4"
                };
                write!(
                    f,
                    "the {kind} answer of {name} holds {addr}, but a {kind} record holds only \
                     {want} addresses"
                )
            }
            ScriptError::WrongRecordType { name, kind } => match kind {
                QueryKind::Https => write!(
                    f,
                    "the HTTPS answer of {name} holds addresses: give it Answer::records"
                ),
                _ => write!(
                    f,
                    "the {kind} answer of {name} holds service records: give it Answer::addrs"
                ),
            },
            ScriptError::UnsupportedQuery { name, kind } => write!(
                f,
                "{name}: the simulated resolver never asks for {kind}; script AAAA, A and \
                 HTTPS separately"
            ),
            ScriptError::MalformedRecord { name, reason } => {
                write!(f, "an HTTPS record of {name} cannot be sent: {reason}")
            }
            ScriptError::Unreachable {
                endpoint,
                transport,
                family,
            } => write!(
                f,
                "{transport} {endpoint} is scripted to accept, but the host has no {family} \
                 route: it can never be reached (drop no_route({family:?}) or the endpoint)"
            ),
            ScriptError::HandshakeWithoutConnect {
                endpoint,
                transport,
            } => write!(
                f,
                "{transport} {endpoint} has a handshake but never accepts the connect: use \
                 Peer::accept(delay).handshake(...)"
            ),
            ScriptError::Config(e) => e.fmt(f),
            ScriptError::HandshakeTimeout => {
                f.write_str("handshake_timeout must be more than zero (default 10 s)")
            }
        }
    }
}

impl std::error::Error for ScriptError {}

impl From<ConfigError> for ScriptError {
    fn from(e: ConfigError) -> Self {
        ScriptError::Config(e)
    }
}
