//! proptest strategies (feature `proptest`): networks, configurations and whole cases, so
//! that a property over every network is three lines.
//!
//! ```
//! use eyeballs_sim::strategy::cases;
//! use proptest::prelude::*;
//!
//! proptest! {
//!     // In a test file, `#[test]` goes here.
//!     fn no_race_waits_forever(case in cases()) {
//!         prop_assert!(!case.run().is_stuck());
//!     }
//! }
//! # fn main() { no_race_waits_forever(); }
//! ```
//!
//! # What is generated
//!
//! A [`Case`] races to [`HOST`] on port 443, plain TCP or Happy Eyeballs v3 (TLS and
//! QUIC, offering [`Protocols::http`]), against a [`networks`] network:
//!
//! - **DNS**: AAAA and A answers with up to three addresses each (from `2001:db8::1..3`
//!   and `192.0.2.1..3`), empty, SERVFAIL, NXDOMAIN or never, each after 0–500 ms; an
//!   HTTPS answer with up to three ServiceMode records for `.` (priorities 1–3, ALPN ids
//!   among h3, h2 and http/1.1, port 443 or 8443, hints from the same addresses), empty,
//!   SERVFAIL or never.
//! - **Endpoints**: every address of both pools, over TCP and QUIC, gets a [`peers`]
//!   behaviour: accept after 0–500 ms with a handshake that is done, fails, stalls or
//!   rejects ECH after 0–500 ms; refuse after 0–500 ms; or hang. Other endpoints (port
//!   8443) answer as one more generated behaviour.
//! - **The host**: sometimes without IPv6 or without IPv4 (no route; endpoints of that
//!   family then refuse), sometimes with UDP dropped for one family or both.
//!
//! [`configs`] vary the Connection Attempt Delay (100–500 ms), the Resolution Delay (0–200
//! ms), the First Address Family Count (1–2), the preferred family and TCP before QUIC,
//! and always set an overall deadline (1–30 s): no generated race can wait forever, so
//! [`Run::is_stuck`] is a bug. The seed of the shuffle of equal priorities is generated
//! too.
//!
//! # Shrinking
//!
//! When a property fails, proptest shrinks the case towards a simpler one, and what it
//! reports is the simplest it found: fewer addresses and records (lists shrink towards
//! empty), shorter delays (towards 0 ms), and in every choice the first alternative:
//! answers with addresses before failures, peers that accept before refusing or hanging,
//! handshakes that are done before failing, a host with both families and UDP; delays of
//! the configuration shrink towards their lower bounds (100 ms, 0 ms, 1 s), a TLS race
//! towards a plain TCP one, the seed towards 0. The case's `Debug` is the whole script.

use std::time::Duration;

use eyeballs_core::{Config, FamilyPolicy, Protocols, QueryKind, ServiceRecord};
use eyeballs_net::sim::{Answer, Family, Handshake, Network, Peer, Run, Sim};
use proptest::prelude::*;
use proptest::sample::subsequence;

/// The host every generated case races to (port 443).
pub const HOST: &str = "example.test";

const V6: [&str; 3] = ["2001:db8::1", "2001:db8::2", "2001:db8::3"];
const V4: [&str; 3] = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];

/// One generated race: a network, a configuration, a seed and which connect.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Case {
    /// The network.
    pub network: Network,
    /// The race configuration (always with an overall deadline).
    pub config: Config,
    /// The seed of the shuffle of equal service priorities.
    pub seed: u64,
    /// A Happy Eyeballs v3 race (`Sim::connect_tls` with `Protocols::http()`) rather than
    /// plain TCP (`Sim::connect`).
    pub tls: bool,
}

impl Case {
    /// Returns a simulator for this case (a fresh history).
    pub fn sim(&self) -> Sim {
        Sim::builder(self.network.clone())
            .config(self.config)
            .seed(self.seed)
            .build()
            .unwrap_or_else(|e| unreachable!("generated scripts and configurations are valid: {e}"))
    }

    /// Runs the case's race once, on a fresh simulator.
    pub fn run(&self) -> Run {
        self.run_on(&mut self.sim())
    }

    /// Runs the case's race on `sim` (whose history and clock carry on from earlier
    /// races).
    pub fn run_on(&self, sim: &mut Sim) -> Run {
        match self.tls {
            true => sim.connect_tls((HOST, 443), &Protocols::http()),
            false => sim.connect((HOST, 443)),
        }
    }
}

/// Whole cases: a network, a configuration, a seed and plain or TLS. See the module docs.
pub fn cases() -> impl Strategy<Value = Case> {
    (networks(), configs(), any::<u64>(), any::<bool>()).prop_map(|(network, config, seed, tls)| {
        Case {
            network,
            config,
            seed,
            tls,
        }
    })
}

