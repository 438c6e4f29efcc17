//! The operating system's resolver (`getaddrinfo`), one family at a time, and the names
//! RFC 6761 answers without asking anyone.

use std::io;
use std::net::IpAddr;

use eyeballs_core::QueryKind;

/// Turns the error of a system lookup (`getaddrinfo` through std or tokio) into a sentence
/// that names what was looked up: `"nosuch.test: Name or service not known (getaddrinfo)"`
/// rather than std's `"failed to lookup address information: ..."`. The kind is kept.
pub(crate) fn system_lookup_error(name: &str, error: io::Error) -> io::Error {
    let text = error.to_string();
    let detail = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    let name = name.trim_end_matches('.');
    io::Error::new(error.kind(), format!("{name}: {detail} (getaddrinfo)"))
}

/// Asks the operating system's resolver (`getaddrinfo`) for one family, as RFC 8305 §3 R3
/// recommends without an asynchronous DNS API ("one synchronous query per family, run in
/// parallel"): `AF_INET6` for [`QueryKind::Aaaa`], `AF_INET` for [`QueryKind::A`], both
/// families in one call for [`QueryKind::Both`]. Blocking: the drivers run it on the
/// resolver pool ([`crate::pool::Job::system`]).
///
/// The answer keeps `getaddrinfo`'s order (it sorted by RFC 6724 with what it knows) without
/// duplicates. A name that exists without addresses of the family ("no data") is an empty
/// answer, as R7 needs.
///
/// `localhost` and names under `.localhost` are answered here, with `::1` and `127.0.0.1`,
/// as RFC 6761 §6.3 asks ("SHOULD always return the IP loopback address"): a per-family
/// lookup would otherwise miss `/etc/hosts` for the family it lacks and ask the DNS server
/// for `localhost`.
///
/// # Errors
///
/// `getaddrinfo`'s failure, as [`system_lookup_error`] words it.
pub(crate) fn system_lookup(name: &str, kind: QueryKind) -> io::Result<Vec<IpAddr>> {
    use dns_lookup::{AddrInfoHints, LookupErrorKind};
    if let Some(loopback) = localhost_answer(name, kind) {
        return Ok(loopback);
    }
    let family = match kind {
        QueryKind::Aaaa => i32::from(socket2::Domain::IPV6),
        QueryKind::A => i32::from(socket2::Domain::IPV4),
        _ => 0,
    };
    let hints = AddrInfoHints {
        flags: 0,
        address: family,
        // One entry per address, not one per socket type.
        socktype: i32::from(socket2::Type::STREAM),
        protocol: 0,
    };
    let answer = match dns_lookup::getaddrinfo(Some(name), None, Some(hints)) {
        Ok(answer) => answer,
        Err(e) if matches!(e.kind(), LookupErrorKind::NoData) => return Ok(Vec::new()),
        Err(e) => return Err(system_lookup_error(name, e.into())),
    };
    let mut addrs: Vec<IpAddr> = Vec::new();
    for info in answer {
        let ip = info
            .map_err(|e| system_lookup_error(name, e))?
            .sockaddr
            .ip();
        if !addrs.contains(&ip) {
            addrs.push(ip);
        }
    }
    Ok(addrs)
}

/// RFC 6761 §6.3: the loopback answer for `localhost` and names under `.localhost` (any
/// case, with or without the final dot), or `None` for any other name (and for an HTTPS
/// query): `::1` for [`QueryKind::Aaaa`], `127.0.0.1` for [`QueryKind::A`], both for a
/// combined query.
///
/// [`system_lookup`] answers these names so, and the drivers' system resolvers answer them
/// on the calling thread, without a trip through the resolver pool.
pub(crate) fn localhost_answer(name: &str, kind: QueryKind) -> Option<Vec<IpAddr>> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name != "localhost" && !name.ends_with(".localhost") {
        return None;
    }
    let v6 = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    let v4 = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    match kind {
        QueryKind::Aaaa => Some(vec![v6]),
        QueryKind::A => Some(vec![v4]),
        QueryKind::Https => None,
        _ => Some(vec![v6, v4]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_host_and_keep_the_kind() {
        let std_error =
            io::Error::other("failed to lookup address information: Name or service not known");
        let e = system_lookup_error("nosuch.test.", std_error);
        assert_eq!(
            e.to_string(),
            "nosuch.test: Name or service not known (getaddrinfo)"
        );
        assert_eq!(e.kind(), io::ErrorKind::Other);
    }

    #[test]
    fn literals_and_localhost_need_no_lookup() {
        let v4 = system_lookup("127.0.0.1", QueryKind::A).expect("a literal");
        assert_eq!(v4, vec![IpAddr::from([127, 0, 0, 1])]);
        let v6 = system_lookup("Localhost.", QueryKind::Aaaa).expect("RFC 6761");
        assert_eq!(v6, vec![IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]);
        assert_eq!(
            localhost_answer("app.localhost.", QueryKind::A),
            Some(vec![IpAddr::from([127, 0, 0, 1])])
        );
        assert_eq!(localhost_answer("example.test", QueryKind::A), None);
        assert_eq!(localhost_answer("localhost", QueryKind::Https), None);
        assert_eq!(
            localhost_answer("localhost", QueryKind::Both).map(|a| a.len()),
            Some(2)
        );
    }
}
