//! The `Alt-Svc` field value of RFC 7838 §3, parsed without a clock: alternatives and their
//! max-age; expiries are set from a `now` the caller passes.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::time::{Duration, Instant};

use eyeballs_core::{Alpn, AltService};

/// RFC 7838 §3.1: "If [ma is] omitted, its default value is 24 hours."
pub const ALT_SVC_DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Correct forms, for every message about a value that does not parse.
const FORMS: &str =
    r#"write alternatives like h3=":443"; ma=3600 or h3="alt.example:443", h2=":443""#;

/// An `Alt-Svc` field value (RFC 7838 §3), parsed: the alternatives an origin announced,
/// each with its max-age, or `clear`.
///
/// Parsing reads no clock; [`AltSvcValue::services`] turns the alternatives into
/// [`AltService`]s that expire `ma` seconds after the `now` it is given (the time the
/// response arrived, on the runtime's clock). Unknown parameters are ignored (§3), `persist`
/// included; protocol ids are percent-decoded (`http%2F1.1`).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use eyeballs_net::AltSvcValue;
///
/// let value: AltSvcValue = r#"h3=":8443"; ma=3600, h2="alt.example:443""#.parse()?;
/// let now = Instant::now();
/// let alts = value.services(now);
/// assert_eq!(alts.len(), 2);
/// assert!(alts[0].host().is_root()); // the origin's own host
/// assert_eq!(alts[0].port(), 8443);
/// assert_eq!(alts[0].expiry(), Some(now + Duration::from_secs(3600)));
/// assert_eq!(alts[1].host().as_str(), "alt.example");
///
/// assert!(AltSvcValue::parse("clear")?.is_clear());
/// let bad = AltSvcValue::parse("h3=:443").unwrap_err();
/// assert!(bad.to_string().contains(r#"h3=":443""#), "{bad}");
/// # Ok::<(), eyeballs_net::AltSvcError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltSvcValue {
    /// Each alternative (without expiry) and its max-age; empty for `clear`.
    alts: Vec<(AltService, Duration)>,
}

impl AltSvcValue {
    /// Parses a field value: `clear`, or a comma-separated list of
    /// `protocol-id="[host]:port"` with optional `; ma=SECONDS` and other parameters.
    ///
    /// # Errors
    ///
    /// An [`AltSvcError`] saying what was expected where, for a value that does not follow
    /// RFC 7838 §3, an alternative host that is an IP address (alternatives are names the
    /// race resolves), or a port of 0 or above 65535.
    pub fn parse(value: &str) -> Result<Self, AltSvcError> {
        Parser {
            s: value.as_bytes(),
            at: 0,
        }
        .value()
    }

    /// Returns whether the value is `clear`: the origin withdrew its alternatives.
    pub fn is_clear(&self) -> bool {
        self.alts.is_empty()
    }

    /// Returns the alternatives, in the order announced, each expiring its max-age after
    /// `now` (never, when that is past what `Instant` can hold); none for `clear`.
    pub fn services(&self, now: Instant) -> Vec<AltService> {
        self.alts
            .iter()
            .map(|(alt, ma)| match now.checked_add(*ma) {
                Some(at) => alt.clone().expires(at),
                None => alt.clone(),
            })
            .collect()
    }

    /// Returns the alternatives without expiry, each with its max-age.
    pub fn alternatives(&self) -> &[(AltService, Duration)] {
        &self.alts
    }
}

impl FromStr for AltSvcValue {
    type Err = AltSvcError;

    fn from_str(s: &str) -> Result<Self, AltSvcError> {
        AltSvcValue::parse(s)
    }
}

/// Why an `Alt-Svc` field value did not parse: what was wrong, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltSvcError {
    kind: AltSvcErrorKind,
    at: usize,
}

