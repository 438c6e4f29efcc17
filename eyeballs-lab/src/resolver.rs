//! A static resolver whose answers arrive late, on whatever runtime's timer the test gives.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use eyeballs_core::QueryKind;
use eyeballs_net::{Resolve, Resolving, StaticResolver};

/// A sleep of the test's runtime, such as `|d| Box::pin(tokio::time::sleep(d))`.
pub type Sleep = fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Answers like `inner`, each query kind after its delay: to show the Resolution Delay and
/// late answers with real timers.
#[derive(Debug, Clone)]
pub struct Delayed {
    inner: StaticResolver,
    delays: Vec<(QueryKind, Duration)>,
    sleep: Sleep,
}

impl Delayed {
    /// Delays `inner`'s answers to each listed query kind.
    pub fn new(inner: StaticResolver, delays: &[(QueryKind, Duration)], sleep: Sleep) -> Self {
        Delayed {
            inner,
            delays: delays.to_vec(),
            sleep,
        }
    }
}

impl Resolve for Delayed {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let answer = self.inner.lookup(name, kind);
        let delay = self
            .delays
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, d)| *d);
        let sleep = delay.map(self.sleep);
        Box::pin(async move {
            if let Some(sleep) = sleep {
                sleep.await;
            }
            answer
        })
    }
}
