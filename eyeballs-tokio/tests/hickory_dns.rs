//! hickory-resolver on tokio against a real DNS server on loopback: the lab's hickory
//! scenarios (AAAA and A as separate queries, so RFC 8305 §3's Resolution Delay and
//! late-answer merging happen with real packets; errors as sentences; HTTPS records
//! decoded; nothing left behind). One test in this binary, so that the descriptor checks
//! have the process to themselves (feature `hickory`).
#![cfg(feature = "hickory")]
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use eyeballs_core::{Config, ServiceRecord};
use eyeballs_lab::hickory::{run_all, HickoryDriver};
use eyeballs_lab::scenarios::Outcome;
use eyeballs_tokio::{Connector, HickoryResolver, Resolve};

struct Tokio;

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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

impl HickoryDriver for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn race(
        &self,
        server: SocketAddr,
        timeout: Option<Duration>,
        config: Config,
        target: &str,
    ) -> Outcome {
        runtime().block_on(async {
            let connector = Connector::builder()
                .resolver(resolver(server, timeout))
                .config(config)
                .history(false)
                .build()
                .unwrap();
            let (stream, report) = connector.connect_with_report(target).await;
            (stream.and_then(|s| s.peer_addr()), report)
        })
    }

    fn https(&self, server: SocketAddr, name: &str) -> (bool, io::Result<Vec<ServiceRecord>>) {
        runtime().block_on(async {
            let resolver = resolver(server, None);
            (resolver.answers_https(), resolver.resolve_https(name).await)
        })
    }

    fn cancels_lookups(&self) -> bool {
        true
    }

    fn background_tasks(&self) -> Option<usize> {
        // hickory's tasks live on the test's runtime, which each call drops.
        None
    }
}

#[test]
fn hickory_scenarios_on_tokio() {
    run_all(&Tokio);
}
