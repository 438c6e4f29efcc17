//! The shared TLS scenarios (eyeballs-lab), run against eyeballs-async-std under
//! async-std's and smol's executors. One test in this binary, so that the descriptor
//! checks have the process to themselves.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use eyeballs_async_std::{Connection, Connector, Tls};
use eyeballs_lab::tls_scenarios::{run_all, TlsConnect, TlsDriver, TlsOutcome, TlsSetup, Won};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone, Copy)]
enum Executor {
    AsyncStd,
    Smol,
}

impl Executor {
    fn block_on<T>(self, future: impl Future<Output = T>) -> T {
        match self {
            Executor::AsyncStd => async_std::task::block_on(future),
            Executor::Smol => smol::block_on(future),
        }
    }
}

struct AsyncIoTls {
    executor: Executor,
    connector: Connector,
    tls: Tls,
}

impl TlsDriver for Executor {
    fn name(&self) -> &'static str {
        match self {
            Executor::AsyncStd => "async-std",
            Executor::Smol => "smol",
        }
    }

    fn connector(&self, setup: TlsSetup) -> Box<dyn TlsConnect> {
        let connector = Connector::builder()
            .resolver(setup.resolver)
            .config(setup.config)
            .handshake_timeout(setup.handshake_timeout)
            .proxy(setup.proxy)
            .history(false)
            .build()
            .unwrap();
        let tls = Tls::builder(Arc::new(setup.client))
            .tcp_only()
            .build()
            .unwrap();
        Box::new(AsyncIoTls {
            executor: *self,
            connector,
            tls,
        })
    }
}

async fn echo(connection: Connection) -> Won {
    let won = Won {
        peer: connection.endpoint().addr(),
        transport: connection.transport(),
        alpn: connection.alpn().cloned(),
        offered: connection.endpoint().alpn().to_vec(),
        echoed: false,
    };
    let Some(mut stream) = connection.into_tls() else {
        return won;
    };
    let mut back = [0u8; 4];
    let echoed = stream.write_all(b"ping").await.is_ok()
        && stream.read_exact(&mut back).await.is_ok()
        && &back == b"ping";
    Won { echoed, ..won }
}

impl TlsConnect for AsyncIoTls {
    fn connect(&self, target: &str) -> TlsOutcome {
        self.executor.block_on(async {
            let (connection, report) = self
                .connector
                .connect_tls_with_report(target, &self.tls)
                .await;
            match connection {
                Ok(c) => (Ok(echo(c).await), report),
                Err(e) => (Err(e), report),
            }
        })
    }

    fn abandon(&self, target: &str, after: Duration) -> bool {
        let race = self.connector.connect_tls(target, &self.tls);
        let expired = async {
            async_io::Timer::after(after).await;
            None
        };
        let finished = async { Some(race.await) };
        // The first to end wins; the other future is dropped (the connect, mid-race).
        self.executor
            .block_on(futures_lite::future::or(finished, expired))
            .is_none()
    }
}

#[test]
fn shared_tls_scenarios() {
    run_all(&Executor::AsyncStd);
    run_all(&Executor::Smol);
}
