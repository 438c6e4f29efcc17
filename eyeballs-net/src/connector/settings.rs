//! What a connector holds, shared by its clones and read by every race it runs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_core::Config;

use super::history::SharedHistory;
use crate::alt_svc::AltSvcStore;
use crate::proxy::Proxy;
use crate::resolve::cache::SharedDnsCache;
use crate::resolve::Resolve;
use crate::sockets::{SocketOptions, Sources};

/// A connector's settings and state: built once by the builder, never changed but for
/// the history, the DNS cache, the source cache and the alternative services, which live
/// behind their own locks.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) socket: SocketOptions,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) history: SharedHistory,
    /// Answers with their TTLs, for optimistic DNS (off by default).
    pub(crate) dns_cache: SharedDnsCache,
    /// Where source facts come from: probed (a user's connector) or given (a simulated host).
    pub(crate) sources: Sources,
    pub(crate) handshake_timeout: Duration,
    /// The alternative services users set per origin, which TLS connects race.
    pub(crate) alt_svc: AltSvcStore,
    /// The proxy every connect goes through (V60), if any.
    pub(crate) proxy: Option<Proxy>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("socket", &self.socket)
            .field("history", &self.history.is_on())
            .field("dns_cache", &self.dns_cache.is_on())
            .field("handshake_timeout", &self.handshake_timeout)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}
