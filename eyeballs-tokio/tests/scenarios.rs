//! The shared real-socket scenarios (eyeballs-lab), run against eyeballs-tokio. One test in
//! this binary, so that the file descriptor checks have the process to themselves.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use eyeballs_lab::scenarios::{run_all, Connect, Driver, Outcome, Setup};
use eyeballs_tokio::Connector;
use tokio::runtime::Runtime;

struct Tokio;

struct TokioConnect {
    rt: Runtime,
    connector: Connector,
}

impl Driver for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn connector(&self, setup: Setup) -> Box<dyn Connect> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
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
        Box::new(TokioConnect { rt, connector })
    }
}

impl Connect for TokioConnect {
    fn connect(&self, target: &str) -> Outcome {
        let (stream, report) = self.rt.block_on(self.connector.connect_with_report(target));
        (stream.and_then(|s| s.peer_addr()), report)
    }

    fn abandon(&self, target: &str, after: Duration) -> Option<bool> {
        let race = self.connector.connect(target);
        // The timeout drops the connect future when it fires.
        let timed_out = self
            .rt
            .block_on(async { tokio::time::timeout(after, race).await });
        Some(timed_out.is_err())
    }

    fn history(&self) -> Option<eyeballs_lab::History> {
        self.connector.history()
    }
}

#[test]
fn shared_scenarios() {
    run_all(&Tokio);
}
