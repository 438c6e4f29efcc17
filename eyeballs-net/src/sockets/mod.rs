//! Sockets and what the host knows about its routes: every attempt's socket options, the
//! non-blocking connect every dialer starts with, IPv6 zones, and the source address of
//! each destination (RFC 6724's rules and history's key, R12, R15).
//!
//! No runtime here: the loops register what these open.

mod connect;
mod options;
mod source;
mod zone;

#[cfg(feature = "blocking")]
pub(crate) use connect::connect_blocking;
pub(crate) use connect::{finish_connect, start_connect};
pub use options::{
    SocketHook, SocketOptionError, SocketOptions, MAX_KEEPALIVE_IDLE, MIN_KEEPALIVE_IDLE,
};
pub(crate) use source::{FlagsRead, Sources};
pub use source::{SOURCE_CACHE_CAPACITY, SOURCE_CACHE_TTL};
pub(crate) use zone::zone_index;
