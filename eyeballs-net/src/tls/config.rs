//! A [`Tls`](super::Tls)'s configuration, made once: the caller's rustls config split by
//! transport (each endpoint offers every id of its transport, V39), the ECH hook and its
//! cache (V34), QUIC's config; and what one attempt takes from it (its config, the name TLS
//! sends and checks: the caller's host, never a TargetName, RFC 9460 §9.1, V42).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use eyeballs_core::{Alpn, EchConfig, Endpoint, Host, HostPort, Protocols, Transport};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;

use super::errors::TlsConfigError;
#[cfg(feature = "quic")]
use super::quic::QuicConfig;
use crate::error::{AttemptError, AttemptErrorKind};

/// Makes a config that encrypts the ClientHello with one endpoint's ECH configuration: see
/// [`TlsBuilder::ech`](super::TlsBuilder::ech).
pub type EchHook = dyn Fn(&EchConfig) -> Result<ClientConfig, rustls::Error> + Send + Sync;

/// The most ECH configs (per transport) kept ready: a race's endpoints share their
/// record's config, so a few cover every race in flight.
const ECH_CACHE: usize = 16;

/// Everything a TLS-aware race takes its per-attempt configuration from.
pub(crate) struct Configs {
    pub(crate) protocols: Protocols,
    /// The caller's config with the TCP ids as `alpn_protocols`.
    tcp: Arc<ClientConfig>,
    pub(crate) ech: Option<Arc<EchHook>>,
    /// ECH configs made by the hook, newest last.
    ech_cache: Mutex<VecDeque<(EchConfig, Transport, Arc<ClientConfig>)>>,
    #[cfg(feature = "quic")]
    pub(crate) quic: Option<QuicConfig>,
}

/// What [`Configs::new`] is made of: the builder's settings.
pub(crate) struct Wanted {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) protocols: Option<Protocols>,
    pub(crate) tcp_only: bool,
    pub(crate) ech: Option<Arc<EchHook>>,
    #[cfg(feature = "quic")]
    pub(crate) transport: Option<Arc<quinn::TransportConfig>>,
}

impl Configs {
    /// Checks the ALPN ids and makes the per-transport configs.
    pub(crate) fn new(wanted: Wanted) -> Result<Self, TlsConfigError> {
        let ids = match wanted.protocols {
            Some(p) => p,
            None => split_alpn(&wanted.config),
        };
        if let Some(bad) = invalid(&ids) {
            return Err(TlsConfigError::InvalidAlpn(bad.clone()));
        }
        let mut protocols = Protocols::new();
        for a in ids.alpn(Transport::Tcp) {
            protocols = protocols.tcp(a.clone());
        }
        // Without QUIC in this build, its ids are never offered.
        if cfg!(feature = "quic") && !wanted.tcp_only {
            for a in ids.alpn(Transport::Quic) {
                protocols = protocols.quic(a.clone());
            }
        }
        if protocols.alpn(Transport::Tcp).is_empty() && protocols.alpn(Transport::Quic).is_empty() {
            return Err(TlsConfigError::NoAlpn);
        }
        let tcp = with_alpn(&wanted.config, protocols.alpn(Transport::Tcp));
        #[cfg(feature = "quic")]
        let quic = match protocols.alpn(Transport::Quic) {
            [] => None,
            ids => Some(QuicConfig::new(
                with_alpn(&wanted.config, ids),
                wanted.transport,
            )?),
        };
        Ok(Configs {
            protocols,
            tcp,
            ech: wanted.ech,
            ech_cache: Mutex::new(VecDeque::new()),
            #[cfg(feature = "quic")]
            quic,
        })
    }

    /// The protocols a race offers: QUIC's only when the connect can dial QUIC.
    pub(crate) fn offered(&self, quic: bool) -> Protocols {
        let all = &self.protocols;
        if quic || all.alpn(Transport::Quic).is_empty() {
            return all.clone();
        }
        all.alpn(Transport::Tcp)
            .iter()
            .fold(Protocols::new(), |p, a| p.tcp(a.clone()))
    }

