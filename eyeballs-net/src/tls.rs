//! TLS-aware racing (HEv3 §6.1, gap G2), written once for the async drivers: an attempt
//! over TCP counts when its TLS handshake is done, QUIC attempts race beside it (feature
//! `quic`), each endpoint offers its ALPN ids and, with a hook, its ECH configuration.
//!
//! Runtime-independent: a driver says how it runs rustls over its TCP stream (a
//! [`TlsStack`]: tokio-rustls, futures-rustls) and where quinn runs; everything else is
//! here.

use std::collections::VecDeque;
use std::fmt;
use std::future::ready;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use eyeballs_core::{Alpn, EchConfig, Endpoint, Host, HostPort, Protocols, Transport};
use rustls::pki_types::ServerName;
use rustls::{AlertDescription, ClientConfig, PeerIncompatible, PeerMisbehaved};

use crate::attempt_error::{AttemptError, AttemptErrorKind};
use crate::drive::Connecting;
use crate::handshake::{AttemptContext, Handshake, Next};

/// How a runtime runs rustls over its TCP stream, and where it runs quinn: what a driver
/// gives [`Tls`] (`eyeballs-tokio` uses tokio-rustls and quinn's tokio runtime,
/// `eyeballs-async-std` futures-rustls).
pub trait TlsStack: Send + Sync + 'static {
    /// The runtime's TCP stream.
    type Tcp: Send + 'static;
    /// The TLS stream over it.
    type Stream: Send + 'static;

    /// Runs a client handshake over `stream` with `config`, sending `name` as SNI (none for
    /// an IP address) and checking the certificate against it.
    fn connect(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        stream: Self::Tcp,
    ) -> Connecting<Self::Stream>;

    /// Returns the ALPN id the handshake of `stream` negotiated.
    fn alpn(stream: &Self::Stream) -> Option<&[u8]>;

    /// Returns the runtime quinn runs on, or `None` when this stack does not do QUIC (its
    /// QUIC ALPN ids are then not offered). Default: `None`.
    #[cfg(feature = "quic")]
    fn quic_runtime(&self) -> Option<Arc<dyn quinn::Runtime>> {
        None
    }
}

/// Why a [`Tls`] cannot be built: found before any connect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// No ALPN id to offer: the config's `alpn_protocols` is empty, or holds only QUIC ids
    /// where QUIC is not available. HEv3 races protocols, so it needs at least one.
    NoAlpn,
    /// An ALPN id RFC 7301 does not allow (empty, or over 255 bytes).
    InvalidAlpn(Alpn),
    /// The rustls config cannot run QUIC (quinn needs TLS 1.3 with
    /// `TLS13_AES_128_GCM_SHA256`).
    Quic(String),
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsConfigError::NoAlpn => f.write_str(
                "no ALPN id to offer: set the rustls ClientConfig's alpn_protocols \
                 (h3 needs QUIC, feature `quic` on tokio)",
            ),
            TlsConfigError::InvalidAlpn(a) => {
                write!(f, "ALPN id {a:?} is not 1 to 255 bytes (RFC 7301)")
            }
            TlsConfigError::Quic(e) => write!(f, "the rustls config cannot run QUIC: {e}"),
        }
    }
}

impl std::error::Error for TlsConfigError {}

