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

/// A resolver for the DNS cache's refreshes (V13, HG18): every name is 127.0.0.1. The
/// first A query answers at once with a TTL of 1 ns (so the next connect finds it
/// expired); the second answers, with an hour's TTL, only once [`GatedRefresh::open`] is
/// called; every later one never answers. AAAA queries are empty at once, without a TTL
/// (never cached). Clones share the count and the gate.
#[derive(Debug, Clone, Default)]
pub struct GatedRefresh {
    a_queries: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    gate: std::sync::Arc<std::sync::Mutex<(bool, Option<std::task::Waker>)>>,
}

impl GatedRefresh {
    /// A resolver with its gate closed and no query counted.
    pub fn new() -> Self {
        GatedRefresh::default()
    }

    /// Lets the second A query answer (and wakes it if it waits).
    pub fn open(&self) {
        let mut gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        gate.0 = true;
        if let Some(waker) = gate.1.take() {
            waker.wake();
        }
    }

    /// Returns how many A queries were asked.
    pub fn a_queries(&self) -> usize {
        self.a_queries.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Resolve for GatedRefresh {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let answer = self.resolve_with_ttl(name, kind);
        Box::pin(async move { answer.await.map(eyeballs_net::WithTtl::into_value) })
    }

    fn resolve_with_ttl(&self, _name: &str, kind: QueryKind) -> eyeballs_net::ResolvingWithTtl {
        use eyeballs_net::WithTtl;
        use std::net::{IpAddr, Ipv4Addr};
        if kind != QueryKind::A {
            return Box::pin(std::future::ready(Ok(WithTtl::new(Vec::new(), None))));
        }
        let localhost = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        let asked = self
            .a_queries
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match asked {
            0 => Box::pin(std::future::ready(Ok(WithTtl::new(
                localhost,
                Some(Duration::from_nanos(1)),
            )))),
            1 => {
                let gate = self.gate.clone();
                Box::pin(async move {
                    std::future::poll_fn(|cx| {
                        let mut gate = gate.lock().unwrap_or_else(|p| p.into_inner());
                        if gate.0 {
                            return std::task::Poll::Ready(());
                        }
                        gate.1 = Some(cx.waker().clone());
                        std::task::Poll::Pending
                    })
                    .await;
                    Ok(WithTtl::new(localhost, Some(Duration::from_secs(3600))))
                })
            }
            _ => Box::pin(std::future::pending()),
        }
    }
}

/// A resolver for the DNS cache (V13, HG18): every name is 127.0.0.1 with the TTL it was
/// made with, for its first A query only; every later A query never answers (so a connect
/// that waits for one would not end). AAAA queries are empty at once, without a TTL (never
/// cached). Clones share the count.
#[derive(Debug, Clone)]
pub struct OnceThenSilent {
    ttl: Duration,
    a_queries: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl OnceThenSilent {
    /// A resolver whose one answer has a time to live of `ttl`.
    pub fn new(ttl: Duration) -> Self {
        OnceThenSilent {
            ttl,
            a_queries: Default::default(),
        }
    }

    /// Returns how many A queries were asked.
    pub fn a_queries(&self) -> usize {
        self.a_queries.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Resolve for OnceThenSilent {
    fn resolve(&self, name: &str, kind: QueryKind) -> Resolving {
        let answer = self.resolve_with_ttl(name, kind);
        Box::pin(async move { answer.await.map(eyeballs_net::WithTtl::into_value) })
    }

    fn resolve_with_ttl(&self, _name: &str, kind: QueryKind) -> eyeballs_net::ResolvingWithTtl {
        use eyeballs_net::WithTtl;
        use std::net::{IpAddr, Ipv4Addr};
        if kind != QueryKind::A {
            return Box::pin(std::future::ready(Ok(WithTtl::new(Vec::new(), None))));
        }
        let asked = self
            .a_queries
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if asked > 0 {
            return Box::pin(std::future::pending());
        }
        let answer = WithTtl::new(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)], Some(self.ttl));
        Box::pin(std::future::ready(Ok(answer)))
    }
}
