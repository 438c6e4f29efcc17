//! What every driver does before and after its loop: build the race, end it.

use std::io;
use std::net::IpAddr;
use std::time::Instant;

use eyeballs_core::{Config, Failure, Host, HostPort, Protocols, Race, Report, Target, Winner};

use crate::builder::Settings;
use crate::history::SharedHistory;
use crate::socket::zone_index;
use crate::source::probe_sources_with;

/// Builds the race for `target` at `now`.
///
/// A name is asked as two queries (AAAA, A), or one combined query when the resolver
/// `answers_both`, plus an HTTPS query when `https` (HEv3 §4.1); attempts offer
/// `protocols`. A zoned IPv6 literal gets its interface index. The literal addresses'
/// source addresses are probed ([`probe_sources_with`], with the connector's socket
/// options): RFC 6724 sorts with them, and history
/// is kept per source address (R15). Answers get theirs in the loop.
///
/// # Errors
///
/// `InvalidInput` for an unknown zone or a configuration [`Config::validate`] rejects.
pub fn start<R: ?Sized>(
    target: &HostPort,
    config: Config,
    settings: &Settings<R>,
    answers_both: bool,
    (protocols, https): (Protocols, bool),
    now: Instant,
) -> io::Result<Race<io::Error>> {
    let race_target = match target.host() {
        Host::Name(name) => {
            let t = if answers_both {
                Target::host_combined(name.as_str(), target.port())
            } else {
                Target::host(name.as_str(), target.port())
            };
            t.https(https)
        }
        host => {
            let scope = match host {
                Host::ZonedIpv6 { zone, .. } => zone_index(zone)?,
                _ => 0,
            };
            let literal = target
                .literal_target(scope)
                .unwrap_or_else(|| unreachable!("only names have no literal target"));
            literal.sources(probe_sources_with(literal_ips(host), &settings.socket))
        }
    };
    let race_target = race_target.protocols(protocols);
    settings
        .history
        .read(|history| match history {
            Some(h) => Race::with_history(race_target, config, h, now),
            None => Race::new(race_target, config, now),
        })
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// The addresses of a literal host.
fn literal_ips(host: &Host) -> impl Iterator<Item = IpAddr> + '_ {
    let (one, many): (Option<IpAddr>, &[std::net::SocketAddr]) = match host {
        Host::Ip(ip) => (Some(*ip), &[]),
        Host::ZonedIpv6 { addr, .. } => (Some(IpAddr::V6(*addr)), &[]),
        Host::Addrs(addrs) => (None, addrs),
        _ => (None, &[]),
    };
    one.into_iter().chain(many.iter().map(|a| a.ip()))
}

/// Ends a race: records it in the history, builds the report if asked, and turns a failure
/// into an `io::Error` (whose inner error is the [`Failure`]).
pub fn finish<S>(
    race: &Race<io::Error>,
    result: Result<(Winner, S), Failure<io::Error>>,
    history: &SharedHistory,
    want_report: bool,
) -> (io::Result<S>, Option<Report>) {
    history.record(race);
    let report = want_report.then(|| Report::new(race, Some(result.as_ref().map(|(w, _)| w))));
    (result.map(|(_, s)| s).map_err(io::Error::from), report)
}
