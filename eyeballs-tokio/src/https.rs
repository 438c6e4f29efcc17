//! An HTTPS connector for hyper-util's legacy `Client` that races TCP+TLS (features `hyper`
//! and `tls`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use eyeballs_core::{Failure, FailureReason, Transport};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::{AltSvcError, AltSvcValue, Connector, Tls, TlsConfigError, TlsStream};

/// An HTTPS connector for hyper-util's legacy `Client`: each `https` connection is a
/// TLS-aware Happy Eyeballs race (an attempt counts once its TLS handshake is done, HEv3
/// §6.1, and the race asks for HTTPS records when the resolver answers them), and an ALPN of
/// `h2` tells hyper to speak HTTP/2. `http` URIs get a plain TCP race (unless
/// [`HttpsConnector::https_only`]).
///
/// With [`Config::protected_dns`](eyeballs_core::Config::protected_dns) and a resolver that
/// answers HTTPS queries, an `http` URI is raced with [`Connector::connect_http`] (HEv3 §11,
/// V37; RFC 9460 §9.5): hyper gets no stream, so sends no cleartext, before the HTTPS answer
/// of the origin's `https` form; when that answer has a record the connection is TLS to
/// the `https` form instead (port 80 as 443), as if the URI were `https`; when the query
/// fails the request fails (V36).
///
/// HTTPS records need a resolver that asks for them: the hickory resolver
/// (`HickoryResolver`, feature `hickory`), which `HttpsConnector::platform` uses when it
/// is there. A connector on the system resolver (`Connector::default()`) races the
/// host's addresses only.
///
/// TCP only: hyper does not speak HTTP/3, so the config's QUIC ids (`h3`) are not offered.
/// Set the rustls config's `alpn_protocols` to what the client speaks: `h2` and `http/1.1`
/// when its `http2` feature is on, `http/1.1` otherwise.
///
/// # Alternative services
///
/// Hand it the `Alt-Svc` header fields of the responses you get
/// ([`HttpsConnector::remember_alt_svc`]), and its next connections to that origin race the
/// alternatives too (RFC 7838; HEv3 V59): those over TCP (`h2`, `http/1.1`), each a group of
/// its own after the HTTPS records' ones, its certificate checked against the origin's
/// name. They are kept in the connector ([`Connector::set_alt_svc`], bounded), so clones
/// and other connects through it share them.
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use eyeballs_tokio::{Connector, HttpsConnector};
///
/// # async fn demo(roots: rustls::RootCertStore) -> Result<(), Box<dyn std::error::Error>> {
/// let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
///     rustls::crypto::ring::default_provider(),
/// ))
/// .with_safe_default_protocol_versions()?
/// .with_root_certificates(roots)
/// .with_no_client_auth();
/// config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
/// let https = HttpsConnector::new(Connector::default(), Arc::new(config))?;
/// let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
/// let response = client.get("https://example.test/".parse()?).await?;
/// println!("{} over {:?}", response.status(), response.version());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpsConnector {
    connector: Connector,
    tls: Tls,
    https_only: bool,
}

impl HttpsConnector {
    /// Races through `connector` with `config`, offering its TCP ALPN ids.
    ///
    /// # Errors
    ///
    /// [`TlsConfigError::NoAlpn`] when `config` has no TCP ALPN id (hyper needs `h2` or
    /// `http/1.1`), [`TlsConfigError::InvalidAlpn`] for an id of 0 or over 255 bytes.
    pub fn new(connector: Connector, config: Arc<ClientConfig>) -> Result<Self, TlsConfigError> {
        let tls = Tls::builder(config).tcp_only().build()?;
        Ok(HttpsConnector {
            connector,
            tls,
            https_only: false,
        })
    }

