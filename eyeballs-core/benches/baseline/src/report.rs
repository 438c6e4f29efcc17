//! What happened in a race, as plain data with times relative to its start: what the
//! adapters return on request and the `eyeballs` command prints.

use core::fmt;
use core::time::Duration;
use std::net::{IpAddr, SocketAddr};

use crate::error::{Failure, Winner};
use crate::race::Race;
use crate::record::AttemptStatus;
use crate::target::QueryKind;

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
/// assert!(report.to_string().contains("127.0.0.1:80 connected (winner)"));
/// # Ok::<(), eyeballs_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    elapsed: Duration,
    queries: Vec<QueryReport>,
    attempts: Vec<AttemptReport>,
    winner: Option<SocketAddr>,
    error: Option<String>,
}

/// One DNS query in a [`Report`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryReport {
    /// What it asked for.
    pub kind: QueryKind,
    /// When it was answered (or failed), since the race started; `None` if never.
    pub answered: Option<Duration>,
    /// The addresses in the answer.
    pub addrs: Vec<IpAddr>,
    /// The resolver's error, if it failed.
    pub error: Option<String>,
}

/// One connection attempt in a [`Report`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptReport {
    /// Where it connected to.
    pub addr: SocketAddr,
    /// When it started, since the race started.
    pub started: Duration,
    /// When it ended, since the race started.
    pub ended: Option<Duration>,
    /// How it ended.
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
        let attempts = race
            .attempts()
            .iter()
            .map(|a| {
                // Errors live in the race until it fails, then in the failure.
                let moved = failure.and_then(|f| {
                    f.attempts()
                        .iter()
                        .find(|x| x.attempt == a.id())
                        .and_then(|x| x.error.as_ref())
                });
                AttemptReport {
                    addr: a.addr(),
                    started: since(a.started()),
                    ended: a.ended().map(since),
                    status: a.status(),
                    error: a.error().or(moved).map(ToString::to_string),
                }
            })
            .collect();
        let queries = race
            .queries()
            .iter()
            .map(|q| {
                let moved = failure.and_then(|f| {
                    f.queries()
                        .iter()
                        .find(|x| x.query == q.id())
                        .map(|x| &x.error)
                });
                QueryReport {
                    kind: q.kind(),
                    answered: q.answered().map(since),
                    addrs: q.addrs().to_vec(),
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
                Some(Ok(w)) => Some(w.addr),
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
        self.winner
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
        // (time, order of kind, text): sorted by time; at one instant, answers, then starts,
        // then ends, as the race saw them.
        let mut lines: Vec<(Duration, u8, usize, String)> = Vec::new();
        for (i, q) in self.queries.iter().enumerate() {
            let text = match (&q.error, q.answered) {
                (_, None) => continue,
                (Some(e), _) => format!("{} query failed: {e}", q.kind),
                (None, _) if q.addrs.is_empty() => format!("{} answer: no addresses", q.kind),
                (None, _) => {
                    let addrs: Vec<String> = q.addrs.iter().map(ToString::to_string).collect();
                    format!("{} answer: {}", q.kind, addrs.join(", "))
                }
            };
            lines.push((q.answered.unwrap_or_default(), 0, i, text));
        }
        for (i, a) in self.attempts.iter().enumerate() {
            let family = if a.addr.is_ipv6() { "IPv6" } else { "IPv4" };
            lines.push((
                a.started,
                1,
                i,
                format!("attempt {i} {family} {} started", a.addr),
            ));
            let Some(ended) = a.ended else { continue };
            let end = match (a.status, &a.error) {
                (AttemptStatus::Connected, _) => "connected (winner)".to_string(),
                (AttemptStatus::Cancelled, _) => "cancelled".to_string(),
                (_, Some(e)) => format!("failed: {e}"),
                (_, None) => "failed".to_string(),
            };
            lines.push((ended, 2, i, format!("attempt {i} {} {end}", a.addr)));
        }
        lines.sort();
        for (t, _, _, text) in &lines {
            writeln!(f, "{}  {text}", Ms(*t))?;
        }
        match (&self.winner, &self.error) {
            (Some(w), _) => write!(f, "{}  connected to {w}", Ms(self.elapsed)),
            (None, Some(e)) => write!(f, "{}  failed: {e}", Ms(self.elapsed)),
            (None, None) => write!(f, "{}  still running", Ms(self.elapsed)),
        }
    }
}
