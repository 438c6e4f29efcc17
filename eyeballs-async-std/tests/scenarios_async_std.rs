//! The shared real-socket scenarios (eyeballs-lab), run against eyeballs-async-std on
//! async-std's executor. One test in this binary, for the file descriptor checks.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use eyeballs_async_std::{Connector, StaticResolver};
use eyeballs_core::Config;
use eyeballs_lab::scenarios::{run_all, Connect, Driver, Outcome};

struct AsyncStd;

struct AsyncStdConnect(Connector);

impl Driver for AsyncStd {
    fn name(&self) -> &'static str {
        "async-std"
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
        Box::new(AsyncStdConnect(connector))
    }
}

impl Connect for AsyncStdConnect {
    fn connect(&self, target: &str) -> Outcome {
        let (stream, report) = async_std::task::block_on(self.0.connect_with_report(target));
        (stream.and_then(|s| s.peer_addr()), report)
    }

    fn abandon(&self, target: &str, after: Duration) -> Option<bool> {
        // The timeout drops the connect future when it fires.
        let race = self.0.connect(target);
        let result = async_std::task::block_on(async_std::future::timeout(after, race));
        Some(result.is_err())
    }
}

#[test]
fn shared_scenarios() {
    run_all(&AsyncStd);
}
