//! The shared real-socket scenarios (eyeballs-lab), run against eyeballs-async-std on smol's
//! executor. One test in this binary, for the file descriptor checks.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use eyeballs_async_std::{Connector, StaticResolver};
use eyeballs_core::Config;
use eyeballs_lab::scenarios::{run_all, Connect, Driver, Outcome};

struct Smol;

struct SmolConnect(Connector);

impl Driver for Smol {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn connector(
        &self,
        resolver: StaticResolver,
        config: Config,
        history: bool,
    ) -> Box<dyn Connect> {
        let connector = Connector::builder()
            .resolver(resolver)
            .config(config)
            .history(history)
            .build()
            .unwrap();
        Box::new(SmolConnect(connector))
    }
}

impl Connect for SmolConnect {
    fn connect(&self, target: &str) -> Outcome {
        let (stream, report) = smol::block_on(self.0.connect_with_report(target));
        (stream.and_then(|s| s.peer_addr()), report)
    }

    fn abandon(&self, target: &str, after: Duration) -> Option<bool> {
        // Whichever finishes first wins; the other future, the connect, is dropped.
        let race = async {
            let _ = self.0.connect(target).await;
            false
        };
        let timer = async {
            smol::Timer::after(after).await;
            true
        };
        Some(smol::block_on(smol::future::or(race, timer)))
    }
}

#[test]
fn shared_scenarios() {
    run_all(&Smol);
}