impl From<TlsConfigError> for io::Error {
    fn from(e: TlsConfigError) -> Self {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// Makes a config that encrypts the ClientHello with one endpoint's ECH configuration: see
/// [`TlsBuilder::ech`].
pub type EchHook = dyn Fn(&EchConfig) -> Result<ClientConfig, rustls::Error> + Send + Sync;

/// What a won TLS or QUIC attempt gives: the connection, the endpoint it went to, and the
/// ALPN id its handshake negotiated.
pub struct Connection<S> {
    established: Established<S>,
    endpoint: Endpoint,
    alpn: Option<Alpn>,
}

/// The connection of a [`Connection`]: TLS over TCP, or QUIC.
#[non_exhaustive]
pub enum Established<S> {
    /// A TLS stream over TCP.
    Tls(S),
    /// A QUIC connection (its UDP socket is the connector's, shared: see [`Tls`]).
    #[cfg(feature = "quic")]
    Quic(quinn::Connection),
}

impl<S> Connection<S> {
    /// Returns the endpoint that won: address, transport, the ALPN ids offered, ECH.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Returns the ALPN id the server chose, or `None` when a TLS server chose none
    /// (HTTP/1.1, for HTTPS). A QUIC connection always has one.
    pub fn alpn(&self) -> Option<&Alpn> {
        self.alpn.as_ref()
    }

    /// Returns the transport of the connection.
    pub fn transport(&self) -> Transport {
        self.endpoint.transport()
    }

    /// Returns the connection.
    pub fn established(&self) -> &Established<S> {
        &self.established
    }

    /// Returns the connection, the endpoint and the ALPN id.
    pub fn into_parts(self) -> (Established<S>, Endpoint, Option<Alpn>) {
        (self.established, self.endpoint, self.alpn)
    }

    /// Returns the TLS stream, or `None` for a QUIC connection.
    pub fn into_tls(self) -> Option<S> {
        match self.established {
            Established::Tls(s) => Some(s),
            #[cfg(feature = "quic")]
            Established::Quic(_) => None,
        }
    }

    /// Returns the QUIC connection, or `None` for TLS over TCP.
    #[cfg(feature = "quic")]
    pub fn into_quic(self) -> Option<quinn::Connection> {
        match self.established {
            Established::Quic(c) => Some(c),
            Established::Tls(_) => None,
        }
    }
}

impl<S> fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.established {
            Established::Tls(_) => "TLS",
            #[cfg(feature = "quic")]
            Established::Quic(_) => "QUIC",
        };
        f.debug_struct("Connection")
            .field("established", &kind)
            .field("endpoint", &self.endpoint)
            .field("alpn", &self.alpn)
            .finish()
    }
}

/// The handshake of a TLS-aware race: TCP then TLS, and QUIC (feature `quic`, where the
/// driver runs quinn), offering each endpoint's ALPN ids. Give it to a connector's
/// `connect_tls` (or `connect_with_handshake`).
///
/// - **ALPN**: the ids come from the rustls config's `alpn_protocols` (or
///   [`TlsBuilder::protocols`]); ids starting with `h3`, `hq-` and `doq` run over QUIC, the
///   others over TCP. Every endpoint offers all the ids of its transport (HEv3 V39), so the
///   per-transport configs are made once, here, and each attempt clones an `Arc`.
/// - **Server name**: always the host the caller asked for, never a record's TargetName
///   (RFC 9460 §9.1); an IP literal sends no SNI and checks the certificate's IP addresses.
/// - **Established**: an attempt counts when its TLS (or QUIC) handshake is done (HEv3 §6.1,
///   G2). Its TCP connect is progress, which pushes the next attempt back (V33, done by the
///   driver loop and the core).
/// - **ECH**: an endpoint with an ECH configuration (only with `Config::ech(true)`) uses
///   [`TlsBuilder::ech`]'s config, or fails with [`AttemptErrorKind::Ech`]: never a
///   cleartext ClientHello in its place.
/// - **Deadline**: a TLS handshake over TCP has none of its own (a server that stalls after
///   TCP holds the attempt until the race's [`Config::timeout`](eyeballs_core::Config::timeout)
///   or until another attempt wins); a QUIC handshake ends at quinn's idle timeout (30 s by
///   default, `TlsBuilder::quic_transport`).
/// - **QUIC sockets**: one quinn `Endpoint` (one UDP socket) per address family, made on
///   the first QUIC attempt of that family and shared by every race and connection of this
///   `Tls` and its clones; it closes when they are all gone. A losing QUIC attempt is
///   dropped, which sends CONNECTION_CLOSE. Keep one `Tls` per runtime: its sockets belong
///   to the runtime that made them.
///
/// Cloning is cheap (one `Arc`).
pub struct Tls<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Tls<T> {
    fn clone(&self) -> Self {
        Tls {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Tls<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("protocols", &self.inner.protocols)
            .field("ech", &self.inner.ech.is_some())
            .finish_non_exhaustive()
    }
}

/// The most ECH configs (per transport) a [`Tls`] keeps ready: a race's endpoints share
/// their record's config, so a few cover every race in flight.
const ECH_CACHE: usize = 16;

struct Inner<T> {
    stack: T,
    protocols: Protocols,
    /// The caller's config with the TCP ids as `alpn_protocols`.
    tcp: Arc<ClientConfig>,
    ech: Option<Arc<EchHook>>,
    /// ECH configs made by the hook, newest last.
    ech_cache: Mutex<VecDeque<(EchConfig, Transport, Arc<ClientConfig>)>>,
    #[cfg(feature = "quic")]
    quic: Option<crate::quic::QuicClient>,
}

/// Builds a [`Tls`]: the rustls config, the protocols, an ECH hook, QUIC transport
/// settings.
pub struct TlsBuilder<T> {
    stack: T,
    config: Arc<ClientConfig>,
    protocols: Option<Protocols>,
    ech: Option<Arc<EchHook>>,
    #[cfg(feature = "quic")]
    transport: Option<Arc<quinn::TransportConfig>>,
}

impl<T> fmt::Debug for TlsBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsBuilder")
            .field("protocols", &self.protocols)
            .finish_non_exhaustive()
    }
}

