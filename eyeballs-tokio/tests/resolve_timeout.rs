//! A resolver that never answers does not hold a connect forever: each query fails as
//! timed out after `RESOLVE_TIMEOUT` (30 s), on tokio's paused clock (no wall time
//! passes).
#![allow(clippy::unwrap_used)]

use std::future::pending;

use eyeballs_tokio::{Connector, QueryKind, Resolve, Resolving, RESOLVE_TIMEOUT};
use tokio::time::Instant;

/// Never answers, as a custom resolver with a lost reply would.
struct Silent;

impl Resolve for Silent {
    fn resolve(&self, _name: &str, _kind: QueryKind) -> Resolving {
        Box::pin(pending())
    }
}

#[tokio::test(start_paused = true)]
async fn a_resolver_that_never_answers_fails_after_the_resolve_timeout() {
    let connector = Connector::builder().resolver(Silent).build().unwrap();
    let start = Instant::now();
    let error = connector.connect(("never.test", 443)).await.unwrap_err();
    let took = start.elapsed();
    assert!(
        took >= RESOLVE_TIMEOUT && took < RESOLVE_TIMEOUT * 2,
        "failed after {took:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("no answer from the resolver within 30 s"),
        "{text}"
    );
}
