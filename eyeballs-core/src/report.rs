//! What happened in a race, as plain data with times relative to its start: what the
//! adapters return on request and the `eyeballs` command prints.

use core::fmt;
use core::time::Duration;
use std::net::{IpAddr, SocketAddr};

use crate::endpoint::Endpoint;
use crate::error::{Failure, Winner};
use crate::id::QueryKind;
use crate::name::Name;
use crate::race::Race;
use crate::record::AttemptStatus;
use crate::service::ServiceRecord;

/// A finished race's timeline: DNS answers, attempts, the winner, the total time.
///
/// Errors are kept as text, so the report is `Clone` and owns no adapter types. Its
/// `Display` is a readable timeline, one event a line.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use eyeballs_core::{Action, Config, Input, Race, Report, Target};
///
/// let t0 = Instant::now();
/// let addr = "127.0.0.1:80".parse().unwrap();
/// let mut race: Race<String> = Race::new(Target::addrs([addr]), Config::default(), t0)?;
/// let Some(Action::Connect { attempt, .. }) = race.poll_action() else { unreachable!() };
/// race.handle_input(Input::Connected { attempt }, t0 + Duration::from_millis(3));
/// let Some(Action::Finish(result)) = race.poll_action() else { unreachable!() };
/// let report = Report::new(&race, Some(result.as_ref()));
/// assert_eq!(report.winner(), Some(addr));
/// assert_eq!(report.elapsed(), Duration::from_millis(3));
/// assert!(report.to_string().contains("TCP 127.0.0.1:80 connected (winner)"));
/// # Ok::<(), eyeballs_core::ConfigError>(())
/// ```
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    #[cfg_attr(
        feature = "serde",
        serde(rename = "elapsed_ms", serialize_with = "crate::serde_impls::ms")
    )]
    elapsed: Duration,
    #[cfg_attr(feature = "serde", serde(rename = "dns"))]
    queries: Vec<QueryReport>,
    attempts: Vec<AttemptReport>,
    winner: Option<Endpoint>,
    error: Option<String>,
}

/// One DNS query in a [`Report`].
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryReport {
    /// The name it asked about.
    pub name: Name,
    /// What it asked for.
    #[cfg_attr(feature = "serde", serde(rename = "query"))]
    pub kind: QueryKind,
    /// When an expired answer arrived for it (V13, HG18), since the race started.
    pub stale: Option<Duration>,
    /// When it was answered (or failed), since the race started; `None` if never.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "answered_ms", serialize_with = "crate::serde_impls::ms_opt")
    )]
    pub answered: Option<Duration>,
    /// The addresses in the answer.
    pub addrs: Vec<IpAddr>,
    /// The service records in the answer (HTTPS queries).
    pub records: Vec<ServiceRecord>,
    /// The resolver's error, if it failed.
    pub error: Option<String>,
}

/// One connection attempt in a [`Report`].
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptReport {
    /// What it connected to.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub endpoint: Endpoint,
    /// When it started, since the race started.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "started_ms", serialize_with = "crate::serde_impls::ms")
    )]
    pub started: Duration,
    /// The Connection Attempt Delay that followed its start (HG13: the schedule's
    /// delay, a path's from history, or the shorter one of TCP after QUIC).
    pub delay: Duration,
    /// Whether it started with its ClientHello held (V34, V55, HG15).
    pub held: bool,
    /// When its held ClientHello was released, since the race started.
    pub released: Option<Duration>,
    /// When it reported progress (TCP up, TLS under way), since the race started.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "progressed_ms",
            serialize_with = "crate::serde_impls::ms_opt"
        )
    )]
    pub progressed: Option<Duration>,
    /// When the server rejected ECH and it dialed again with the retry configurations
    /// (V54), since the race started.
    pub ech_retried: Option<Duration>,
    /// When it ended, since the race started.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "ended_ms", serialize_with = "crate::serde_impls::ms_opt")
    )]
    pub ended: Option<Duration>,
    /// How it ended.
    #[cfg_attr(feature = "serde", serde(rename = "result"))]
    pub status: AttemptStatus,
    /// Its error, if it failed.
    pub error: Option<String>,
}

