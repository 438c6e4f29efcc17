//! Proxies (HEv3 V60, HG20): a connector whose connects go through an HTTP CONNECT or
//! SOCKS5 proxy. The race resolves and races the proxy's endpoints; each attempt asks the
//! proxy for the caller's host by name ([`handshake`]), so the proxy resolves it.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use eyeballs_core::{HostError, HostPort, ToHostPort};

pub(crate) mod handshake;

pub use handshake::{ProxyError, ProxyErrorKind};

/// The protocol a proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyKind {
    /// HTTP/1.1 `CONNECT host:port` (RFC 9110 §9.3.6): any 2xx answer opens the tunnel.
    HttpConnect,
    /// SOCKS5 (RFC 1928), the host sent as a domain name (an IP literal as an address), so
    /// the proxy resolves it; no authentication, or a user name and password (RFC 1929)
    /// with [`Proxy::credentials`].
    Socks5,
}

impl fmt::Display for ProxyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyKind::HttpConnect => "HTTP CONNECT",
            ProxyKind::Socks5 => "SOCKS5",
        })
    }
}

/// A proxy that every connect of a connector goes through (HEv3 V60, HG20): set it with
/// [`ConnectorBuilder::proxy`](crate::ConnectorBuilder::proxy).
///
/// The race runs over the proxy's endpoints: its host name is resolved (AAAA and A) and its
/// addresses raced as any host's (RFC 8305's order, interleaving, the Connection Attempt
/// Delay, history), and each attempt asks the proxy for the caller's host and port by name,
/// so the proxy, not the client, resolves it: no address query is made for it. An attempt
/// counts when the tunnel is open (and, for `connect_tls`, TLS to the caller's host is done
/// through it, its certificate checked against that host); TCP up to the proxy is progress
/// (V33), and the proxy's handshake runs under the connector's handshake timeout, so a proxy
/// that never answers fails its attempt as
/// [`Stalled`](crate::AttemptErrorKind::Stalled). A proxy's refusal is an
/// [`AttemptErrorKind::Proxy`](crate::AttemptErrorKind::Proxy) whose source is a
/// [`ProxyError`] naming the proxy and the caller's host.
///
/// A proxy that wants a user name and password gets them with [`Proxy::credentials`] (or
/// `USER:PASSWORD@` in the URL): HTTP Basic, SOCKS5 username/password (RFC 1929).
///
/// Only TCP goes through a proxy: QUIC (MASQUE) is not built, so a TLS connect offers no
/// QUIC ids. [`Proxy::origin_https`] (off by default) asks the caller's host's HTTPS record
/// for TLS connects: only its ALPN and ECH apply. Alt-Svc alternatives are not raced
/// through a proxy. The runtime must implement
/// [`Runtime::poll_read_tcp`](crate::runtime::Runtime::poll_read_tcp) and
/// [`Runtime::poll_write_tcp`](crate::runtime::Runtime::poll_write_tcp) (tokio, async-std,
/// smol and the blocking driver do); otherwise every attempt fails as
/// [`Unsupported`](std::io::ErrorKind::Unsupported).
///
/// # Examples
///
/// ```
/// use eyeballs_net::{Proxy, ProxyKind};
///
/// let http = Proxy::http_connect(("proxy.test", 3128))?;
/// assert_eq!(http.kind(), ProxyKind::HttpConnect);
/// let socks: Proxy = "socks5://127.0.0.1:1080".parse()?;
/// assert_eq!(socks.kind(), ProxyKind::Socks5);
/// assert_eq!(socks.to_string(), "socks5://127.0.0.1:1080");
/// assert!(!socks.origin_https_on());
/// let err = "ftp://proxy.test:21".parse::<Proxy>().unwrap_err();
/// assert!(err.to_string().contains("http://HOST:PORT or socks5://HOST:PORT"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    addr: HostPort,
    origin_https: bool,
    credentials: Option<Arc<Credentials>>,
}

