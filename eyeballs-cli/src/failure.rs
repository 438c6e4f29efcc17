//! A failed race as one line on stderr: failed lookups once each (AAAA and A often fail the
//! same way), attempts that failed the same way together with each endpoint named once,
//! certificate problems as the library's sentences (where this command looked for trust
//! added for an unknown issuer), and, after a timeout, what was still waiting: a
//! handshake that did not finish, or a DNS server that did not answer.

use std::io;

use eyeballs_core::{
    AttemptReport, Failure, FailureReason, HostPort, Report, Transport, FAILURE_DISPLAY_LIMIT,
};
use eyeballs_net::{AttemptError, CertificateProblem};

use crate::{ConnectArgs, Family, ResolverKind};

/// The line for a race that failed with `e`, whose timeline is `report`.
pub(crate) fn message(
    target: &HostPort,
    e: &io::Error,
    report: &Report,
    args: &ConnectArgs,
) -> String {
    let Some(failure) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Failure<io::Error>>())
    else {
        return format!("{target}: {e}");
    };
    let mut dns: Vec<String> = Vec::new();
    for q in failure.queries() {
        let text = q.error.to_string();
        if !dns.contains(&text) {
            dns.push(text);
        }
    }
    let attempts = attempts(failure, report, args);
    let head = match failure.reason() {
        FailureReason::DnsFailed if !dns.is_empty() => return dns.join("; "),
        FailureReason::AllAttemptsFailed if failure.attempts().len() == 1 => attempts.join("; "),
        FailureReason::AllAttemptsFailed => format!(
            "{target}: all {} connection attempts failed: {}",
            failure.attempts().len(),
            attempts.join("; ")
        ),
        FailureReason::NoAddresses => match args.only {
            Some(Family::V6) => format!("{target}: DNS answered with no IPv6 address (--only)"),
            Some(Family::V4) => format!("{target}: DNS answered with no IPv4 address (--only)"),
            None => format!("{target}: DNS answered with no address to connect to"),
        },
        FailureReason::TimedOut { after, .. } => {
            let mut waiting = attempts;
            waiting.extend(unanswered(report, args));
            let head = format!(
                "{target}: timed out after {} ms (--timeout {})",
                after.as_millis(),
                args.timeout
            );
            match waiting.is_empty() {
                true => head,
                false => format!("{head}: {}", waiting.join("; ")),
            }
        }
        FailureReason::ServiceQueryFailed => {
            return format!(
                "{target}: the HTTPS query failed on protected DNS (--protected-dns), so no \
                 connection was made without its service parameters: {}",
                dns.join("; ")
            )
        }
        _ => format!("{target}: {failure}"),
    };
    if dns.is_empty() {
        head
    } else {
        format!("{head}; {}", dns.join("; "))
    }
}

/// The first few attempts, those that ended the same way together ("A, B: refused"), then a
/// count of the rest: bounded like the core's own text.
fn attempts(failure: &Failure<io::Error>, report: &Report, args: &ConnectArgs) -> Vec<String> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for a in failure.attempts().iter().take(FAILURE_DISPLAY_LIMIT) {
        let (who, what) = match &a.error {
            Some(e) => match AttemptError::of(e) {
                Some(ae) => (ae.endpoint().to_string(), attempt_error(ae, args)),
                None => (a.endpoint.addr().to_string(), e.to_string()),
            },
            None => {
                // A plain TCP endpoint is its address; a TLS or QUIC one shows its ALPN ids.
                let who = match a.endpoint.alpn().is_empty() {
                    true => a.endpoint.addr().to_string(),
                    false => a.endpoint.to_string(),
                };
                let seen = report.attempts().get(a.attempt.index());
                (who, in_flight(seen, a.endpoint.transport(), args.tls))
            }
        };
        match groups.iter_mut().find(|(w, _)| *w == what) {
            Some((_, whos)) => whos.push(who),
            None => groups.push((what, vec![who])),
        }
    }
    let mut lines: Vec<String> = groups
        .into_iter()
        .map(|(what, whos)| format!("{}: {what}", whos.join(", ")))
        .collect();
    if let Some(rest) = failure.attempts().len().checked_sub(FAILURE_DISPLAY_LIMIT) {
        if rest > 0 {
            lines.push(format!("and {rest} more"));
        }
    }
    lines
}

/// A TLS or QUIC attempt's error without its endpoint (said once, before it): the
/// library's sentence, and for an unknown issuer where this command looked for trust.
fn attempt_error(e: &AttemptError, args: &ConnectArgs) -> String {
    match (e.certificate(), &args.ca) {
        (Some(CertificateProblem::UnknownIssuer), Some(_)) => {
            format!("{e} (neither one this system trusts nor one of --ca)")
        }
        (Some(CertificateProblem::UnknownIssuer), None) => {
            format!("{e} (not one this system trusts; give a private CA's root with --ca FILE)")
        }
        _ => e.to_string(),
    }
}

/// What an attempt cancelled at the deadline was waiting for.
fn in_flight(seen: Option<&AttemptReport>, transport: Transport, tls: bool) -> String {
    let progressed = seen.is_some_and(|a| a.progressed.is_some());
    match (transport, progressed) {
        (Transport::Quic, _) => "the QUIC handshake did not finish, cancelled".to_owned(),
        (_, true) if tls => {
            "TCP connected, but the TLS handshake did not finish (no answer from the server), \
             cancelled"
                .to_owned()
        }
        _ => "the TCP connection was not established (no answer), cancelled".to_owned(),
    }
}

/// The queries still unanswered at the deadline, and who should have answered them.
fn unanswered(report: &Report, args: &ConnectArgs) -> Option<String> {
    let waiting: Vec<String> = report
        .queries()
        .iter()
        .filter(|q| q.answered.is_none() && q.error.is_none())
        .map(|q| format!("{} {}", q.kind, q.name))
        .collect();
    if waiting.is_empty() {
        return None;
    }
    let who = match (args.resolver(), args.dns_server) {
        (ResolverKind::System, _) => {
            "the DNS server (asked through the system resolver, getaddrinfo)".to_owned()
        }
        (ResolverKind::Hickory, Some(server)) => format!("the DNS server {server}"),
        (ResolverKind::Hickory, None) => "the DNS servers of /etc/resolv.conf".to_owned(),
    };
    Some(format!(
        "{who} did not answer: no reply to {}",
        waiting.join(", ")
    ))
}
