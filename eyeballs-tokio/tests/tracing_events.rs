//! The race's actions and inputs are `tracing` events with target `eyeballs`, inside one
//! `race` span per race that carries its id and target.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Connector, StaticResolver};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Collects every event's target and fields as one line of text, after the fields of the
/// span it happened in (`-` for none).
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<String>>>, Arc<Mutex<Spans>>);

/// Every span's name and fields (id n is at n - 1), and the stack of entered ones (the
/// tests run on one thread).
#[derive(Default)]
struct Spans {
    fields: Vec<String>,
    entered: Vec<u64>,
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut text = span.metadata().name().to_string();
        span.record(&mut Line(&mut text));
        let mut spans = self.1.lock().unwrap();
        spans.fields.push(text);
        Id::from_u64(spans.fields.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().target().to_string();
        event.record(&mut Line(&mut line));
        let spans = self.1.lock().unwrap();
        let span = match spans.entered.last() {
            Some(&id) => spans.fields[id as usize - 1].clone(),
            None => "-".to_owned(),
        };
        self.0.lock().unwrap().push(format!("{span}: {line}"));
    }
    fn enter(&self, id: &Id) {
        self.1.lock().unwrap().entered.push(id.into_u64());
    }
    fn exit(&self, _: &Id) {
        self.1.lock().unwrap().entered.pop();
    }
}

#[test]
fn every_step_is_a_tracing_event() {
    let lab = Lab::new(Behaviour::Hang, Behaviour::Accept);
    let collect = Collect::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connector = Connector::builder()
        .resolver(StaticResolver::new().host("t.eyeballs.test", [V6, V4]))
        .history(false)
        .build()
        .unwrap();
    let stream = tracing::subscriber::with_default(collect.clone(), || {
        rt.block_on(connector.connect(("t.eyeballs.test", lab.port)))
    });
    assert_eq!(stream.unwrap().peer_addr().unwrap(), lab.addr(V4));
    let lines = collect.0.lock().unwrap().clone();
    let eyeballs: Vec<&String> = lines.iter().filter(|l| l.contains(": eyeballs ")).collect();
    for step in [
        "race started",
        "resolve",
        "resolved",
        "connect",
        "connected",
        "cancel",
        "race won",
    ] {
        assert!(
            eyeballs
                .iter()
                .any(|l| l.contains(&format!("message={step}"))),
            "no {step:?} event in {eyeballs:#?}"
        );
    }
}

/// Two races at once: every event of each is inside its own `race` span, which names the
/// target and a race id of its own, so their lines can be told apart.
#[test]
fn each_race_has_a_span_with_its_id_and_target() {
    let lab = Lab::new(Behaviour::Refuse, Behaviour::Accept);
    let collect = Collect::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connector = Connector::builder()
        .resolver(
            StaticResolver::new()
                .host("one.eyeballs.test", [V6, V4])
                .host("two.eyeballs.test", [V4]),
        )
        .history(false)
        .build()
        .unwrap();
    let (one, two) = tracing::subscriber::with_default(collect.clone(), || {
        rt.block_on(async {
            tokio::join!(
                connector.connect(("one.eyeballs.test", lab.port)),
                connector.connect(("two.eyeballs.test", lab.port))
            )
        })
    });
    assert!(one.is_ok() && two.is_ok());
    let lines = collect.0.lock().unwrap().clone();
    let eyeballs: Vec<&String> = lines.iter().filter(|l| l.contains(": eyeballs ")).collect();
    let mut spans: Vec<&str> = eyeballs
        .iter()
        .map(|l| l.split(": eyeballs ").next().unwrap())
        .collect();
    spans.sort_unstable();
    spans.dedup();
    assert_eq!(spans.len(), 2, "{eyeballs:#?}");
    for (span, target) in spans.iter().zip(["one", "two"]) {
        assert!(span.starts_with("race id="), "{span}");
        assert!(
            span.ends_with(&format!(" target={target}.eyeballs.test:{}", lab.port)),
            "{span}"
        );
        for step in ["race started", "connect", "race won"] {
            assert!(
                eyeballs
                    .iter()
                    .any(|l| l.starts_with(span) && l.contains(&format!("message={step}"))),
                "{span}: no {step:?} in {eyeballs:#?}"
            );
        }
    }
    assert_ne!(spans[0], spans[1], "each race has an id of its own");
}