impl<T: TlsStack + Default> Tls<T> {
    /// A race over TCP+TLS (and QUIC where the driver has it) with `config`, offering its
    /// `alpn_protocols`.
    ///
    /// # Errors
    ///
    /// [`TlsConfigError::NoAlpn`] for an empty ALPN list (or only QUIC ids without QUIC),
    /// [`TlsConfigError::InvalidAlpn`] for an id of 0 or over 255 bytes,
    /// [`TlsConfigError::Quic`] for a config QUIC cannot use.
    pub fn new(config: Arc<ClientConfig>) -> Result<Self, TlsConfigError> {
        Tls::builder(config).build()
    }

    /// Starts a builder with `config`.
    pub fn builder(config: Arc<ClientConfig>) -> TlsBuilder<T> {
        TlsBuilder::with_stack(T::default(), config)
    }
}

impl<T> Tls<T> {
    /// Returns the protocols the race offers.
    pub fn protocols(&self) -> &Protocols {
        &self.inner.protocols
    }

    /// Returns how many quinn endpoints (UDP sockets) this `Tls` has opened so far: at most
    /// one per address family, unless a runtime that held one shut down.
    #[cfg(feature = "quic")]
    pub fn quic_sockets_opened(&self) -> usize {
        self.inner.quic.as_ref().map_or(0, |q| q.opened())
    }
}

impl<T> TlsBuilder<T> {
    /// Starts a builder with `stack` (the driver's TLS runtime) and `config`.
    pub fn with_stack(stack: T, config: Arc<ClientConfig>) -> Self {
        TlsBuilder {
            stack,
            config,
            protocols: None,
            ech: None,
            #[cfg(feature = "quic")]
            transport: None,
        }
    }

    /// Offers `protocols` instead of the config's `alpn_protocols` (which are then ignored).
    pub fn protocols(mut self, protocols: Protocols) -> Self {
        self.protocols = Some(protocols);
        self
    }

    /// Sets the hook that makes a config for an endpoint with an ECH configuration
    /// (RFC 9848; endpoints carry one only with `Config::ech(true)`).
    ///
    /// rustls sets ECH on its config builder (`ConfigBuilder::with_ech`) with HPKE suites
    /// from a crypto provider that has them (aws-lc-rs' `hpke::ALL_SUPPORTED_SUITES`; ring
    /// has none), so the hook builds the whole config: provider, ECH, root certificates.
    /// Its ALPN ids and the server name are set here afterwards. A hook error fails that
    /// attempt with [`AttemptErrorKind::Ech`]. Made configs are cached (16 per transport).
    pub fn ech<F>(mut self, hook: F) -> Self
    where
        F: Fn(&EchConfig) -> Result<ClientConfig, rustls::Error> + Send + Sync + 'static,
    {
        self.ech = Some(Arc::new(hook));
        self
    }

    /// Sets quinn's transport settings for QUIC attempts (idle timeout, keep-alive, ...);
    /// default quinn's.
    #[cfg(feature = "quic")]
    pub fn quic_transport(mut self, transport: Arc<quinn::TransportConfig>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Checks the ALPN ids and makes the per-transport configs.
    ///
    /// # Errors
    ///
    /// As [`Tls::new`].
    pub fn build(self) -> Result<Tls<T>, TlsConfigError>
    where
        T: TlsStack,
    {
        let wanted = match self.protocols {
            Some(p) => p,
            None => split_alpn(&self.config),
        };
        if let Some(bad) = invalid(&wanted) {
            return Err(TlsConfigError::InvalidAlpn(bad.clone()));
        }
        #[cfg(feature = "quic")]
        let runtime = self.stack.quic_runtime();
        #[cfg(not(feature = "quic"))]
        let runtime: Option<()> = None;
        // Without QUIC, its ids are not offered.
        let mut protocols = Protocols::new();
        for a in wanted.alpn(Transport::Tcp) {
            protocols = protocols.tcp(a.clone());
        }
        if runtime.is_some() {
            for a in wanted.alpn(Transport::Quic) {
                protocols = protocols.quic(a.clone());
            }
        }
        if protocols.alpn(Transport::Tcp).is_empty() && protocols.alpn(Transport::Quic).is_empty() {
            return Err(TlsConfigError::NoAlpn);
        }
        let tcp = with_alpn(&self.config, protocols.alpn(Transport::Tcp));
        #[cfg(feature = "quic")]
        let quic = match runtime {
            Some(runtime) if !protocols.alpn(Transport::Quic).is_empty() => {
                let config = with_alpn(&self.config, protocols.alpn(Transport::Quic));
                Some(crate::quic::QuicClient::new(
                    runtime,
                    config,
                    self.transport,
                )?)
            }
            _ => None,
        };
        Ok(Tls {
            inner: Arc::new(Inner {
                stack: self.stack,
                protocols,
                tcp,
                ech: self.ech,
                ech_cache: Mutex::new(VecDeque::new()),
                #[cfg(feature = "quic")]
                quic,
            }),
        })
    }
}

impl<T: TlsStack> Handshake<T::Tcp> for Tls<T> {
    type Output = Connection<T::Stream>;

