//! The race's actions and inputs are `tracing` events with target `eyeballs`.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use eyeballs_lab::loopback::{Behaviour, Lab, V4, V6};
use eyeballs_tokio::{Connector, StaticResolver};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Collects every event's target and fields as one line of text.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<String>>>);

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
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().target().to_string();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
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
    let eyeballs: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("eyeballs "))
        .collect();
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
