//! Examples of the eyeballs crates (not published): each one in `examples/` starts its own
//! servers on loopback and races to them, so it runs anywhere, with no network. Run one
//! with `cargo run -p eyeballs-examples --example NAME`:
//!
//! | example | what it shows |
//! | --- | --- |
//! | `tokio` | `eyeballs_tokio::connect`, a `Connector` with a report: IPv6 hangs, IPv4 wins |
//! | `smol` | `eyeballs_async_std` on smol's executor |
//! | `async_std` | `eyeballs_async_std` on async-std's executor |
//! | `blocking` | `eyeballs_blocking`: no runtime, one thread |
//! | `hyper_http` | hyper-util's `Client` over `eyeballs_tokio::HttpConnector` |
//! | `hyper_https` | `HttpsConnector` with the platform's roots plus a test CA's |
//! | `hev3_report` | Happy Eyeballs v3: an HTTPS record offers h3 and h2, QUIC and TCP+TLS race, the report |
//! | `custom_resolver` | a `Resolve` of your own |
//! | `report_json` | the report and a failure as JSON (feature `serde`) |
//! | `ureq` | ureq 3's `Agent` over `eyeballs_blocking::UreqConnector` |
//! | `tonic` | gRPC: tonic-health's client over `HttpConnector`, against tonic-health's server |
