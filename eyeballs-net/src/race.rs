//! What every driver does before and after its loop: build the race, end it.

use std::io;
use std::time::Instant;

use eyeballs_core::{Config, Failure, Host, HostPort, Race, Report, Target, Winner};

use crate::history::SharedHistory;
use crate::socket::zone_index;

/// Builds the race for `target` at `now`, and returns it with the name to resolve (empty for
/// an IP literal, which needs no DNS).
///
/// A name is asked as two queries (AAAA, A), or one combined query when the resolver
/// `answers_both`. A zoned IPv6 literal gets its interface index.
///
/// # Errors
///
/// `InvalidInput` for an unknown zone or a configuration [`Config::validate`] rejects.
pub fn start(
    target: &HostPort,
    config: Config,
    history: &SharedHistory,
    answers_both: bool,
    now: Instant,
) -> io::Result<(Race<io::Error>, String)> {
    let (race_target, name) = match target.host() {
        Host::Name(name) => {
            let t = if answers_both {
                Target::host_combined(target.port())
            } else {
                Target::host(target.port())
            };
            (t, name.clone())
        }
        Host::ZonedIpv6 { zone, .. } => {
            let scope = zone_index(zone)?;
            (literal(target, scope), String::new())
        }
        _ => (literal(target, 0), String::new()),
    };
    let race = match history.snapshot() {
        Some(h) => Race::with_history(race_target, config, &h, now),
        None => Race::new(race_target, config, now),
    }
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok((race, name))
}

fn literal(target: &HostPort, scope: u32) -> Target {
    target
        .literal_target(scope)
        .unwrap_or_else(|| unreachable!("only names have no literal target"))
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
