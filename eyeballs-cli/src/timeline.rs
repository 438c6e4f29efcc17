//! The timeline as it happens: a `tracing` layer that turns the library's `eyeballs` events
//! (target `eyeballs`, inside one `race` span per race) into the lines of `eyeballs
//! connect`'s timeline, each printed the moment it happens: every answer, every attempt
//! started, progressed, failed, cancelled and won. Nothing is silent for longer than the
//! race itself is.
//!
//! The lines read like the report's (`eyeballs_core::Report`'s `Display`), with the times
//! of the events as they were seen here. `-v` adds the queries as they are sent, each
//! race's id and target, and the library's other events. HTTPS answers are written out
//! record by record in zone-file style: the events carry records only as debug text, so
//! the resolver is wrapped ([`Watched`]) to keep each answer's records for its line.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use eyeballs_core::{QueryKind, ServiceRecord};
use eyeballs_net::{Resolve, Resolving, ResolvingServices};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The layer: prints each race's lines on stdout as its events come.
pub(crate) struct Timeline {
    verbose: bool,
    answers: Answers,
}

impl Timeline {
    /// A timeline that reads HTTPS answers from `answers` (shared with [`Watched`]).
    pub(crate) fn new(verbose: bool, answers: Answers) -> Self {
        Timeline { verbose, answers }
    }
}

/// HTTPS answers as the resolver gave them, formatted, until their line is printed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answers(Arc<Mutex<Vec<(String, String)>>>);

impl Answers {
    fn push(&self, name: &str, records: &[ServiceRecord]) {
        let mut text = String::new();
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                text.push_str("; ");
            }
            write_record(&mut text, r);
        }
        let mut answers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: a line takes its answer, and a race asks a few names.
        if answers.len() >= 64 {
            answers.remove(0);
        }
        answers.push((name.to_owned(), text));
    }

    fn take(&self, name: &str) -> Option<String> {
        let mut answers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let i = answers.iter().rposition(|(n, _)| n == name)?;
        Some(answers.remove(i).1)
    }
}

/// A resolver that keeps the HTTPS records it answers for the timeline's lines.
pub(crate) struct Watched<R> {
    inner: R,
    answers: Answers,
}

impl<R> Watched<R> {
    pub(crate) fn new(inner: R, answers: Answers) -> Self {
        Watched { inner, answers }
    }
}

impl<R: Resolve> Resolve for Watched<R> {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        self.inner.resolve(name, kind)
    }

    fn answers_both(&self) -> bool {
        self.inner.answers_both()
    }

    fn resolve_https(&self, name: &str) -> ResolvingServices {
        let answer = self.inner.resolve_https(name);
        let (answers, name) = (self.answers.clone(), name.to_owned());
        Box::pin(async move {
            let records = answer.await?;
            answers.push(&name, &records);
            Ok(records)
        })
    }

    fn answers_https(&self) -> bool {
        self.inner.answers_https()
    }
}

/// What one race's lines need: its start, and its queries and attempts by id.
struct Race {
    started: Instant,
    queries: BTreeMap<String, (String, String)>,
    attempts: BTreeMap<String, String>,
}

impl<S> Layer<S> for Timeline
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if meta.target() != "eyeballs" || meta.name() != "race" {
            return;
        }
        if self.verbose {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            let id = fields.get("id");
            let target = fields.get("target");
            print_line(format_args!("race {id}: {target}"));
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Race {
                started: Instant::now(),
                queries: BTreeMap::new(),
                attempts: BTreeMap::new(),
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "eyeballs" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let Some(span) = scope
            .into_iter()
            .find(|s| s.extensions().get::<Race>().is_some())
        else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut extensions = span.extensions_mut();
        let Some(race) = extensions.get_mut::<Race>() else {
            return;
        };
        if let Some(line) = self.line(race, &fields) {
            let at = Ms(race.started.elapsed());
            print_line(format_args!("{at}  {line}"));
        }
    }
}

