//! TLS that works out of the box: a crypto provider chosen by this build's features (`ring`,
//! `aws-lc-rs`), and the platform's certificate verifier (feature `platform-verifier`).
//!
//! rustls' `ClientConfig::builder()` takes the process-wide default provider, and panics at
//! run time when none is installed and rustls was built with both providers or neither
//! (`ech` and `quic` together turn both on). Nothing here calls it: every config is made
//! with `builder_with_provider` and [`crypto_provider`].

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
#[cfg(feature = "platform-verifier")]
use rustls::pki_types::CertificateDer;
#[cfg(feature = "platform-verifier")]
use rustls::ClientConfig;

#[cfg(feature = "platform-verifier")]
use super::{Tls, TlsConfigError};

/// Returns the crypto provider eyeballs makes its rustls configs with (features `ring`,
/// `aws-lc-rs`): the process-wide default when one is installed
/// (`CryptoProvider::install_default`), otherwise aws-lc-rs with feature `aws-lc-rs` (or
/// `ech`, which needs its HPKE), otherwise ring (feature `ring`, or `quic`, whose quinn is
/// built on ring).
///
/// Build your own config with it, never with `ClientConfig::builder()`, which panics at
/// run time when rustls was built with two providers and none is installed:
///
/// ```
/// use std::sync::Arc;
///
/// let config = eyeballs_net::rustls::ClientConfig::builder_with_provider(
///     eyeballs_net::crypto_provider(),
/// )
/// .with_safe_default_protocol_versions()?
/// .with_root_certificates(eyeballs_net::rustls::RootCertStore::empty())
/// .with_no_client_auth();
/// # let _ = config;
/// # Ok::<(), eyeballs_net::rustls::Error>(())
/// ```
pub fn crypto_provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return installed.clone();
    }
    #[cfg(feature = "aws-lc-rs")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "aws-lc-rs"))]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}

/// Returns a rustls client config that checks certificates the way the platform does
/// (feature `platform-verifier`, and a provider feature), with no ALPN id yet: TLS 1.3 and
/// 1.2 on [`crypto_provider`], no client certificate, and `extra_roots` trusted besides the
/// platform's (give none for the platform's alone; not on Android).
///
/// The platform verifier is rustls-platform-verifier: on macOS, iOS and Windows the
/// operating system checks the chain (its trust settings, enterprise roots, revocation);
/// on Linux and the BSDs, webpki checks it against the system's CA certificates
/// (`/etc/ssl/certs` and the like, read when the config is made); on Android, the
/// platform's verifier through JNI.
///
/// # Errors
///
/// [`TlsConfigError::Verifier`] when the verifier cannot start (on Linux: no CA
/// certificate found on the system and no extra root given, or an extra root that is not
/// a usable certificate), [`TlsConfigError::Provider`] for an installed default provider
/// without TLS 1.2 or 1.3.
#[cfg(feature = "platform-verifier")]
pub fn platform_client_config<I>(extra_roots: I) -> Result<ClientConfig, TlsConfigError>
where
    I: IntoIterator<Item = CertificateDer<'static>>,
{
    use rustls_platform_verifier::Verifier;
    let provider = crypto_provider();
    let verifier_error = |e: rustls::Error| TlsConfigError::Verifier(e.to_string());
    #[cfg(not(target_os = "android"))]
    let verifier = Verifier::new_with_extra_roots(extra_roots, provider.clone());
    #[cfg(target_os = "android")]
    let verifier = match extra_roots.into_iter().next() {
        None => Verifier::new(provider.clone()),
        Some(_) => Err(rustls::Error::General(
            "extra roots are not supported on Android".to_owned(),
        )),
    };
    let verifier = verifier.map_err(verifier_error)?;
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError::Provider(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

#[cfg(feature = "platform-verifier")]
impl Tls {
    /// A TLS race that trusts what the platform trusts, offering `alpn` (best first; `h3`,
    /// `h3-*`, `hq-*` and `doq` over QUIC where the connect can dial it, the others over
    /// TCP): one call from nothing to a working [`Tls`] (features `platform-verifier` and
    /// `ring` or `aws-lc-rs`; see [`platform_client_config`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tls = eyeballs_net::Tls::platform(&["h3", "h2", "http/1.1"])?;
    /// # let _ = tls;
    /// # Ok::<(), eyeballs_net::TlsConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`platform_client_config`] and [`Tls::new`]: [`TlsConfigError::NoAlpn`] for no
    /// id, [`TlsConfigError::InvalidAlpn`] for an id of 0 or over 255 bytes.
    pub fn platform(alpn: &[&str]) -> Result<Tls, TlsConfigError> {
        let mut config = platform_client_config([])?;
        config.alpn_protocols = alpn.iter().map(|id| id.as_bytes().to_vec()).collect();
        Tls::new(Arc::new(config))
    }
}
