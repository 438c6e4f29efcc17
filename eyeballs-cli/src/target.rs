//! `eyeballs connect`'s HOST and PORT arguments: `HOST PORT`, `HOST:PORT` or
//! `[IPV6]:PORT`, checked before anything is looked up. A refusal names the argument, says
//! the rule and shows the form that works.

use std::net::{IpAddr, Ipv6Addr};

use eyeballs_core::{HostError, HostPort};

use crate::args;

/// The longest DNS name, without its final dot (RFC 1035 §2.3.4: 255 bytes on the wire).
const MAX_NAME: usize = 253;
/// The longest DNS label (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;

/// The host and port from `HOST PORT`, `HOST:PORT` or `[IPV6]:PORT`.
pub(crate) fn parse(given: &str, port: Option<u16>) -> Result<HostPort, String> {
    if given.is_empty() {
        return Err(
            "HOST is empty: give a host name or an IP address, like example.com 443, \
                    127.0.0.1:8080 or [::1]:8080"
                .to_owned(),
        );
    }
    if let Some((scheme, rest)) = given.split_once("://") {
        return Err(url(given, scheme, rest));
    }
    let (host, in_host) = split(given, port)?;
    check_host(host)?;
    let target = match (port, in_host) {
        (Some(port), Some(p)) if p != port => {
            return Err(format!(
                "{given} names port {p}, and PORT says {port}: give the port once"
            ));
        }
        (Some(port), _) | (None, Some(port)) => port,
        (None, None) => return Err(missing_port(given)),
    };
    HostPort::new(host, target).map_err(|e| problem(&e, given))
}

/// Splits `given` into its host and, if it has one, its port.
fn split(given: &str, port: Option<u16>) -> Result<(&str, Option<u16>), String> {
    if let Some(rest) = given.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return Err(format!(
                "HOST {given:?} has a '[' without its ']': write an IPv6 address and port as \
                 [IPV6]:PORT, like [::1]:8080"
            ));
        };
        // The brackets stay on the host: the core's parser takes `[IPV6]`.
        let host = &given[..inner.len() + 2];
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, Some(port_in(given, host, p)?))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!(
                "HOST {given:?}: after ']' comes ':' and the port, like [::1]:8080"
            )),
        };
    }
    match given.matches(':').count() {
        0 => Ok((given, None)),
        1 => {
            let (host, p) = given.split_once(':').unwrap_or((given, ""));
            if host.is_empty() {
                return Err(format!(
                    "HOST {given:?}: the host before ':' is empty: write HOST:PORT, like \
                     localhost{given}"
                ));
            }
            Ok((host, Some(port_in(given, host, p)?)))
        }
        _ => colons(given, port).map(|host| (host, None)),
    }
}

/// A host with two or more colons: an IPv6 address (without a port), or a mistake.
fn colons(given: &str, port: Option<u16>) -> Result<&str, String> {
    let (addr, zoned) = match given.split_once('%') {
        Some((addr, _)) => (addr, true),
        None => (given, false),
    };
    let Ok(ip) = addr.parse::<Ipv6Addr>() else {
        let (first, rest) = given.split_once(':').unwrap_or((given, ""));
        let example = match rest.split(':').next().map(args::port) {
            Some(Ok(p)) if !first.is_empty() => format!("{first}:{p}"),
            _ => "example.com:443".to_owned(),
        };
        return Err(format!(
            "HOST {given:?} has more than one ':' and is not an IPv6 address: write HOST:PORT \
             with one port, like {example} (an IPv6 address with a port goes in brackets: \
             [::1]:8080)"
        ));
    };
    if port.is_some() {
        return Ok(given);
    }
    // `::1:8080` is itself an address (`::0.1.128.128`), but what the user meant is
    // most likely `[::1]:8080`: say both.
    if let (Some((head, tail)), false) = (addr.rsplit_once(':'), zoned) {
        if let (Ok(head), Ok(p)) = (head.parse::<Ipv6Addr>(), args::port(tail)) {
            return Err(format!(
                "HOST {given:?}: an IPv6 address with a port needs brackets: write \
                 [{head}]:{p} (or, if {ip} is the whole address, [{ip}]:PORT)"
            ));
        }
    }
    Err(missing_port(given))
}

/// The port written after `host:` in `given`.
fn port_in(given: &str, host: &str, p: &str) -> Result<u16, String> {
    if p.is_empty() {
        return Err(format!(
            "HOST {given:?}: the port after ':' is empty: write {host}:PORT, like {host}:8080, \
             or {host} PORT"
        ));
    }
    args::port(p).map_err(|rule| format!("HOST {given:?}: {rule}"))
}

/// `HOST` without a port, and no `PORT`.
fn missing_port(given: &str) -> String {
    let bare = given.trim_start_matches('[').trim_end_matches(']');
    if bare.contains(':') {
        format!("{given} has no port: write [{bare}]:PORT, or {bare} PORT")
    } else {
        format!("{given} has no port: write {given}:PORT, or {given} PORT")
    }
}

/// A URL given as HOST: the host and port to write instead.
fn url(given: &str, scheme: &str, rest: &str) -> String {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    };
    let has_port = match authority.strip_prefix('[') {
        Some(r) => r.split_once(']').is_some_and(|(_, a)| a.starts_with(':')),
        None => authority.contains(':'),
    };
    let instead = match (authority.is_empty(), has_port, default_port) {
        (true, _, _) => "HOST PORT, like example.com 443".to_owned(),
        (false, true, _) => authority.to_owned(),
        (false, false, Some(p)) => format!("{authority} {p}"),
        (false, false, None) => format!("{authority} PORT"),
    };
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => " (and --tls for TLS)",
        _ => "",
    };
    format!(
        "HOST {given:?} is a URL; eyeballs connect takes a host and a port, without \
         {scheme}:// or a path: write {instead}{tls}"
    )
}