/// What was wrong with an `Alt-Svc` field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AltSvcErrorKind {
    /// The value was empty (or only spaces).
    Empty,
    /// A protocol id was missing, or not a token of valid percent-encoded bytes (1 to 255).
    ProtocolId,
    /// A protocol id was not followed by `=`.
    Equals,
    /// The authority was not a quoted `"[host]:port"`.
    Authority,
    /// The alternative host was an IP address: alternatives are names the race resolves.
    IpAddress,
    /// The port was not a number from 1 to 65535.
    Port,
    /// A parameter was not `name=value`.
    Parameter,
    /// `ma` was not a number of seconds.
    MaxAge,
    /// Something other than `;` or `,` followed an alternative.
    Separator,
}

impl AltSvcError {
    /// Returns what was wrong.
    pub fn kind(&self) -> AltSvcErrorKind {
        self.kind
    }

    /// Returns the byte offset in the value where it went wrong.
    pub fn at(&self) -> usize {
        self.at
    }
}

impl fmt::Display for AltSvcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            AltSvcErrorKind::Empty => "the value is empty",
            AltSvcErrorKind::ProtocolId => "expected a protocol id (an ALPN id such as h3 or h2)",
            AltSvcErrorKind::Equals => "expected = after the protocol id",
            AltSvcErrorKind::Authority => r#"expected a quoted authority, "host:port" or ":port""#,
            AltSvcErrorKind::IpAddress => {
                "the alternative host is an IP address; give a host name, or none for the \
                 origin's host"
            }
            AltSvcErrorKind::Port => "the port is not a number from 1 to 65535",
            AltSvcErrorKind::Parameter => "expected a parameter, name=value",
            AltSvcErrorKind::MaxAge => "ma is not a whole number of seconds",
            AltSvcErrorKind::Separator => {
                "expected ; before a parameter or , before the next alternative"
            }
        };
        write!(f, "{what} (at byte {}): {FORMS}", self.at)
    }
}

impl std::error::Error for AltSvcError {}