impl Timeline {
    /// The line of one event, or `None` for an event the timeline does not show.
    fn line(&self, race: &mut Race, f: &Fields) -> Option<String> {
        let query = |race: &Race| {
            let (kind, name) = race.queries.get(f.get("query"))?;
            Some(format!("{kind} {name}"))
        };
        let attempt = |race: &Race| {
            let id = f.get("attempt");
            let endpoint = race.attempts.get(id)?;
            Some(format!("attempt {} {endpoint}", id.trim_start_matches('#')))
        };
        match f.get("message") {
            "resolve" => {
                let (kind, name) = (f.get("kind"), f.get("name"));
                race.queries.insert(
                    f.get("query").to_owned(),
                    (kind.to_owned(), name.to_owned()),
                );
                self.verbose.then(|| format!("{kind} {name} asked"))
            }
            "resolved" => {
                let q = query(race)?;
                let answer = match (f.0.get("addrs"), f.0.get("records")) {
                    (Some(addrs), _) => match addrs.trim_matches(|c| c == '[' || c == ']') {
                        "" => "no addresses".to_owned(),
                        list => list.to_owned(),
                    },
                    (None, Some(_)) => {
                        let name = q.split_once(' ').map_or("", |(_, n)| n);
                        match self.answers.take(name) {
                            Some(text) if text.is_empty() => "no records".to_owned(),
                            Some(text) => text,
                            None => "records".to_owned(),
                        }
                    }
                    (None, None) => return None,
                };
                Some(format!("{q} answer: {answer}"))
            }
            "resolve failed" => Some(format!("{} query failed: {}", query(race)?, f.get("error"))),
            "connect" => {
                let (id, endpoint) = (f.get("attempt"), f.get("endpoint"));
                race.attempts.insert(id.to_owned(), endpoint.to_owned());
                let family = match endpoint.split_once(' ').map(|(_, addr)| addr) {
                    Some(addr) if addr.starts_with('[') => "IPv6",
                    _ => "IPv4",
                };
                let mut line = format!(
                    "attempt {} {family} {endpoint} started",
                    id.trim_start_matches('#')
                );
                if let Some(p) = f.0.get("priority") {
                    let _ = write!(line, " (service priority {p})");
                }
                if let Some(host) = f.0.get("alt_svc") {
                    let _ = write!(line, " (Alt-Svc {host})");
                }
                if let Some(d) = f.0.get("delay_ms") {
                    let _ = write!(line, ", attempt delay {d} ms");
                }
                Some(line)
            }
            "tcp connected, handshake under way" => Some(format!("{} progressed", attempt(race)?)),
            "connect failed" | "handshake stalled" => {
                Some(format!("{} failed: {}", attempt(race)?, f.get("error")))
            }
            "cancel" => Some(format!("{} cancelled", attempt(race)?)),
            "race won" => {
                let winner = f.get("winner");
                let (id, endpoint) = race.attempts.iter().find(|(_, e)| *e == winner)?;
                Some(format!(
                    "attempt {} {endpoint} connected (winner)",
                    id.trim_start_matches('#')
                ))
            }
            // The end of the race is the report's last line, printed after it.
            "race started" | "connected" | "race failed" => None,
            other => self.verbose.then(|| format!("{other}{}", f.rest())),
        }
    }
}

/// One line on stdout, flushed at once: the point is that it shows now.
fn print_line(line: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    // A closed stdout (`eyeballs ... | head`) ends the output, not the race.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// An event's fields as text, by name.
#[derive(Default)]
struct Fields(BTreeMap<&'static str, String>);

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// The fields other than the message, as ` name=value` pairs.
    fn rest(&self) -> String {
        let mut text = String::new();
        for (name, value) in self.0.iter().filter(|(n, _)| **n != "message") {
            let _ = write!(text, " {name}={value}");
        }
        text
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

/// Milliseconds with one decimal, as the report writes them.
struct Ms(Duration);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = self.0.as_micros() / 100;
        write!(f, "{:>5}.{} ms", tenths / 10, tenths % 10)
    }
}

/// A record in zone-file style, as the report writes it: `1 . alpn=h3,h2 port=8443 ...`.
fn write_record(out: &mut String, r: &ServiceRecord) {
    let _ = write!(out, "{} {}", r.priority(), r.target());
    list(out, "alpn", r.alpn_ids());
    if r.is_no_default_alpn() {
        out.push_str(" no-default-alpn");
    }
    if let Some(p) = r.port_key() {
        let _ = write!(out, " port={p}");
    }
    list(out, "ipv4hint", r.ipv4_hint_addrs());
    list(out, "ipv6hint", r.ipv6_hint_addrs());
    if let Some(e) = r.ech_config() {
        let _ = write!(out, " ech=({} bytes)", e.as_bytes().len());
    }
    list(out, "mandatory", r.mandatory_keys());
}

/// ` key=a,b,c`, or nothing for no items.
fn list<T: fmt::Display>(out: &mut String, key: &str, items: &[T]) {
    for (i, item) in items.iter().enumerate() {
        let _ = match i {
            0 => write!(out, " {key}={item}"),
            _ => write!(out, ",{item}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_as_in_a_zone_file() {
        let mut text = String::new();
        let record = ServiceRecord::new(1, ".")
            .alpn(["h3", "h2"])
            .ipv6_hints(["2001:db8::1".parse().unwrap_or_else(|e| panic!("{e}"))]);
        write_record(&mut text, &record);
        assert_eq!(text, "1 . alpn=h3,h2 ipv6hint=2001:db8::1");
    }

    #[test]
    fn times_read_as_in_the_report() {
        assert_eq!(Ms(Duration::from_micros(250_340)).to_string(), "  250.3 ms");
    }
}