    /// An HTTPS connector that works out of the box (features `hyper`, `platform-verifier`
    /// and `ring` or `aws-lc-rs`): certificates checked the way the platform checks them
    /// ([`platform_client_config`](crate::platform_client_config)), `alpn` offered (`h2`
    /// and `http/1.1` for a client with hyper-util's `http2` feature, `http/1.1` alone
    /// otherwise), and, with feature `hickory`, the hickory resolver on the system's name
    /// servers, so that the race asks for the host's HTTPS records (their ports, ALPN ids
    /// and address hints; `getaddrinfo`, the default otherwise, cannot ask for them).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use bytes::Bytes;
    /// use http_body_util::Empty;
    /// use hyper_util::client::legacy::Client;
    /// use hyper_util::rt::TokioExecutor;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let https = eyeballs_tokio::HttpsConnector::platform(&["h2", "http/1.1"])?;
    /// let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    /// let response = client.get("https://example.test/".parse()?).await?;
    /// # let _ = response;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// The platform verifier's ([`TlsConfigError::Verifier`]), a bad ALPN list
    /// ([`TlsConfigError::NoAlpn`], [`TlsConfigError::InvalidAlpn`]), or with `hickory`
    /// a system resolver configuration hickory cannot read; all as `io::Error`.
    #[cfg(feature = "platform-verifier")]
    pub fn platform(alpn: &[&str]) -> io::Result<Self> {
        let mut config = crate::platform_client_config([])?;
        config.alpn_protocols = alpn.iter().map(|id| id.as_bytes().to_vec()).collect();
        #[cfg(feature = "hickory")]
        let connector = Connector::builder()
            .resolver(crate::HickoryResolver::from_system_conf()?)
            .build()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        #[cfg(not(feature = "hickory"))]
        let connector = Connector::default();
        Ok(HttpsConnector::new(connector, Arc::new(config))?)
    }

