//! The shared TLS scenarios (eyeballs-lab), run against eyeballs-blocking: rustls stepped
//! on the blocking loop's poller. One test in this binary, so that the descriptor checks
//! have the process to themselves.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use eyeballs_blocking::{Connector, Tls};
use eyeballs_lab::tls_scenarios::{
    run_all, TlsConnect, TlsDriver, TlsOutcome, TlsResolver, TlsSetup, Won,
};

struct Blocking;

struct BlockingTls {
    connector: Connector,
    tls: Tls,
    config: eyeballs_blocking::Config,
    resolver: TlsResolver,
}

impl TlsDriver for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }

    fn connector(&self, setup: TlsSetup) -> Box<dyn TlsConnect> {
        let (config, resolver) = (setup.config, setup.resolver.clone());
        let connector = Connector::builder()
            .resolver(setup.resolver)
            .config(setup.config)
            .handshake_timeout(setup.handshake_timeout)
            .proxy(setup.proxy)
            .history(false)
            .build()
            .unwrap();
        let tls = Tls::new(Arc::new(setup.client)).unwrap();
        Box::new(BlockingTls {
            connector,
            tls,
            config,
            resolver,
        })
    }
}

impl TlsConnect for BlockingTls {
    fn connect(&self, target: &str) -> TlsOutcome {
        let (connection, report) = self.connector.connect_tls_with_report(target, &self.tls);
        let connection = match connection {
            Ok(c) => c,
            Err(e) => return (Err(e), report),
        };
        let won = Won {
            peer: connection.endpoint().addr(),
            transport: connection.transport(),
            alpn: connection.alpn().cloned(),
            offered: connection.endpoint().alpn().to_vec(),
            echoed: false,
        };
        let Some(mut stream) = connection.into_tls() else {
            return (Ok(won), report);
        };
        let mut back = [0u8; 4];
        let echoed = stream.write_all(b"ping").is_ok()
            && stream.read_exact(&mut back).is_ok()
            && &back == b"ping";
        (Ok(Won { echoed, ..won }), report)
    }

    /// A blocking connect cannot be dropped: it gives up at a deadline instead.
    fn abandon(&self, target: &str, after: Duration) -> bool {
        let connector = Connector::builder()
            .resolver(self.resolver.clone())
            .config(self.config.timeout(Some(after)))
            .history(false)
            .build()
            .unwrap();
        let (result, _) = connector.connect_tls_with_report(target, &self.tls);
        matches!(result, Err(e) if e.kind() == std::io::ErrorKind::TimedOut)
    }
}

#[test]
fn shared_tls_scenarios() {
    run_all(&Blocking);
}
