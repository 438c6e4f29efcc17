//! A proxy's handshake as a sans-IO state: the bytes to send, the bytes to read (never
//! more than the proxy's answer, so nothing of the caller's host is taken from the stream),
//! and the answer's verdict. The async dialers and the blocking loop drive the same one.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use eyeballs_core::{Host, HostPort};

use super::{Credentials, Proxy, ProxyKind};

/// The most bytes of an HTTP proxy's answer (status line and headers) read before giving
/// up on it.
pub(crate) const MAX_HTTP_ANSWER: usize = 8 * 1024;

/// What went wrong with a proxy's handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyErrorKind {
    /// The HTTP proxy answered `CONNECT` with this status, not 2xx (407: it wants
    /// credentials; 502 or 504: it could not reach the host).
    Status(u16),
    /// The SOCKS5 proxy answered the connect request with this reply code, not 0
    /// (RFC 1928 §6: 1 general failure, 2 not allowed, 3 network unreachable, 4 host
    /// unreachable, 5 connection refused, 6 TTL expired, 7 command not supported, 8
    /// address type not supported).
    SocksReply(u8),
    /// The SOCKS5 proxy accepts none of the methods offered (no authentication, and
    /// username/password with [`Proxy::credentials`](crate::Proxy::credentials)): it wants
    /// credentials, or others.
    SocksAuthRequired,
    /// The SOCKS5 proxy refused the user name and password (RFC 1929 status other than 0).
    SocksAuthFailed,
    /// The answer is not the proxy protocol's (or an HTTP answer over
    /// 8 KiB of headers).
    Malformed,
    /// The proxy closed the connection before its answer was complete.
    Closed,
}

/// A proxy refused, broke or garbled its handshake: the source of an
/// [`AttemptErrorKind::Proxy`](crate::AttemptErrorKind::Proxy) attempt error. It names the
/// proxy (its kind and address) and the host the tunnel was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyError {
    kind: ProxyErrorKind,
    proxy: ProxyKind,
    addr: SocketAddr,
    origin: String,
    /// The HTTP reason phrase, or what was wrong with a malformed answer.
    detail: String,
}

impl ProxyError {
    /// Returns what went wrong.
    pub fn kind(&self) -> &ProxyErrorKind {
        &self.kind
    }

    /// Returns the protocol of the proxy.
    pub fn proxy_kind(&self) -> ProxyKind {
        self.proxy
    }

    /// Returns the proxy's address the attempt connected to.
    pub fn proxy_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the host and port the tunnel was asked for (`host:port`).
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (proxy, addr, origin) = (self.proxy, self.addr, &self.origin);
        write!(f, "{proxy} proxy {addr} ")?;
        match &self.kind {
            ProxyErrorKind::Status(code) => {
                write!(f, "answered {code}")?;
                if !self.detail.is_empty() {
                    write!(f, " {}", self.detail)?;
                }
                write!(f, " to CONNECT {origin}")
            }
            ProxyErrorKind::SocksReply(code) => write!(
                f,
                "refused to connect to {origin}: reply {code} ({})",
                socks_reply(*code)
            ),
            ProxyErrorKind::SocksAuthRequired => write!(
                f,
                "accepts none of the authentication methods offered ({}) to connect to {origin}",
                self.detail
            ),
            ProxyErrorKind::SocksAuthFailed => write!(
                f,
                "refused the user name and password to connect to {origin}"
            ),
            ProxyErrorKind::Malformed => {
                write!(f, "sent no valid answer for {origin}: {}", self.detail)
            }
            ProxyErrorKind::Closed => {
                write!(f, "closed the connection before answering for {origin}")
            }
        }
    }
}

impl Error for ProxyError {}

fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply code",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Reading the HTTP answer's status line and headers.
    HttpAnswer,
    /// Reading the SOCKS5 method selection (2 bytes).
    SocksMethod,
    /// Reading the RFC 1929 username/password status (2 bytes).
    SocksAuth,
    /// Reading the SOCKS5 reply (4 bytes, then the bound address).
    SocksReply,
    Done,
}

/// One attempt's proxy handshake.
#[derive(Debug)]
pub(crate) struct Handshake {
    kind: ProxyKind,
    addr: SocketAddr,
    origin: String,
    out: Vec<u8>,
    sent: usize,
    /// The SOCKS5 connect request, sent after the method selection.
    next: Vec<u8>,
    /// The RFC 1929 request, when credentials are set.
    auth: Vec<u8>,
    answer: Vec<u8>,
    stage: Stage,
}