/// A recursive-descent reader over the value's bytes; every step moves forward or fails,
/// so any input ends in time linear in its length.
struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn value(mut self) -> Result<AltSvcValue, AltSvcError> {
        self.ows();
        if self.at == self.s.len() {
            return Err(self.error(AltSvcErrorKind::Empty));
        }
        // `clear` stands alone; a `clear` among alternatives fails below, at its `=`.
        let rest = self.rest();
        if rest.starts_with(b"clear") && rest[5..].iter().all(|b| matches!(b, b' ' | b'\t')) {
            return Ok(AltSvcValue { alts: Vec::new() });
        }
        let mut alts = Vec::new();
        loop {
            // `1#` lists may hold empty elements (RFC 9110 §5.6.1): `a, , b`.
            while self.eat(b',') {
                self.ows();
            }
            if self.at == self.s.len() {
                break;
            }
            alts.push(self.alternative()?);
            self.ows();
            if self.at == self.s.len() {
                break;
            }
            if !self.eat(b',') {
                return Err(self.error(AltSvcErrorKind::Separator));
            }
            self.ows();
        }
        if alts.is_empty() {
            return Err(self.error(AltSvcErrorKind::Empty));
        }
        Ok(AltSvcValue { alts })
    }

    /// `protocol-id "=" alt-authority *( OWS ";" OWS parameter )`.
    fn alternative(&mut self) -> Result<(AltService, Duration), AltSvcError> {
        let start = self.at;
        let id = self.token();
        let alpn = percent_decode(id).ok_or(AltSvcError {
            kind: AltSvcErrorKind::ProtocolId,
            at: start,
        })?;
        if !self.eat(b'=') {
            return Err(self.error(AltSvcErrorKind::Equals));
        }
        let at = self.at;
        if self.peek() != Some(b'"') {
            return Err(self.error(AltSvcErrorKind::Authority));
        }
        let authority = self.quoted()?;
        let (host, port) = authority_of(&authority).map_err(|kind| AltSvcError { kind, at })?;
        let mut max_age = None;
        loop {
            let before = self.at;
            self.ows();
            if !self.eat(b';') {
                self.at = before;
                break;
            }
            self.ows();
            let name_at = self.at;
            let name = self.token();
            if name.is_empty() || !self.eat(b'=') {
                return Err(AltSvcError {
                    kind: AltSvcErrorKind::Parameter,
                    at: name_at,
                });
            }
            let value_at = self.at;
            let value = match self.peek() {
                Some(b'"') => self.quoted()?,
                _ => self.token().to_vec(),
            };
            if value.is_empty() {
                return Err(AltSvcError {
                    kind: AltSvcErrorKind::Parameter,
                    at: value_at,
                });
            }
            // The first `ma` counts; other parameters (persist, unknown ones) are ignored.
            if name.eq_ignore_ascii_case(b"ma") && max_age.is_none() {
                max_age = Some(seconds(&value).ok_or(AltSvcError {
                    kind: AltSvcErrorKind::MaxAge,
                    at: value_at,
                })?);
            }
        }
        let alt = AltService::new(host.as_str(), port).alpn([alpn]);
        Ok((alt, max_age.unwrap_or(ALT_SVC_DEFAULT_MAX_AGE)))
    }

    /// A token (RFC 9110 §5.6.2), possibly empty.
    fn token(&mut self) -> &'a [u8] {
        let (s, start) = (self.s, self.at);
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        &s[start..self.at]
    }

    /// A quoted-string (RFC 9110 §5.6.4), unescaped; the cursor is on its opening quote.
    fn quoted(&mut self) -> Result<Vec<u8>, AltSvcError> {
        let start = self.at;
        self.at += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.at += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => match self.peek() {
                    Some(escaped) if escaped == b'\t' || (escaped >= b' ' && escaped != 0x7f) => {
                        out.push(escaped);
                        self.at += 1;
                    }
                    _ => break,
                },
                b'\t' | b' '..=b'~' | 0x80..=0xff => out.push(b),
                _ => break,
            }
        }
        Err(AltSvcError {
            kind: AltSvcErrorKind::Authority,
            at: start,
        })
    }

    /// Optional white space: spaces and tabs.
    fn ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let here = self.peek() == Some(b);
        if here {
            self.at += 1;
        }
        here
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn rest(&self) -> &'a [u8] {
        let s = self.s;
        &s[self.at..]
    }

    fn error(&self, kind: AltSvcErrorKind) -> AltSvcError {
        AltSvcError { kind, at: self.at }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A protocol id's ALPN bytes: `%XX` decoded (RFC 7838 §3); 1 to 255 bytes.
fn percent_decode(id: &[u8]) -> Option<Alpn> {
    let mut out = Vec::with_capacity(id.len());
    let mut i = 0;
    while let Some(&b) = id.get(i) {
        if b == b'%' {
            let hex = id.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let alpn = Alpn::new(&out);
    alpn.is_valid().then_some(alpn)
}

/// `[ uri-host ] ":" port`: the host (empty for the origin's) and the port.
fn authority_of(authority: &[u8]) -> Result<(String, u16), AltSvcErrorKind> {
    let text = std::str::from_utf8(authority).map_err(|_| AltSvcErrorKind::Authority)?;
    let (host, port) = text.rsplit_once(':').ok_or(AltSvcErrorKind::Authority)?;
    if host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok() {
        return Err(AltSvcErrorKind::IpAddress);
    }
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    if !host.bytes().all(name_byte) || host.starts_with('.') {
        return Err(AltSvcErrorKind::Authority);
    }
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AltSvcErrorKind::Port);
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(AltSvcErrorKind::Port),
        Ok(port) => Ok((host.to_owned(), port)),
    }
}

/// `delta-seconds`: digits; a number too large for `u64` is the largest (RFC 9111 §1.2.2
/// caps it the same way).
fn seconds(value: &[u8]) -> Option<Duration> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = std::str::from_utf8(value)
        .ok()?
        .parse::<u64>()
        .unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
