//! The shared real-socket scenarios (eyeballs-lab), run against eyeballs-async-std on
//! async-std's executor and on smol's. One test in this binary, so that the file descriptor
//! checks have the process to themselves.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::time::Duration;

use eyeballs_async_std::Connector;
use eyeballs_lab::scenarios::{run_all, Connect, Driver, Outcome, Setup};

/// The executor that drives the connects.
#[derive(Clone, Copy)]
enum Executor {
    AsyncStd,
    Smol,
}

impl Executor {
    fn block_on<F: Future>(self, future: F) -> F::Output {
        match self {
            Executor::AsyncStd => async_std::task::block_on(future),
            Executor::Smol => smol::block_on(future),
        }
    }
}

struct AsyncIoConnect(Connector, Executor);

impl Driver for Executor {
    fn name(&self) -> &'static str {
        match self {
            Executor::AsyncStd => "async-std",
            Executor::Smol => "smol",
        }
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
        Box::new(AsyncIoConnect(connector, *self))
    }
}

impl Connect for AsyncIoConnect {
    fn connect(&self, target: &str) -> Outcome {
        let (stream, report) = self.1.block_on(self.0.connect_with_report(target));
        (stream.and_then(|s| s.peer_addr()), report)
    }

    fn abandon(&self, target: &str, after: Duration) -> Option<bool> {
        // Whichever finishes first wins; the other future, the connect, is dropped.
        let race = async {
            let _ = self.0.connect(target).await;
            false
        };
        let timer = async {
            async_io::Timer::after(after).await;
            true
        };
        Some(self.1.block_on(smol::future::or(race, timer)))
    }

    fn history(&self) -> Option<eyeballs_lab::History> {
        self.0.history()
    }
}

#[test]
fn shared_scenarios() {
    run_all(&Executor::AsyncStd);
    run_all(&Executor::Smol);
}