impl Report {
    /// Builds the report of `race`, finished with `result` (the payload of
    /// [`Action::Finish`](crate::Action::Finish), by reference), or of a race still running
    /// when `result` is `None`.
    pub fn new<E: fmt::Display>(
        race: &Race<E>,
        result: Option<Result<&Winner, &Failure<E>>>,
    ) -> Self {
        let t0 = race.started();
        let since = |t: std::time::Instant| t.saturating_duration_since(t0);
        let failure = match result {
            Some(Err(f)) => Some(f),
            _ => None,
        };
        // Errors live in the race until it fails, then in the failure, whose lists hold
        // every attempt (by index) and the failed queries in order: both are walked once,
        // so a report is linear in the race's size.
        let mut moved_attempts = failure.map(|f| f.attempts().iter().peekable());
        let attempts = race
            .attempts()
            .iter()
            .map(|a| {
                let moved = moved_attempts.as_mut().and_then(|it| {
                    it.next_if(|x| x.attempt == a.id())
                        .and_then(|x| x.error.as_ref())
                });
                AttemptReport {
                    endpoint: a.endpoint().clone(),
                    started: since(a.started()),
                    delay: a.delay(),
                    held: a.is_held(),
                    released: a.released().map(since),
                    progressed: a.progressed().map(since),
                    ech_retried: a.ech_retried().map(since),
                    ended: a.ended().map(since),
                    status: a.status(),
                    error: a.error().or(moved).map(ToString::to_string),
                }
            })
            .collect();
        let mut moved_queries = failure.map(|f| f.queries().iter().peekable());
        let queries = race
            .queries()
            .iter()
            .map(|q| {
                let moved = moved_queries
                    .as_mut()
                    .and_then(|it| it.next_if(|x| x.query == q.id()).map(|x| &x.error));
                QueryReport {
                    name: q.name().clone(),
                    kind: q.kind(),
                    stale: q.stale().map(since),
                    answered: q.answered().map(since),
                    addrs: q.addrs().to_vec(),
                    records: q.records().to_vec(),
                    error: q.error().or(moved).map(ToString::to_string),
                }
            })
            .collect();
        let elapsed = race.finished().map_or(Duration::ZERO, since);
        Report {
            elapsed,
            queries,
            attempts,
            winner: match result {
                Some(Ok(w)) => Some(w.endpoint().clone()),
                _ => None,
            },
            error: failure.map(ToString::to_string),
        }
    }

    /// Returns how long the race took, from its start to its end.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Returns every DNS query, in the order they were asked for.
    pub fn queries(&self) -> &[QueryReport] {
        &self.queries
    }

    /// Returns every attempt, in the order they started.
    pub fn attempts(&self) -> &[AttemptReport] {
        &self.attempts
    }

    /// Returns the winning address, if the race connected.
    pub fn winner(&self) -> Option<SocketAddr> {
        self.winner.as_ref().map(Endpoint::addr)
    }

    /// Returns the winning endpoint, if the race connected.
    pub fn winner_endpoint(&self) -> Option<&Endpoint> {
        self.winner.as_ref()
    }

