//! The shared real-socket scenarios (eyeballs-lab), run against eyeballs-blocking. One test
//! in this binary, so that the file descriptor checks have the process to themselves.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use eyeballs_blocking::Connector;
use eyeballs_lab::scenarios::{run_all, Connect, Driver, Outcome, Setup};

struct Blocking;

impl Driver for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }

    fn connector(&self, setup: Setup) -> Box<dyn Connect> {
        let connector = Connector::builder()
            .resolver(setup.resolver)
            .config(setup.config)
            .socket(setup.socket)
            .proxy(setup.proxy);
        let connector = match setup.history {
            Some(h) => connector.with_history(h),
            None => connector.history(false),
        }
        .build()
        .unwrap();
        Box::new(BlockingConnect(connector))
    }
}

struct BlockingConnect(Connector);

impl Connect for BlockingConnect {
    fn connect(&self, target: &str) -> Outcome {
        let (stream, report) = self.0.connect_with_report(target);
        (stream.and_then(|s| s.peer_addr()), report)
    }

    /// A blocking connect cannot be abandoned from outside: its deadline is the way out,
    /// which the "deadline" and "cleanup" scenarios check.
    fn abandon(&self, _target: &str, _after: Duration) -> Option<bool> {
        None
    }

    fn history(&self) -> Option<eyeballs_lab::History> {
        self.0.history()
    }
}

#[test]
fn shared_scenarios() {
    run_all(&Blocking);
}