    /// Returns the config for `endpoint`: the transport's (its ALPN ids are the caller's
    /// for that transport, V39), or, for an endpoint with ECH, the hook's.
    pub(crate) fn config_for(
        &self,
        endpoint: &Endpoint,
        transport: Transport,
    ) -> Result<Arc<ClientConfig>, AttemptError> {
        let Some(ech) = endpoint.ech() else {
            return Ok(match transport {
                Transport::Tcp if same_alpn(&self.tcp, endpoint.alpn()) => self.tcp.clone(),
                #[cfg(feature = "quic")]
                Transport::Quic => match &self.quic {
                    Some(q) if same_alpn(q.rustls(), endpoint.alpn()) => q.rustls().clone(),
                    _ => with_alpn(&self.tcp, endpoint.alpn()),
                },
                _ => with_alpn(&self.tcp, endpoint.alpn()),
            });
        };
        let Some(hook) = &self.ech else {
            return Err(AttemptError::with_source(
                endpoint.clone(),
                AttemptErrorKind::Ech,
                "the endpoint has an ECH configuration and no ECH hook is set (TlsBuilder::ech)",
            ));
        };
        let mut cache = self
            .ech_cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, _, c)) = cache.iter().find(|(e, t, _)| e == ech && *t == transport) {
            return Ok(c.clone());
        }
        let mut config = hook(ech)
            .map_err(|e| AttemptError::with_source(endpoint.clone(), AttemptErrorKind::Ech, e))?;
        config.alpn_protocols = endpoint
            .alpn()
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let config = Arc::new(config);
        if cache.len() >= ECH_CACHE {
            cache.pop_front();
        }
        cache.push_back((ech.clone(), transport, config.clone()));
        Ok(config)
    }
}

/// The name TLS sends and checks: the caller's host (never a TargetName, RFC 9460 §9.1);
/// an IP literal (or a list of addresses) is checked as that IP address, with no SNI.
pub(crate) fn server_name(
    host: &HostPort,
    endpoint: &Endpoint,
) -> Result<ServerName<'static>, AttemptError> {
    let ip = match host.host() {
        Host::Name(name) => {
            return ServerName::try_from(name.clone()).map_err(|e| {
                AttemptError::with_source(endpoint.clone(), AttemptErrorKind::ServerName, e)
            })
        }
        Host::Ip(ip) => *ip,
        Host::ZonedIpv6 { addr, .. } => IpAddr::V6(*addr),
        _ => endpoint.addr().ip(),
    };
    Ok(ServerName::IpAddress(ip.into()))
}

/// The protocols of a config's `alpn_protocols`, as [`Tls::new`](super::Tls::new) splits them: QUIC
/// ids (`h3`, `h3-*`, `hq-*`, `doq`) over QUIC, the rest over TCP, in the config's order.
fn split_alpn(config: &ClientConfig) -> Protocols {
    config
        .alpn_protocols
        .iter()
        .fold(Protocols::new(), |p, id| match is_quic_id(id) {
            true => p.quic(Alpn::new(id)),
            false => p.tcp(Alpn::new(id)),
        })
}

fn is_quic_id(id: &[u8]) -> bool {
    id.starts_with(b"h3") || id.starts_with(b"hq-") || id == b"doq"
}

fn invalid(protocols: &Protocols) -> Option<&Alpn> {
    let tcp = protocols.alpn(Transport::Tcp).iter();
    tcp.chain(protocols.alpn(Transport::Quic))
        .find(|a| !a.is_valid())
}

pub(crate) fn same_alpn(config: &ClientConfig, alpn: &[Alpn]) -> bool {
    config.alpn_protocols.len() == alpn.len()
        && config
            .alpn_protocols
            .iter()
            .zip(alpn)
            .all(|(c, a)| c.as_slice() == a.as_bytes())
}

/// `config` with `alpn` as its ALPN ids: the same `Arc` when it has them already.
pub(crate) fn with_alpn(config: &Arc<ClientConfig>, alpn: &[Alpn]) -> Arc<ClientConfig> {
    if same_alpn(config, alpn) {
        return config.clone();
    }
    let mut c = ClientConfig::clone(config);
    c.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    Arc::new(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quic_ids_are_split_from_tcp_ids() {
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap_or_else(|e| unreachable!("ring has TLS 1.3: {e}"))
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
        config.alpn_protocols = vec![
            b"h3".to_vec(),
            b"h2".to_vec(),
            b"http/1.1".to_vec(),
            b"h3-29".to_vec(),
            b"doq".to_vec(),
            b"dot".to_vec(),
        ];
        let p = split_alpn(&config);
        let ids = |t| -> Vec<String> { p.alpn(t).iter().map(Alpn::to_string).collect() };
        assert_eq!(ids(Transport::Quic), ["h3", "h3-29", "doq"]);
        assert_eq!(ids(Transport::Tcp), ["h2", "http/1.1", "dot"]);
    }
}
