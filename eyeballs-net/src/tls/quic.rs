//! QUIC's side of a [`Tls`](super::Tls) (feature `quic`): quinn's client config, made once
//! from the caller's rustls config with the QUIC ids.

use std::sync::Arc;

use eyeballs_core::Endpoint;
use quinn::crypto::rustls::QuicClientConfig;
use rustls::ClientConfig;

use super::errors::TlsConfigError;
use crate::error::{AttemptError, AttemptErrorKind};

/// quinn's config for the QUIC ids, and what an ECH endpoint's is made with.
pub(crate) struct QuicConfig {
    /// The rustls config with the QUIC ids as `alpn_protocols`.
    rustls: Arc<ClientConfig>,
    /// quinn's config made of it.
    config: quinn::ClientConfig,
    transport: Option<Arc<quinn::TransportConfig>>,
}

impl QuicConfig {
    /// Makes quinn's config of `rustls`.
    pub(crate) fn new(
        rustls: Arc<ClientConfig>,
        transport: Option<Arc<quinn::TransportConfig>>,
    ) -> Result<Self, TlsConfigError> {
        let config = quinn_config(rustls.clone(), transport.as_ref())
            .map_err(|e| TlsConfigError::Quic(e.to_string()))?;
        Ok(QuicConfig {
            rustls,
            config,
            transport,
        })
    }

    /// The rustls config with the QUIC ids.
    pub(crate) fn rustls(&self) -> &Arc<ClientConfig> {
        &self.rustls
    }

    /// quinn's config for `rustls` (the shared one, or an endpoint's own: ECH, other ids).
    pub(crate) fn client_config(
        &self,
        endpoint: &Endpoint,
        rustls: Arc<ClientConfig>,
    ) -> Result<quinn::ClientConfig, AttemptError> {
        if Arc::ptr_eq(&rustls, &self.rustls) {
            return Ok(self.config.clone());
        }
        let kind = match endpoint.ech() {
            Some(_) => AttemptErrorKind::Ech,
            None => AttemptErrorKind::Quic,
        };
        quinn_config(rustls, self.transport.as_ref())
            .map_err(|e| AttemptError::with_source(endpoint.clone(), kind, e))
    }
}

fn quinn_config(
    rustls: Arc<ClientConfig>,
    transport: Option<&Arc<quinn::TransportConfig>>,
) -> Result<quinn::ClientConfig, quinn::crypto::rustls::NoInitialCipherSuite> {
    let mut config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(rustls)?));
    if let Some(t) = transport {
        config.transport_config(t.clone());
    }
    Ok(config)
}