/// Networks for [`HOST`]: its DNS answers, every endpoint's behaviour, the host's routes
/// and UDP. See the module docs.
pub fn networks() -> impl Strategy<Value = Network> {
    let dns = (address_answer(&V6), address_answer(&V4), https_answer());
    let endpoints = (proptest::collection::vec(peers(), 12), peers());
    let host = (
        prop_oneof![
            8 => Just(None),
            1 => Just(Some(Family::V6)),
            1 => Just(Some(Family::V4)),
        ],
        prop_oneof![
            6 => Just(Vec::new()),
            1 => Just(vec![Family::V6]),
            1 => Just(vec![Family::V4]),
            2 => Just(vec![Family::V6, Family::V4]),
        ],
    );
    (dns, endpoints, host).prop_map(|((aaaa, a, https), (peers, otherwise), (gone, udp))| {
        let mut network = Network::new()
            .dns(HOST, QueryKind::Aaaa, aaaa)
            .dns(HOST, QueryKind::A, a)
            .dns(HOST, QueryKind::Https, https)
            .otherwise(otherwise);
        let addrs = V6.iter().chain(V4.iter());
        let endpoints = addrs.flat_map(|a| [(a, false), (a, true)]);
        for ((addr, quic), peer) in endpoints.zip(peers) {
            let family = if addr.contains(':') {
                Family::V6
            } else {
                Family::V4
            };
            // A family without a route is refused: nothing there can accept.
            let peer = match gone == Some(family) {
                true => Peer::refuse(Duration::ZERO),
                false => peer,
            };
            let endpoint = if addr.contains(':') {
                format!("[{addr}]:443")
            } else {
                format!("{addr}:443")
            };
            network = match quic {
                true => network.quic(endpoint, peer),
                false => network.tcp(endpoint, peer),
            };
        }
        if let Some(family) = gone {
            network = network.no_route(family);
        }
        udp.into_iter().fold(network, Network::drop_udp)
    })
}

/// Race configurations, always with an overall deadline. See the module docs.
pub fn configs() -> impl Strategy<Value = Config> {
    (
        100u64..=500,
        0u64..=200,
        1usize..=2,
        any::<bool>(),
        any::<bool>(),
        1u64..=30,
    )
        .prop_map(
            |(attempt, resolution, count, prefer_v4, prefer_tcp, deadline)| {
                Config::default()
                    .connection_attempt_delay(ms(attempt))
                    .resolution_delay(ms(resolution))
                    .first_address_family_count(count)
                    .family_policy(match prefer_v4 {
                        true => FamilyPolicy::PreferV4,
                        false => FamilyPolicy::PreferV6,
                    })
                    .prefer_tcp(prefer_tcp)
                    .timeout(Some(Duration::from_secs(deadline)))
            },
        )
}

/// An endpoint's behaviour: accept (then a handshake), refuse or hang. See the module docs.
pub fn peers() -> impl Strategy<Value = Peer> {
    prop_oneof![
        3 => (delay(), handshakes()).prop_map(|(d, h)| Peer::accept(d).handshake(h)),
        1 => delay().prop_map(Peer::refuse),
        1 => Just(Peer::hang()),
    ]
}

/// A TLS or QUIC handshake: done, failed, stalled or ECH rejected.
pub fn handshakes() -> impl Strategy<Value = Handshake> {
    prop_oneof![
        4 => delay().prop_map(Handshake::done),
        1 => delay().prop_map(Handshake::fail),
        1 => Just(Handshake::stall()),
        1 => delay().prop_map(Handshake::reject_ech),
    ]
}

fn address_answer(pool: &'static [&'static str; 3]) -> impl Strategy<Value = Answer> {
    let answer = prop_oneof![
        4 => subsequence(pool.to_vec(), 1..=3).prop_map(Answer::addrs),
        1 => Just(Answer::empty()),
        1 => Just(Answer::servfail()),
        1 => Just(Answer::nxdomain()),
        1 => Just(Answer::never()),
    ];
    (answer, delay()).prop_map(|(answer, d)| answer.after(d))
}

fn https_answer() -> impl Strategy<Value = Answer> {
    let answer = prop_oneof![
        2 => Just(Answer::empty()),
        3 => proptest::collection::vec(record(), 1..=3).prop_map(Answer::records),
        1 => Just(Answer::servfail()),
        1 => Just(Answer::never()),
    ];
    (answer, delay()).prop_map(|(answer, d)| answer.after(d))
}

fn record() -> impl Strategy<Value = ServiceRecord> {
    (
        1u16..=3,
        subsequence(vec!["h3", "h2", "http/1.1"], 0..=3),
        any::<bool>(),
        subsequence(V6.to_vec(), 0..=2),
        subsequence(V4.to_vec(), 0..=2),
    )
        .prop_map(|(priority, alpn, other_port, v6, v4)| {
            let record = ServiceRecord::new(priority, ".")
                .alpn(alpn)
                .ipv6_hints(v6.iter().filter_map(|a| a.parse().ok()))
                .ipv4_hints(v4.iter().filter_map(|a| a.parse().ok()));
            match other_port {
                true => record.port(8443),
                false => record,
            }
        })
}

fn delay() -> impl Strategy<Value = Duration> {
    (0u64..=500).prop_map(ms)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
