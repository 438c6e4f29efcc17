//! hickory-resolver for the blocking driver (on async-io, its lookups polled on the race's
//! thread) against a real DNS server on loopback: the lab's hickory scenarios (AAAA and A as
//! separate queries, errors as sentences, HTTPS records decoded, nothing left behind once
//! hickory's timeout has ended the lookups a race abandoned). One test in this binary, so
//! that the descriptor and task counts have the process to themselves (feature `hickory`).
#![cfg(feature = "hickory")]
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs_blocking::{Connector, HickoryResolver, Resolve, ServiceRecord};
use eyeballs_core::Config;
use eyeballs_lab::hickory::{run_all, HickoryDriver};
use eyeballs_lab::scenarios::Outcome;

struct Blocking;

/// A resolver asking only `server`; with `timeout`, waiting that long and trying once.
fn resolver(server: SocketAddr, timeout: Option<Duration>) -> HickoryResolver {
    let Some(timeout) = timeout else {
        return HickoryResolver::with_name_servers(&[server]).unwrap();
    };
    HickoryResolver::with_options(&[server], |options| {
        options.timeout = timeout;
        options.attempts = 0;
    })
    .unwrap()
}

impl HickoryDriver for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }

    fn race(
        &self,
        server: SocketAddr,
        timeout: Option<Duration>,
        config: Config,
        target: &str,
    ) -> Outcome {
        let connector = Connector::builder()
            .resolver(resolver(server, timeout))
            .config(config)
            .history(false)
            .build()
            .unwrap();
        let (stream, report) = connector.connect_with_report(target);
        (stream.and_then(|s| s.peer_addr()), report)
    }

    fn https(&self, server: SocketAddr, name: &str) -> (bool, io::Result<Vec<ServiceRecord>>) {
        let resolver = resolver(server, None);
        (
            resolver.answers_https(),
            futures_lite::future::block_on(resolver.resolve_https(name)),
        )
    }

    fn cancels_lookups(&self) -> bool {
        // The race's lookups are futures polled on its thread: dropped when it ends.
        true
    }

    fn background_tasks(&self) -> Option<usize> {
        Some(eyeballs_blocking::hickory_background_tasks())
    }
}

#[test]
fn hickory_scenarios_on_blocking() {
    run_all(&Blocking);
}