    /// Returns the failure's text, if the race failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// Milliseconds with one decimal, for timelines.
struct Ms(Duration);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = self.0.as_micros() / 100;
        write!(f, "{:>5}.{} ms", tenths / 10, tenths % 10)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // (time, order of kind, index, line): sorted by time; at one instant, answers, then
        // starts, then progress, then released ClientHellos, then ECH retries, then ends, as
        // the race saw them. Lines are written on the
        // fly, so the text is linear in the events (n log n for the sort).
        let mut lines: Vec<(Duration, u8, usize)> = Vec::new();
        for (i, q) in self.queries.iter().enumerate() {
            // A stale answer's line is keyed by `usize::MAX - i`, told apart from answers.
            if let Some(t) = q.stale {
                lines.push((t, 0, usize::MAX - i));
            }
            if let Some(t) = q.answered {
                lines.push((t, 0, i));
            }
        }
        for (i, a) in self.attempts.iter().enumerate() {
            lines.push((a.started, 1, i));
            if let Some(t) = a.progressed {
                lines.push((t, 2, i));
            }
            if let Some(t) = a.released {
                lines.push((t, 3, i));
            }
            if let Some(t) = a.ech_retried {
                lines.push((t, 4, i));
            }
            if let Some(t) = a.ended {
                lines.push((t, 5, i));
            }
        }
        lines.sort_unstable();
        for &(t, what, i) in &lines {
            write!(f, "{}  ", Ms(t))?;
            match what {
                0 if i >= self.queries.len() => {
                    let q = &self.queries[usize::MAX - i];
                    write!(
                        f,
                        "{} {} answered from an expired cache entry",
                        q.kind, q.name
                    )?;
                }
                0 => write_query(f, &self.queries[i])?,
                1 => {
                    let a = &self.attempts[i];
                    let family = if a.endpoint.addr().is_ipv6() {
                        "IPv6"
                    } else {
                        "IPv4"
                    };
                    write!(f, "attempt {i} {family} {} started", a.endpoint)?;
                    if let Some(p) = a.endpoint.priority() {
                        write!(f, " (service priority {p})")?;
                    }
                    if a.held {
                        f.write_str(", ClientHello held for service information")?;
                    }
                }
                2 => write!(f, "attempt {i} {} progressed", self.attempts[i].endpoint)?,
                3 => write!(
                    f,
                    "attempt {i} {} ClientHello released",
                    self.attempts[i].endpoint
                )?,
                4 => write!(
                    f,
                    "attempt {i} {} ECH rejected: retried with the server's retry configs",
                    self.attempts[i].endpoint
                )?,
                _ => {
                    let a = &self.attempts[i];
                    write!(f, "attempt {i} {} ", a.endpoint)?;
                    match (a.status, &a.error) {
                        (AttemptStatus::Connected, _) => f.write_str("connected (winner)")?,
                        (AttemptStatus::Cancelled, _) => f.write_str("cancelled")?,
                        (_, Some(e)) => write!(f, "failed: {e}")?,
                        (_, None) => f.write_str("failed")?,
                    }
                }
            }
            writeln!(f)?;
        }
        match (&self.winner, &self.error) {
            (Some(w), _) => write!(f, "{}  connected to {w}", Ms(self.elapsed)),
            (None, Some(e)) => write!(f, "{}  failed: {e}", Ms(self.elapsed)),
            (None, None) => write!(f, "{}  still running", Ms(self.elapsed)),
        }
    }
}

/// One answer line: "AAAA example.test answer: ..." with addresses, records or the error.
fn write_query(f: &mut fmt::Formatter<'_>, q: &QueryReport) -> fmt::Result {
    write!(f, "{} {} ", q.kind, q.name)?;
    if let Some(e) = &q.error {
        return write!(f, "query failed: {e}");
    }
    f.write_str("answer: ")?;
    if q.kind == QueryKind::Https {
        if q.records.is_empty() {
            return f.write_str("no records");
        }
        for (i, r) in q.records.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write_record(f, r)?;
        }
        return Ok(());
    }
    if q.addrs.is_empty() {
        return f.write_str("no addresses");
    }
    for (i, a) in q.addrs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    Ok(())
}

/// A record in zone-file style: `1 . alpn=h3,h2 port=8443 ipv6hint=...`.
fn write_record(f: &mut fmt::Formatter<'_>, r: &ServiceRecord) -> fmt::Result {
    write!(f, "{} {}", r.priority(), r.target())?;
    let list = |f: &mut fmt::Formatter<'_>, key: &str, items: &mut dyn Iterator<Item = String>| {
        let mut first = true;
        for item in items {
            f.write_str(if first { " " } else { "," })?;
            if first {
                write!(f, "{key}=")?;
            }
            f.write_str(&item)?;
            first = false;
        }
        Ok(())
    };
    list(f, "alpn", &mut r.alpn_ids().iter().map(ToString::to_string))?;
    if r.is_no_default_alpn() {
        f.write_str(" no-default-alpn")?;
    }
    if let Some(p) = r.port_key() {
        write!(f, " port={p}")?;
    }
    list(
        f,
        "ipv4hint",
        &mut r.ipv4_hint_addrs().iter().map(ToString::to_string),
    )?;
    list(
        f,
        "ipv6hint",
        &mut r.ipv6_hint_addrs().iter().map(ToString::to_string),
    )?;
    if let Some(e) = r.ech_config() {
        write!(f, " ech=({} bytes)", e.as_bytes().len())?;
    }
    list(
        f,
        "mandatory",
        &mut r.mandatory_keys().iter().map(ToString::to_string),
    )
}