impl Handshake {
    /// The handshake of `proxy` at `addr` for a tunnel to `origin`.
    pub(crate) fn new(proxy: &Proxy, addr: SocketAddr, origin: &HostPort) -> Self {
        let authority = authority(origin);
        let kind = proxy.kind();
        let credentials = proxy.credentials_ref();
        let mut h = Handshake {
            kind,
            addr,
            origin: authority,
            out: Vec::new(),
            sent: 0,
            next: Vec::new(),
            auth: Vec::new(),
            answer: Vec::new(),
            stage: Stage::Done,
        };
        match kind {
            ProxyKind::HttpConnect => {
                let a = &h.origin;
                let mut request = format!("CONNECT {a} HTTP/1.1\r\nHost: {a}\r\n");
                if let Some(c) = credentials {
                    let token = base64(format!("{}:{}", c.user, c.password).as_bytes());
                    request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
                }
                request.push_str("\r\n");
                h.out = request.into_bytes();
                h.stage = Stage::HttpAnswer;
            }
            ProxyKind::Socks5 => {
                // Version 5, no authentication, and username/password when set.
                h.out = match credentials {
                    Some(c) => {
                        h.auth = socks_auth(c);
                        vec![5, 2, 0, 2]
                    }
                    None => vec![5, 1, 0],
                };
                h.next = socks_request(origin);
                h.stage = Stage::SocksMethod;
            }
        }
        h
    }

    /// Returns the bytes still to send.
    pub(crate) fn pending(&self) -> &[u8] {
        self.out.get(self.sent..).unwrap_or_default()
    }

    /// Records that `n` bytes of [`Handshake::pending`] were sent.
    pub(crate) fn advance(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n).min(self.out.len());
    }

    /// Returns whether the tunnel is open.
    pub(crate) fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Returns how many bytes may be read next without reading past the proxy's answer
    /// (at least 1 while the answer is incomplete).
    pub(crate) fn read_limit(&self) -> usize {
        let have = self.answer.len();
        match self.stage {
            Stage::Done => 0,
            // The answer ends with an empty line: never read past a `\r\n\r\n` that the
            // bytes so far may be the start of.
            Stage::HttpAnswer => {
                let end = b"\r\n\r\n";
                let matched = (1..=3)
                    .rev()
                    .find(|&k| self.answer.ends_with(&end[..k]))
                    .unwrap_or(0);
                end.len() - matched
            }
            Stage::SocksMethod | Stage::SocksAuth => 2usize.saturating_sub(have),
            Stage::SocksReply => socks_reply_len(&self.answer).saturating_sub(have).max(1),
        }
    }

    /// Takes bytes the proxy sent (at most [`Handshake::read_limit`]).
    pub(crate) fn received(&mut self, data: &[u8]) -> Result<(), ProxyError> {
        self.answer.extend_from_slice(data);
        match self.stage {
            Stage::Done => Ok(()),
            Stage::HttpAnswer => self.http_answer(),
            Stage::SocksMethod => self.socks_method(),
            Stage::SocksAuth => self.socks_auth_status(),
            Stage::SocksReply => self.socks_reply(),
        }
    }

    /// The proxy closed the connection (a read of 0 bytes) before the answer was complete.
    pub(crate) fn closed(&self) -> ProxyError {
        self.error(ProxyErrorKind::Closed, "")
    }

    fn http_answer(&mut self) -> Result<(), ProxyError> {
        if !self.answer.ends_with(b"\r\n\r\n") {
            if self.answer.len() >= MAX_HTTP_ANSWER {
                return Err(self.error(ProxyErrorKind::Malformed, "headers over 8 KiB"));
            }
            return Ok(());
        }
        let line_end = self
            .answer
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(0);
        let line = String::from_utf8_lossy(&self.answer[..line_end]).into_owned();
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let code = parts.next().and_then(|c| c.parse::<u16>().ok());
        let reason = parts.next().unwrap_or_default().trim().to_string();
        match code {
            Some(code) if version.starts_with("HTTP/1.") && (100..1000).contains(&code) => {
                if (200..300).contains(&code) {
                    self.stage = Stage::Done;
                    Ok(())
                } else {
                    Err(self.error(ProxyErrorKind::Status(code), &reason))
                }
            }
            _ => {
                let shown: String = line.chars().take(64).collect();
                Err(self.error(
                    ProxyErrorKind::Malformed,
                    &format!("not an HTTP status line: {shown:?}"),
                ))
            }
        }
    }

    fn socks_method(&mut self) -> Result<(), ProxyError> {
        let [version, method] = match self.answer[..] {
            [v, m] => [v, m],
            _ => return Ok(()),
        };
        if version != 5 {
            let detail = format!("version {version} in the method selection, not 5");
            return Err(self.error(ProxyErrorKind::Malformed, &detail));
        }
        match method {
            0 => {
                self.send_next(Stage::SocksReply);
                Ok(())
            }
            2 if !self.auth.is_empty() => {
                self.answer.clear();
                self.out = core::mem::take(&mut self.auth);
                self.sent = 0;
                self.stage = Stage::SocksAuth;
                Ok(())
            }
            0xff => {
                let offered = match self.auth.is_empty() {
                    true => "no authentication",
                    false => "no authentication, username and password",
                };
                Err(self.error(ProxyErrorKind::SocksAuthRequired, offered))
            }
            m => Err(self.error(
                ProxyErrorKind::Malformed,
                &format!("method {m} chosen, which was not offered"),
            )),
        }
    }

    /// The RFC 1929 answer: version 1, status 0 for success.
    fn socks_auth_status(&mut self) -> Result<(), ProxyError> {
        let [version, status] = match self.answer[..] {
            [v, s] => [v, s],
            _ => return Ok(()),
        };
        if version != 1 {
            let detail = format!("version {version} in the authentication answer, not 1");
            return Err(self.error(ProxyErrorKind::Malformed, &detail));
        }
        if status != 0 {
            return Err(self.error(ProxyErrorKind::SocksAuthFailed, ""));
        }
        self.send_next(Stage::SocksReply);
        Ok(())
    }

    /// Sends the SOCKS5 connect request and reads its reply.
    fn send_next(&mut self, stage: Stage) {
        self.answer.clear();
        self.out = core::mem::take(&mut self.next);
        self.sent = 0;
        self.stage = stage;
    }

    fn socks_reply(&mut self) -> Result<(), ProxyError> {
        if self.answer.len() >= 2 {
            let (version, reply) = (self.answer[0], self.answer[1]);
            if version != 5 {
                let detail = format!("version {version} in the reply, not 5");
                return Err(self.error(ProxyErrorKind::Malformed, &detail));
            }
            if reply != 0 {
                return Err(self.error(ProxyErrorKind::SocksReply(reply), ""));
            }
        }
        if self.answer.len() >= 4 && !matches!(self.answer[3], 1 | 3 | 4) {
            let detail = format!("address type {} in the reply", self.answer[3]);
            return Err(self.error(ProxyErrorKind::Malformed, &detail));
        }
        if self.answer.len() >= socks_reply_len(&self.answer) {
            self.stage = Stage::Done;
        }
        Ok(())
    }

    fn error(&self, kind: ProxyErrorKind, detail: &str) -> ProxyError {
        ProxyError {
            kind,
            proxy: self.kind,
            addr: self.addr,
            origin: self.origin.clone(),
            detail: detail.to_string(),
        }
    }
}

