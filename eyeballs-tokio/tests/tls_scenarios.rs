//! The shared TLS scenarios (eyeballs-lab), run against eyeballs-tokio. One test in this
//! binary, so that the descriptor checks have the process to themselves.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use eyeballs_lab::tls_scenarios::{run_all, TlsConnect, TlsDriver, TlsOutcome, TlsSetup, Won};
use eyeballs_tokio::{Connection, Connector, Tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

struct Tokio;

struct TokioTls {
    rt: Runtime,
    connector: Connector,
    tls: Tls,
}

impl TlsDriver for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn connector(&self, setup: TlsSetup) -> Box<dyn TlsConnect> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
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
        Box::new(TokioTls { rt, connector, tls })
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

impl TlsConnect for TokioTls {
    fn connect(&self, target: &str) -> TlsOutcome {
        self.rt.block_on(async {
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
        // The timeout drops the connect future when it fires.
        self.rt
            .block_on(async { tokio::time::timeout(after, race).await })
            .is_err()
    }
}

#[test]
fn shared_tls_scenarios() {
    run_all(&Tokio);
}