/// A user name and password for a proxy; `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl Proxy {
    /// An HTTP CONNECT proxy at `addr` (`"host:port"`, `("host", port)`, a `SocketAddr`, ...).
    ///
    /// # Errors
    ///
    /// A [`HostError`] when `addr` is not a host and port.
    pub fn http_connect<T: ToHostPort>(addr: T) -> Result<Self, HostError> {
        Proxy::new(ProxyKind::HttpConnect, addr)
    }

    /// A SOCKS5 proxy at `addr` (without authentication unless [`Proxy::credentials`]
    /// gives a user name and password).
    ///
    /// # Errors
    ///
    /// A [`HostError`] when `addr` is not a host and port.
    pub fn socks5<T: ToHostPort>(addr: T) -> Result<Self, HostError> {
        Proxy::new(ProxyKind::Socks5, addr)
    }

    /// A proxy of `kind` at `addr`.
    ///
    /// # Errors
    ///
    /// A [`HostError`] when `addr` is not a host and port.
    pub fn new<T: ToHostPort>(kind: ProxyKind, addr: T) -> Result<Self, HostError> {
        Ok(Proxy {
            kind,
            addr: addr.to_host_port()?,
            origin_https: false,
            credentials: None,
        })
    }

    /// Sets the user name and password the proxy wants: HTTP CONNECT sends them in a
    /// `Proxy-Authorization: Basic` header (RFC 9110 §11.7.1, RFC 7617), SOCKS5 offers
    /// username/password authentication (RFC 1929) besides none, and the proxy chooses. Both
    /// protocols send them in the clear: give them only to a proxy on a network you trust.
    /// `Debug` never shows the password, and `Display` shows neither.
    ///
    /// # Errors
    ///
    /// [`ProxyParseError::Credentials`] for a user name or password that is empty or over
    /// 255 bytes (RFC 1929), or a user name with a `:` (RFC 7617).
    ///
    /// # Examples
    ///
    /// ```
    /// use eyeballs_net::Proxy;
    ///
    /// let proxy = Proxy::socks5(("proxy.test", 1080))?.credentials("alice", "s3cret")?;
    /// assert!(!format!("{proxy:?}").contains("s3cret"));
    /// assert!(Proxy::socks5(("proxy.test", 1080))?.credentials("", "x").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn credentials(mut self, user: &str, password: &str) -> Result<Self, ProxyParseError> {
        let fits = |s: &str| (1..=255).contains(&s.len());
        if !fits(user) || !fits(password) || user.contains(':') {
            return Err(ProxyParseError::Credentials);
        }
        self.credentials = Some(Arc::new(Credentials {
            user: user.to_string(),
            password: password.to_string(),
        }));
        Ok(self)
    }

    /// Asks for the caller's host's HTTPS record on TLS connects (off by default; HG20): its
    /// ALPN ids and ECH configuration then apply to the proxy's endpoints (never its
    /// TargetName, hints or port: the proxy resolves the host at the caller's port), and an
    /// ECH configuration holds the ClientHello sent through the tunnel until the answer is in
    /// (V34). Off by default because a proxy is often there so that the client makes no
    /// lookups of its own; needs a resolver that answers HTTPS queries (hickory).
    pub fn origin_https(mut self, on: bool) -> Self {
        self.origin_https = on;
        self
    }

    /// Returns the protocol the proxy speaks.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// Returns where the proxy is.
    pub fn addr(&self) -> &HostPort {
        &self.addr
    }

    /// Returns whether a user name and password are set ([`Proxy::credentials`]).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    pub(crate) fn credentials_ref(&self) -> Option<&Credentials> {
        self.credentials.as_deref()
    }

    /// Returns whether TLS connects ask for the caller's host's HTTPS record
    /// ([`Proxy::origin_https`]).
    pub fn origin_https_on(&self) -> bool {
        self.origin_https
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::HttpConnect => "http",
            ProxyKind::Socks5 => "socks5",
        };
        write!(f, "{scheme}://{}", self.addr)
    }
}

/// Why a proxy's text (`http://HOST:PORT`, `socks5://HOST:PORT`) was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyParseError {
    /// The scheme is missing or not `http` or `socks5` (`socks5h` is the same: a SOCKS5
    /// proxy here always resolves the name).
    Scheme(String),
    /// The part after the scheme is not a host and port.
    Addr(HostError),
    /// A user name or password that is empty or over 255 bytes, a user name with a `:`, or
    /// a `%` not followed by two hex digits in a URL's user part.
    Credentials,
}

impl fmt::Display for ProxyParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyParseError::Scheme(s) => write!(
                f,
                "{s:?} is not a proxy: write http://HOST:PORT or socks5://HOST:PORT"
            ),
            ProxyParseError::Addr(e) => write!(
                f,
                "not a proxy address ({e}): write http://HOST:PORT or socks5://HOST:PORT"
            ),
            ProxyParseError::Credentials => f.write_str(
                "a proxy's user name and password are 1 to 255 bytes each, and the user name \
                 has no ':'; write socks5://USER:PASSWORD@HOST:PORT (% escapes allowed)",
            ),
        }
    }
}