    /// Returns the connector it races through: its alternative services
    /// ([`Connector::set_alt_svc`]), history and settings.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Remembers the alternative services that a response from `uri` announced in its
    /// `Alt-Svc` header fields (RFC 7838 §3), for the connections to come to its origin:
    /// they replace those remembered before, `Alt-Svc: clear` forgets them, and each expires
    /// `ma` seconds (24 hours without one) after the response was generated, on tokio's
    /// clock: now, less the response's `Age` when it has one (RFC 7838 §3.1 counts `ma`
    /// from the response's generation, RFC 9111 §5.1). A response without the
    /// field, or from an `http` URI (plain TCP races use no alternatives: nothing would
    /// check that they speak for the origin), changes nothing.
    ///
    /// Only alternatives over TCP (`h2`, `http/1.1`) are raced here; `h3` ones are kept
    /// for a connect on the same connector that speaks QUIC.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use bytes::Bytes;
    /// use http_body_util::Empty;
    /// use hyper_util::client::legacy::Client;
    /// use hyper_util::rt::TokioExecutor;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let https = eyeballs_tokio::HttpsConnector::platform(&["h2", "http/1.1"])?;
    /// let client: Client<_, Empty<Bytes>> =
    ///     Client::builder(TokioExecutor::new()).build(https.clone());
    /// let uri: http::Uri = "https://www.example.test/".parse()?;
    /// let response = client.get(uri.clone()).await?;
    /// // `Alt-Svc: h2="alt.example.test:443"; ma=3600`, say: the next connections race it.
    /// https.remember_alt_svc(&uri, response.headers())?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// An [`AltSvcError`] for field values that do not parse; nothing is remembered then.
    pub fn remember_alt_svc(
        &self,
        uri: &http::Uri,
        headers: &http::HeaderMap,
    ) -> Result<(), AltSvcError> {
        let (Some(host), Some("https")) = (uri.host(), uri.scheme_str()) else {
            return Ok(());
        };
        let mut fields = headers.get_all(http::header::ALT_SVC).iter().peekable();
        if fields.peek().is_none() {
            return Ok(());
        }
        // Field lines of one name are one comma-separated list (RFC 9110 §5.3); bytes that
        // are not text make the value fail to parse.
        let value = fields
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        let value = AltSvcValue::parse(&value)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let now = tokio::time::Instant::now().into_std();
        let age = headers
            .get(http::header::AGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(std::time::Duration::ZERO, std::time::Duration::from_secs);
        // An age past what `Instant` can go back: long expired, as if generated at `now -
        // age`; the store drops those at the next race.
        let generated = now.checked_sub(age);
        let alts = match generated {
            Some(at) => value.services(at),
            None => value
                .services(now)
                .into_iter()
                .map(|a| a.expires(now))
                .collect(),
        };
        self.connector
            .set_alt_svc(host, uri.port_u16().unwrap_or(443), alts);
        Ok(())
    }

    /// Refuses `http` URIs when `on` (default off: they get a plain TCP race).
    pub fn https_only(mut self, on: bool) -> Self {
        self.https_only = on;
        self
    }
}

/// What an [`HttpsConnector`] connects: TCP for `http`, TLS over TCP for `https`.
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpsStream {
    /// Plain TCP (an `http` URI).
    Http(TcpStream),
    /// TLS over TCP; `h2` when the server chose HTTP/2.
    Https {
        /// The TLS stream.
        stream: Box<TlsStream>,
        /// Whether the server chose `h2`.
        h2: bool,
    },
}

impl tower_service::Service<http::Uri> for HttpsConnector {
    type Response = TokioIo<HttpsStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<HttpsStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let invalid =
                |why: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{uri}: {why}"));
            let host = uri.host().ok_or_else(|| invalid("no host"))?;
            let https = match uri.scheme_str() {
                Some("https") => true,
                Some("http") if !this.https_only => false,
                _ => return Err(invalid("not an https URI")),
            };
            let mut port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            if !https && !this.connector.config().is_protected_dns() {
                let stream = this.connector.connect((host, port)).await?;
                return Ok(TokioIo::new(HttpsStream::Http(stream)));
            }
            if !https {
                // V37, RFC 9460 §9.5: on protected DNS no cleartext before the HTTPS answer
                // of the origin's https form, and TLS to it when the answer is positive.
                match this.connector.connect_http((host, port)).await {
                    Ok(stream) => return Ok(TokioIo::new(HttpsStream::Http(stream))),
                    Err(e) if is_upgrade(&e) => {
                        if port == 80 {
                            port = 443;
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            let connection = this.connector.connect_tls((host, port), &this.tls).await?;
            debug_assert_eq!(connection.transport(), Transport::Tcp, "TCP ids only");
            let h2 = connection.alpn().is_some_and(|a| a.as_bytes() == b"h2");
            let stream = connection.into_tls().ok_or_else(|| {
                io::Error::new(io::ErrorKind::Unsupported, "a QUIC connection for hyper")
            })?;
            Ok(TokioIo::new(HttpsStream::Https {
                stream: Box::new(stream),
                h2,
            }))
        })
    }
}

/// Whether a connect failed because its `http` origin must be reached with TLS (V37).
fn is_upgrade(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Failure<io::Error>>())
        .is_some_and(|f| f.reason() == FailureReason::UpgradeToHttps)
}

impl Connection for HttpsStream {
    fn connected(&self) -> Connected {
        match self {
            HttpsStream::Http(s) => s.connected(),
            HttpsStream::Https { stream, h2 } => {
                let connected = stream.get_ref().0.connected();
                match h2 {
                    true => connected.negotiated_h2(),
                    false => connected,
                }
            }
        }
    }
}

impl AsyncRead for HttpsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HttpsStream::Http(s) => Pin::new(s).poll_read(cx, buf),
            HttpsStream::Https { stream, .. } => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for HttpsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            HttpsStream::Http(s) => Pin::new(s).poll_write(cx, buf),
            HttpsStream::Https { stream, .. } => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HttpsStream::Http(s) => Pin::new(s).poll_flush(cx),
            HttpsStream::Https { stream, .. } => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HttpsStream::Http(s) => Pin::new(s).poll_shutdown(cx),
            HttpsStream::Https { stream, .. } => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            HttpsStream::Http(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            HttpsStream::Https { stream, .. } => {
                Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs)
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            HttpsStream::Http(s) => s.is_write_vectored(),
            HttpsStream::Https { stream, .. } => stream.is_write_vectored(),
        }
    }
}