    fn protocols(&self) -> Protocols {
        self.inner.protocols.clone()
    }

    fn https(&self) -> bool {
        true
    }

    fn tcp(&self, stream: T::Tcp, attempt: AttemptContext<'_>) -> Next<Self::Output> {
        let endpoint = attempt.endpoint.clone();
        let setup = self
            .inner
            .config_for(&endpoint, Transport::Tcp)
            .and_then(|config| Ok((config, server_name(attempt.host, &endpoint)?)));
        let (config, name) = match setup {
            Ok(s) => s,
            Err(e) => return Next::Then(Box::pin(ready(Err(e.into())))),
        };
        let tls = self.inner.stack.connect(config, name, stream);
        Next::Then(Box::pin(async move {
            let stream = tls
                .await
                .map_err(|e| io::Error::from(tls_io_error(&endpoint, e)))?;
            let alpn = T::alpn(&stream).map(Alpn::new);
            check_alpn(&endpoint, alpn.as_ref(), false)?;
            Ok(Connection {
                established: Established::Tls(stream),
                endpoint,
                alpn,
            })
        }))
    }

    #[cfg(feature = "quic")]
    fn quic(&self, attempt: AttemptContext<'_>) -> Connecting<Self::Output> {
        let endpoint = attempt.endpoint.clone();
        let Some(quic) = self.inner.quic.as_ref() else {
            let e = AttemptError::with_source(
                endpoint,
                AttemptErrorKind::Quic,
                "this connector does not speak QUIC",
            );
            return Box::pin(ready(Err(e.into())));
        };
        let setup = self
            .inner
            .config_for(&endpoint, Transport::Quic)
            .and_then(|config| {
                let name = server_name(attempt.host, &endpoint)?;
                Ok((quic.client_config(&endpoint, config)?, name))
            });
        let (config, name) = match setup {
            Ok(s) => s,
            Err(e) => return Box::pin(ready(Err(e.into()))),
        };
        let connecting = quic.connect(&endpoint, config, &name);
        Box::pin(async move {
            let (connection, alpn) = connecting.await?;
            if let Err(e) = check_alpn(&endpoint, alpn.as_ref(), true) {
                connection.close(quinn::VarInt::from_u32(0), b"no ALPN protocol in common");
                return Err(e);
            }
            Ok(Connection {
                established: Established::Quic(connection),
                endpoint,
                alpn,
            })
        })
    }
}

impl<T> Inner<T> {
    /// Returns the config for `endpoint`: the transport's (its ALPN ids are the caller's
    /// for that transport, V39), or, for an endpoint with ECH, the hook's.
    fn config_for(
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

/// Returns an ECH hook for [`TlsBuilder::ech`] on rustls' aws-lc-rs provider (feature
/// `ech`): each endpoint's `ECHConfigList` with aws-lc-rs' HPKE suites, TLS 1.3, `roots` as
/// the trust store, no client certificate.
///
/// A config list with no suite aws-lc-rs supports fails that attempt
/// ([`AttemptErrorKind::Ech`]); so does a server that rejects ECH (rustls then checks its
/// certificate against the config's public name and reports the rejection): the attempt
/// is never retried without ECH.
///
/// Turning on `ech` turns on rustls' `aws_lc_rs` feature: where `ring` is on too (quinn
/// turns it on), `rustls::ClientConfig::builder()` needs a provider installed with
/// `CryptoProvider::install_default`, or use `builder_with_provider`.
#[cfg(feature = "ech")]
pub fn ech_hook(
    roots: Arc<rustls::RootCertStore>,
) -> impl Fn(&EchConfig) -> Result<ClientConfig, rustls::Error> + Send + Sync + 'static {
    move |ech: &EchConfig| {
        use rustls::crypto::aws_lc_rs;
        let list = rustls::pki_types::EchConfigListBytes::from(ech.as_bytes().to_vec());
        let config = rustls::client::EchConfig::new(list, aws_lc_rs::hpke::ALL_SUPPORTED_SUITES)?;
        Ok(
            ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_ech(rustls::client::EchMode::from(config))?
                .with_root_certificates(roots.clone())
                .with_no_client_auth(),
        )
    }
}

/// Returns the protocols of a config's `alpn_protocols`, as [`Tls::new`] splits them: QUIC
/// ids (`h3`, `h3-*`, `hq-*`, `doq`) over QUIC, the rest over TCP, in the config's order.
pub fn split_alpn(config: &ClientConfig) -> Protocols {
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

fn same_alpn(config: &ClientConfig, alpn: &[Alpn]) -> bool {
    config.alpn_protocols.len() == alpn.len()
        && config
            .alpn_protocols
            .iter()
            .zip(alpn)
            .all(|(c, a)| c.as_slice() == a.as_bytes())
}

/// `config` with `alpn` as its ALPN ids: the same `Arc` when it has them already.
fn with_alpn(config: &Arc<ClientConfig>, alpn: &[Alpn]) -> Arc<ClientConfig> {
    if same_alpn(config, alpn) {
        return config.clone();
    }
    let mut c = ClientConfig::clone(config);
    c.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    Arc::new(c)
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

/// Fails an attempt whose server chose an id that was not offered (rustls checks this too),
/// or, over QUIC (where ALPN is required, RFC 9001 §8.1), none.
fn check_alpn(endpoint: &Endpoint, alpn: Option<&Alpn>, required: bool) -> io::Result<()> {
    let ok = match alpn {
        Some(a) => endpoint.alpn().contains(a),
        None => !required,
    };
    if ok {
        return Ok(());
    }
    let got = alpn.map_or_else(|| "none".to_owned(), |a| a.to_string());
    Err(AttemptError::with_source(
        endpoint.clone(),
        AttemptErrorKind::Alpn,
        format!("the server answered ALPN {got}"),
    )
    .into())
}

/// Classifies a failed TLS handshake over TCP: the `io::Error` holds a `rustls::Error`
/// when TLS failed, or is the connection's own error.
fn tls_io_error(endpoint: &Endpoint, e: io::Error) -> AttemptError {
    let kind = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(tls) => tls_kind(tls),
        None => AttemptErrorKind::Io,
    };
    match kind {
        AttemptErrorKind::Io => AttemptError::with_source(endpoint.clone(), kind, e),
        // The rustls error itself, not the io::Error around it.
        _ => {
            let source = e.into_inner().unwrap_or_else(|| "TLS error".into());
            AttemptError::with_source(endpoint.clone(), kind, source)
        }
    }
}

/// The kind of a rustls error.
pub(crate) fn tls_kind(e: &rustls::Error) -> AttemptErrorKind {
    match e {
        rustls::Error::InvalidCertificate(_) => AttemptErrorKind::Certificate,
        rustls::Error::AlertReceived(alert) => alert_kind(*alert),
        rustls::Error::NoApplicationProtocol
        | rustls::Error::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol) => {
            AttemptErrorKind::Alpn
        }
        rustls::Error::InvalidEncryptedClientHello(_)
        | rustls::Error::PeerIncompatible(PeerIncompatible::ServerRejectedEncryptedClientHello(
            _,
        )) => AttemptErrorKind::Ech,
        _ => AttemptErrorKind::Tls,
    }
}

/// The kind of a TLS alert (received, or, in QUIC, carried in a CONNECTION_CLOSE).
pub(crate) fn alert_kind(alert: AlertDescription) -> AttemptErrorKind {
    match alert {
        AlertDescription::BadCertificate
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateRevoked
        | AlertDescription::CertificateExpired
        | AlertDescription::CertificateUnknown
        | AlertDescription::UnknownCA
        | AlertDescription::CertificateRequired => AttemptErrorKind::Certificate,
        AlertDescription::NoApplicationProtocol => AttemptErrorKind::Alpn,
        AlertDescription::EncryptedClientHelloRequired => AttemptErrorKind::Ech,
        _ => AttemptErrorKind::Tls,
    }
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