impl std::error::Error for ProxyParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProxyParseError::Addr(e) => Some(e),
            ProxyParseError::Scheme(_) | ProxyParseError::Credentials => None,
        }
    }
}

impl FromStr for Proxy {
    type Err = ProxyParseError;

    /// Parses `http://HOST:PORT` (HTTP CONNECT) or `socks5://HOST:PORT` (`socks5h://` too),
    /// with an optional trailing `/` and optional credentials before the host,
    /// `USER:PASSWORD@` (`%` escapes decoded).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let scheme_error = || {
            // Never repeat a password in an error.
            let shown = match s.rsplit_once('@') {
                Some((_, host)) => format!("...@{host}"),
                None => s.to_string(),
            };
            ProxyParseError::Scheme(shown)
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(scheme_error)?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "http" => ProxyKind::HttpConnect,
            "socks5" | "socks5h" => ProxyKind::Socks5,
            _ => return Err(scheme_error()),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (user, addr) = match rest.rsplit_once('@') {
            Some((user, addr)) => (Some(user), addr),
            None => (None, rest),
        };
        let proxy = Proxy::new(kind, addr).map_err(ProxyParseError::Addr)?;
        match user {
            None => Ok(proxy),
            Some(user) => {
                let (name, password) = user.split_once(':').unwrap_or((user, ""));
                let name = percent_decode(name).ok_or(ProxyParseError::Credentials)?;
                let password = percent_decode(password).ok_or(ProxyParseError::Credentials)?;
                proxy.credentials(&name, &password)
            }
        }
    }
}

/// Decodes `%XX` escapes (RFC 3986 §2.1); `None` for a `%` without two hex digits or a
/// result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// Opens the tunnel to the caller's `host` through the proxy at `endpoint` on `stream`,
/// with the runtime's reads and writes (V60, HG20). Every read is bounded by the
/// handshake's [`read_limit`](handshake::Handshake::read_limit), so the host's first bytes
/// stay in the stream. Unbounded in time by itself: the runner's handshake deadline, armed
/// when TCP came up, fails a proxy that stalls.
pub(crate) async fn tunnel<R: crate::runtime::Runtime>(
    mut stream: R::Tcp,
    proxy: &Proxy,
    endpoint: &eyeballs_core::Endpoint,
    host: &HostPort,
) -> std::io::Result<R::Tcp> {
    use std::future::poll_fn;
    use std::io;

    use crate::error::{AttemptError, AttemptErrorKind};

    let proxy_error = |e: ProxyError| -> io::Error {
        AttemptError::with_source(endpoint.clone(), AttemptErrorKind::Proxy, e).into()
    };
    let mut handshake = handshake::Handshake::new(proxy, endpoint.addr(), host);
    let mut buf = [0u8; 512];
    loop {
        while !handshake.pending().is_empty() {
            let n = poll_fn(|cx| R::poll_write_tcp(&mut stream, cx, handshake.pending())).await?;
            if n == 0 {
                return Err(proxy_error(handshake.closed()));
            }
            handshake.advance(n);
        }
        if handshake.is_done() {
            return Ok(stream);
        }
        let limit = handshake.read_limit().clamp(1, buf.len());
        let n = poll_fn(|cx| R::poll_read_tcp(&mut stream, cx, &mut buf[..limit])).await?;
        if n == 0 {
            return Err(proxy_error(handshake.closed()));
        }
        handshake
            .received(&buf[..n.min(limit)])
            .map_err(proxy_error)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_credentials_decode_escapes_and_hide_the_password() {
        let p: Proxy = "socks5://al%40ice:p%3Ass@127.0.0.1:1080"
            .parse()
            .expect("a proxy");
        let c = p.credentials_ref().expect("credentials");
        assert_eq!((c.user.as_str(), c.password.as_str()), ("al@ice", "p:ss"));
        assert_eq!(p.to_string(), "socks5://127.0.0.1:1080");
        assert!(!format!("{p:?}").contains("p:ss"));
        let err = "ftp://u:secret@proxy.test:21".parse::<Proxy>().unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        for bad in [
            "http://u@proxy.test:1",
            "http://:pw@proxy.test:1",
            "http://u:%4@proxy.test:1",
        ] {
            assert_eq!(
                bad.parse::<Proxy>(),
                Err(ProxyParseError::Credentials),
                "{bad}"
            );
        }
        let long = "x".repeat(256);
        assert!(Proxy::socks5("127.0.0.1:1")
            .unwrap()
            .credentials("u", &long)
            .is_err());
        assert!(Proxy::socks5("127.0.0.1:1")
            .unwrap()
            .credentials("a:b", "pw")
            .is_err());
    }
}