/// Refuses what cannot be a host before any lookup: a malformed IPv4 literal, a name too
/// long for DNS, a label too long or empty, a character no host name has.
fn check_host(host: &str) -> Result<(), String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if host.starts_with('[') {
        let addr = bare.split_once('%').map_or(bare, |(addr, _)| addr);
        return match addr.parse::<Ipv6Addr>() {
            Ok(_) => Ok(()), // A zone, if any, is the core's to check.
            Err(_) => Err(format!(
                "HOST {host:?}: brackets hold an IPv6 address, like [::1]:8080; write a name \
                 or an IPv4 address without them"
            )),
        };
    }
    if bare.parse::<IpAddr>().is_ok() || bare.contains(':') {
        return Ok(()); // An address, or an IPv6 one with a zone: the core checks it.
    }
    let name = bare.strip_suffix('.').unwrap_or(bare);
    let shown = short(host);
    // RFC 3696 §2: a top-level label is never all digits, so `999.1.1.1` is a bad address,
    // not a name; resolvers would read it as one (or as an inet_aton number).
    let last = name.rsplit('.').next().unwrap_or(name);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "HOST {shown:?} is not an IPv4 address (four numbers from 0 to 255, like \
             192.0.2.1), nor a host name (a name does not end in a number)"
        ));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "HOST {shown:?} is {} bytes long; a DNS name is at most {MAX_NAME} (RFC 1035 \
             §2.3.4)",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!(
                "HOST {shown:?} has an empty label (a leading dot, or two dots in a row): \
                 write labels separated by single dots, like www.example.com"
            ));
        }
        if label.len() > MAX_LABEL {
            return Err(format!(
                "HOST {shown:?}: the label {:?} is {} bytes long; a DNS label is at most \
                 {MAX_LABEL} (RFC 1035 §2.3.4)",
                short(label),
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "HOST {shown:?}: {c:?} cannot be in a host name: write labels of letters, \
                 digits, '-' and '_' separated by dots, like www.example.com"
            ));
        }
    }
    Ok(())
}

/// The first 40 characters of a long text, then an ellipsis.
fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// What the core's parser still refused, in the argument's terms.
fn problem(e: &HostError, given: &str) -> String {
    match e {
        HostError::BadName(_) => format!(
            "HOST {:?} is not a host name: write labels of letters, digits, '-' and '_' \
             separated by dots, like www.example.com",
            short(given)
        ),
        other => format!("HOST {given:?}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_targets_parse() {
        for (given, port, shown) in [
            ("localhost:80", None, "localhost:80"),
            ("localhost", Some(80), "localhost:80"),
            ("[::1]:80", None, "[::1]:80"),
            ("[::1]", Some(80), "[::1]:80"),
            ("::1", Some(80), "[::1]:80"),
            ("[::1]:80", Some(80), "[::1]:80"),
            ("127.0.0.1:80", None, "127.0.0.1:80"),
            ("example.com.:443", None, "example.com.:443"),
            ("[fe80::1%lo]:80", None, "[fe80::1%lo]:80"),
            ("fe80::1%lo", Some(80), "[fe80::1%lo]:80"),
            ("_srv.a-b.test", Some(1), "_srv.a-b.test:1"),
        ] {
            let hp = parse(given, port).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!(hp.to_string(), shown);
        }
        let long = format!("{}.test", vec!["a".repeat(63); 3].join("."));
        assert_eq!(long.len(), 196);
        assert!(parse(&long, Some(1)).is_ok());
    }

    #[test]
    fn bad_targets_say_what_to_write() {
        for (given, port, says) in [
            ("", None, "HOST is empty"),
            (
                "localhost:",
                None,
                "write localhost:PORT, like localhost:8080",
            ),
            (
                "::1:8080",
                None,
                "write [::1]:8080 (or, if ::1:8080 is the whole",
            ),
            ("::1", None, "write [::1]:PORT, or ::1 PORT"),
            ("127.0.0.1:80:90", None, "with one port, like 127.0.0.1:80"),
            ("http://localhost:8080", None, "write localhost:8080"),
            (
                "https://example.com/x",
                None,
                "write example.com 443 (and --tls",
            ),
            ("ftp://h.test", None, "write h.test PORT"),
            ("localhost:70000", None, "70000 is above 65535"),
            ("localhost:http", None, "\"http\" is not a number"),
            (":80", None, "the host before ':' is empty"),
            ("999.1.1.1", Some(80), "not an IPv4 address"),
            ("10.1", Some(80), "not an IPv4 address"),
            ("a..b", Some(80), "empty label"),
            (".a", Some(80), "empty label"),
            ("bad host", Some(80), "' ' cannot be in a host name"),
            ("[::1", None, "without its ']'"),
            ("[::1]x", None, "after ']' comes ':'"),
            ("[localhost]:80", None, "brackets hold an IPv6 address"),
            ("h.test:80", Some(81), "names port 80, and PORT says 81"),
            ("h.test", None, "write h.test:PORT, or h.test PORT"),
        ] {
            let e = parse(given, port).unwrap_err();
            assert!(e.contains(says), "{given:?}: {e}");
        }
        let e = parse(&"a".repeat(256), Some(80)).unwrap_err();
        assert!(
            e.contains("256 bytes long; a DNS name is at most 253"),
            "{e}"
        );
        assert!(e.len() < 200, "the name is shortened: {e}");
        let e = parse(&format!("{}.test", "a".repeat(64)), Some(80)).unwrap_err();
        assert!(
            e.contains("64 bytes long; a DNS label is at most 63"),
            "{e}"
        );
    }
}