/// The length of a SOCKS5 reply as far as its first bytes tell (RFC 1928 §6): 4 bytes,
/// then the bound address of its type and 2 bytes of port.
fn socks_reply_len(answer: &[u8]) -> usize {
    match answer.get(3) {
        None => 4,
        Some(1) => 4 + 4 + 2,
        Some(4) => 4 + 16 + 2,
        Some(_) => match answer.get(4) {
            None => 5,
            Some(&len) => 5 + usize::from(len) + 2,
        },
    }
}

/// The RFC 1929 request: version 1, the user name and the password, each with its length
/// ([`Proxy::credentials`] keeps both to 1 to 255 bytes).
fn socks_auth(c: &Credentials) -> Vec<u8> {
    let (user, password) = (c.user.as_bytes(), c.password.as_bytes());
    let (user, password) = (
        &user[..user.len().min(255)],
        &password[..password.len().min(255)],
    );
    let mut req = vec![1];
    req.extend(u8::try_from(user.len()));
    req.extend_from_slice(user);
    req.extend(u8::try_from(password.len()));
    req.extend_from_slice(password);
    req
}

/// Standard base64 with padding (RFC 4648 §4), for `Proxy-Authorization: Basic`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `host:port` as a CONNECT request and errors write it (IPv6 in brackets, no zone).
fn authority(origin: &HostPort) -> String {
    let port = origin.port();
    match origin.host() {
        Host::Name(name) => format!("{name}:{port}"),
        Host::Ip(ip) => SocketAddr::new(*ip, port).to_string(),
        Host::ZonedIpv6 { addr, .. } => SocketAddr::new(IpAddr::V6(*addr), port).to_string(),
        Host::Addrs(addrs) => addrs
            .first()
            .map_or_else(|| format!(":{port}"), SocketAddr::to_string),
        // A host form this version does not know: its text.
        _ => origin.to_string(),
    }
}

/// The SOCKS5 connect request for `origin` (RFC 1928 §4): a name as a domain name (the
/// proxy resolves it), an IP literal as an address. A `HostPort`'s name has at most 253
/// bytes, so it fits the length byte.
fn socks_request(origin: &HostPort) -> Vec<u8> {
    let mut req = vec![5, 1, 0];
    let ip = match origin.host() {
        Host::Ip(ip) => Some(*ip),
        Host::ZonedIpv6 { addr, .. } => Some(IpAddr::V6(*addr)),
        Host::Addrs(addrs) => addrs.first().map(SocketAddr::ip),
        _ => None,
    };
    let port = match origin.host() {
        Host::Addrs(addrs) => addrs.first().map_or(origin.port(), SocketAddr::port),
        _ => origin.port(),
    };
    match (ip, origin.host()) {
        (Some(IpAddr::V4(v4)), _) => {
            req.push(1);
            req.extend_from_slice(&v4.octets());
        }
        (Some(IpAddr::V6(v6)), _) => {
            req.push(4);
            req.extend_from_slice(&v6.octets());
        }
        (None, host) => {
            let name = match host {
                Host::Name(name) => name.clone(),
                _ => origin.to_string(),
            };
            let name = &name.as_bytes()[..name.len().min(255)];
            req.push(3);
            req.extend(u8::try_from(name.len()));
            req.extend_from_slice(name);
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> HostPort {
        HostPort::new("origin.test", 443).expect("a host and port")
    }

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 3128))
    }

    fn proxy(kind: ProxyKind) -> Proxy {
        Proxy::new(kind, "127.0.0.1:3128").expect("a proxy")
    }

    /// Feeds `answer` as the proxy would, at most `read_limit` bytes at a time.
    fn feed(h: &mut Handshake, answer: &[u8]) -> Result<usize, ProxyError> {
        let mut at = 0;
        while !h.is_done() && at < answer.len() {
            let n = h.read_limit().min(answer.len() - at);
            assert!(n >= 1, "no progress at byte {at}");
            h.received(&answer[at..at + n])?;
            at += n;
        }
        Ok(at)
    }

    #[test]
    fn http_connect_sends_the_origin_by_name_and_reads_exactly_the_answer() {
        let mut h = Handshake::new(&proxy(ProxyKind::HttpConnect), addr(), &origin());
        assert_eq!(
            h.pending(),
            b"CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n"
        );
        let n = h.pending().len();
        h.advance(n);
        assert!(h.pending().is_empty());
        let answer = b"HTTP/1.1 200 Connection established\r\nVia: lab\r\n\r\nSERVER BYTES";
        let read = feed(&mut h, answer).expect("a 200");
        assert!(h.is_done());
        // Nothing of the origin's bytes was taken.
        assert_eq!(&answer[read..], b"SERVER BYTES");
    }

    #[test]
    fn http_connect_407_is_a_typed_error_naming_proxy_and_origin() {
        let mut h = Handshake::new(&proxy(ProxyKind::HttpConnect), addr(), &origin());
        let err = feed(
            &mut h,
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
        )
        .expect_err("a 407");
        assert_eq!(err.kind(), &ProxyErrorKind::Status(407));
        assert_eq!(
            err.to_string(),
            "HTTP CONNECT proxy 127.0.0.1:3128 answered 407 Proxy Authentication Required \
             to CONNECT origin.test:443"
        );
    }

    #[test]
    fn http_answers_that_are_not_http_or_too_long_are_malformed() {
        let mut h = Handshake::new(&proxy(ProxyKind::HttpConnect), addr(), &origin());
        let err = feed(&mut h, b"SSH-2.0-x\r\n\r\n").expect_err("not HTTP");
        assert_eq!(err.kind(), &ProxyErrorKind::Malformed);
        let mut h = Handshake::new(&proxy(ProxyKind::HttpConnect), addr(), &origin());
        let mut long = b"HTTP/1.1 200 OK\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_HTTP_ANSWER));
        let err = feed(&mut h, &long).expect_err("too long");
        assert_eq!(err.kind(), &ProxyErrorKind::Malformed);
        assert!(err.to_string().contains("8 KiB"), "{err}");
    }

    #[test]
    fn socks5_asks_for_the_name_and_reads_exactly_the_reply() {
        let mut h = Handshake::new(&proxy(ProxyKind::Socks5), addr(), &origin());
        assert_eq!(h.pending(), [5, 1, 0]);
        h.advance(3);
        feed(&mut h, &[5, 0]).expect("no authentication");
        let mut req = vec![5, 1, 0, 3, 11];
        req.extend_from_slice(b"origin.test");
        req.extend_from_slice(&443u16.to_be_bytes());
        assert_eq!(h.pending(), &req[..]);
        h.advance(req.len());
        // A reply with a domain-name bound address, then the origin's first bytes.
        let mut reply = vec![5, 0, 0, 3, 4];
        reply.extend_from_slice(b"host");
        reply.extend_from_slice(&[0, 80]);
        let len = reply.len();
        reply.extend_from_slice(b"SERVER");
        let read = feed(&mut h, &reply).expect("succeeded");
        assert!(h.is_done());
        assert_eq!(read, len);
    }

    #[test]
    fn socks5_reply_codes_and_refused_methods_are_typed_errors() {
        let mut h = Handshake::new(&proxy(ProxyKind::Socks5), addr(), &origin());
        h.advance(3);
        feed(&mut h, &[5, 0]).expect("no authentication");
        h.advance(h.pending().len());
        let err = feed(&mut h, &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).expect_err("refused");
        assert_eq!(err.kind(), &ProxyErrorKind::SocksReply(5));
        assert_eq!(
            err.to_string(),
            "SOCKS5 proxy 127.0.0.1:3128 refused to connect to origin.test:443: reply 5 \
             (connection refused)"
        );
        let mut h = Handshake::new(&proxy(ProxyKind::Socks5), addr(), &origin());
        let err = feed(&mut h, &[5, 0xff]).expect_err("wants credentials");
        assert_eq!(err.kind(), &ProxyErrorKind::SocksAuthRequired);
        let mut h = Handshake::new(&proxy(ProxyKind::Socks5), addr(), &origin());
        let err = feed(&mut h, &[4, 0]).expect_err("not SOCKS5");
        assert_eq!(err.kind(), &ProxyErrorKind::Malformed);
    }

    #[test]
    fn socks5_sends_ip_literals_as_addresses() {
        let v6 = HostPort::new("::1", 8443).expect("a literal");
        let mut h = Handshake::new(&proxy(ProxyKind::Socks5), addr(), &v6);
        h.advance(3);
        feed(&mut h, &[5, 0]).expect("no authentication");
        let mut req = vec![5, 1, 0, 4];
        req.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        req.extend_from_slice(&8443u16.to_be_bytes());
        assert_eq!(h.pending(), &req[..]);
    }

    #[test]
    fn http_connect_brackets_ipv6_origins() {
        let v6 = HostPort::new("::1", 443).expect("a literal");
        let h = Handshake::new(&proxy(ProxyKind::HttpConnect), addr(), &v6);
        assert!(h
            .pending()
            .starts_with(b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n"));
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn http_connect_sends_basic_credentials() {
        let p = proxy(ProxyKind::HttpConnect)
            .credentials("Aladdin", "open sesame")
            .expect("valid credentials");
        let h = Handshake::new(&p, addr(), &origin());
        let request = String::from_utf8(h.pending().to_vec()).expect("text");
        // RFC 7617 §2's example.
        assert!(
            request.contains("\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
            "{request}"
        );
        assert!(request.ends_with("\r\n\r\n"));
    }

    #[test]
    fn socks5_username_password_then_the_request() {
        let p = proxy(ProxyKind::Socks5)
            .credentials("u", "pw")
            .expect("valid");
        let mut h = Handshake::new(&p, addr(), &origin());
        assert_eq!(h.pending(), [5, 2, 0, 2]);
        h.advance(4);
        feed(&mut h, &[5, 2]).expect("username/password chosen");
        assert_eq!(h.pending(), [1, 1, b'u', 2, b'p', b'w']);
        h.advance(6);
        feed(&mut h, &[1, 0]).expect("accepted");
        assert_eq!(h.pending()[..4], [5, 1, 0, 3]);
        // Refused credentials, and a proxy that wants what was not offered.
        let mut h = Handshake::new(&p, addr(), &origin());
        h.advance(4);
        feed(&mut h, &[5, 2]).expect("username/password chosen");
        h.advance(6);
        let err = feed(&mut h, &[1, 1]).expect_err("refused");
        assert_eq!(err.kind(), &ProxyErrorKind::SocksAuthFailed);
        let mut h = Handshake::new(&p, addr(), &origin());
        let err = feed(&mut h, &[5, 0xff]).expect_err("nothing acceptable");
        assert!(err.to_string().contains("username and password"), "{err}");
        // Without credentials, choosing username/password is not what was offered.
        let mut h = Handshake::new(&proxy(ProxyKind::Socks5), addr(), &origin());
        let err = feed(&mut h, &[5, 2]).expect_err("not offered");
        assert_eq!(err.kind(), &ProxyErrorKind::Malformed);
    }
}
