//! HEv3 and RFC 9848: Encrypted ClientHello (V34, V35, HG6), and the `ech` key with ECH off.
//!
//! Ids are those of /work/shared/HEV3.md.

mod common;

use common::sim::{base_instant, ip, ms, tried, Answer, Outcome, Scenario};
use eyeballs_core::{Config, EchConfig, FailureReason, Name, Protocols, Provenance, ServiceRecord};

const Q6: &str = "QUIC [2001:db8::1]:443";
const T6: &str = "TCP [2001:db8::1]:443";
const Q4: &str = "QUIC 192.0.2.1:443";
const T4: &str = "TCP 192.0.2.1:443";

/// The `ech` SvcParamKey (RFC 9848).
const KEY_ECH: u16 = 5;

fn ech_config() -> EchConfig {
    EchConfig::new(b"\xfe\x0d\x00\x04test")
}

/// A '.' record offering h3 and h2 with an ECH configuration.
fn ech_record() -> ServiceRecord {
    ServiceRecord::new(1, ".")
        .alpn(["h3", "h2"])
        .ech(ech_config())
}

/// The host with AAAA 2001:db8::1 and A 192.0.2.1 at 0 ms and `https` as its HTTPS answer;
/// a caller speaking h3 over QUIC and h2, http/1.1 over TCP.
fn host(config: Config, https: Answer) -> Scenario {
    Scenario::https_host(config, Protocols::http())
        .dns("HTTPS", https)
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
}

/// V34, HG6: "ECH-capable clients send no ClientHello ... until service info is resolved
/// ... pend even past the Resolution Delay." With ECH on and the HTTPS answer at 300 ms, the
/// addresses held since 0 ms wait: the first attempt starts at 300 ms, to the record's
/// endpoint, with its ECH configuration.
#[test]
fn v34_hg6_no_attempt_before_the_https_answer_with_ech_on() {
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(300), vec![ech_record()]),
    )
    .quic("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(300, Q6)]);
    assert_eq!(trace.winning_try(), Some(tried(310, Q6)));
    let endpoint = &trace.endpoints()[0];
    assert_eq!(endpoint.ech(), Some(&ech_config()));
    assert_eq!(endpoint.to_string(), "QUIC [2001:db8::1]:443 h3 ECH");
}

/// The contrast to V34: with ECH off, V5(b)'s Resolution Delay lets the host's own address
/// start at 50 ms over TCP; the record at 300 ms then adds its endpoints at their sorted
/// place (V45), without ECH, and the timer (due at 300 ms) starts QUIC.
#[test]
fn v34_contrast_with_ech_off_the_resolution_delay_applies() {
    let trace = host(
        Config::default(),
        Answer::Records(ms(300), vec![ech_record()]),
    )
    .quic("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(50, T6), tried(300, Q6)]);
    assert_eq!(trace.winning_try(), Some(tried(310, Q6)));
    assert_eq!(trace.endpoints()[0].provenance(), &Provenance::Address);
    assert_eq!(trace.endpoints()[1].ech(), None, "ECH off: no ECH config");
    assert_eq!(trace.cancelled_tries(), vec![tried(310, T6)]);
}

/// V34 over an alias chain (V8): service information has arrived only when the chain ends.
/// The host's HTTPS answer at 0 ms is an alias; the alias target's own HTTPS answer comes at
/// 200 ms, and the first attempt, to its ECH endpoint, with it.
#[test]
fn v34_the_gate_waits_for_the_end_of_an_alias_chain() {
    let cdn = "cdn.example.test";
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(0), vec![ServiceRecord::alias(cdn)]),
    )
    .dns_for(cdn, "HTTPS", Answer::Records(ms(200), vec![ech_record()]))
    .dns_for(cdn, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:c::1")]))
    .dns_for(cdn, "A", Answer::Addrs(ms(0), vec![]))
    .quic("2001:db8:c::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(200, "QUIC [2001:db8:c::1]:443")]);
    assert_eq!(
        trace.winning_try(),
        Some(tried(210, "QUIC [2001:db8:c::1]:443"))
    );
    assert_eq!(trace.endpoints()[0].ech(), Some(&ech_config()));
}

/// HG7 under the V34 gate: "the Resolution Delay (50 ms) starts the first time endpoints are
/// held (once)" (CORE_HEV3.md), and ECH only forbids it to start attempts before service
/// information. The host's addresses are held at 0 ms, so the delay is over at 50 ms; the
/// HTTPS answer at 100 ms names a TargetName whose addresses never come (HG9 would wait
/// for them), so the race starts at 100 ms with the host's own address. What the core does
/// instead: it arms the delay only when the gate opens, and starts at 150 ms.
#[test]
fn hg7_v34_the_resolution_delay_runs_from_the_first_addresses_under_the_gate() {
    let trace = host(
        Config::default().ech(true),
        Answer::Records(
            ms(100),
            vec![ServiceRecord::new(1, "b.example.test").alpn(["h3", "h2"])],
        ),
    )
    .net("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(100, T6)]);
    assert_eq!(trace.winning_try(), Some(tried(110, T6)));
}

/// HG6: the gate opens "on ServiceMode, a negative answer, or a failure allowed by V36". A
/// failed HTTPS query at 300 ms (unprotected DNS: negative) and an empty answer at 300 ms
/// both start the host's own address at 300 ms, over TCP without ECH.
#[test]
fn hg6_a_failed_or_empty_https_answer_opens_the_gate() {
    for https in [Answer::Fail(ms(300)), Answer::Records(ms(300), vec![])] {
        let trace = host(Config::default().ech(true), https.clone())
            .net("2001:db8::1", Outcome::Connect(ms(10)))
            .run();
        assert_eq!(trace.tries(), vec![tried(300, T6)], "{https:?}");
        assert_eq!(trace.winning_try(), Some(tried(310, T6)), "{https:?}");
        assert_eq!(trace.endpoints()[0].ech(), None);
    }
}

/// HG6: an alias to "." ("no service", V9) is a negative answer too: the gate opens when it
/// arrives.
#[test]
fn hg6_an_alias_to_root_opens_the_gate() {
    let trace = host(
        Config::default().ech(true),
        Answer::Records(ms(120), vec![ServiceRecord::alias(".")]),
    )
    .net("2001:db8::1", Outcome::Connect(ms(10)))
    .run();
    assert_eq!(trace.tries(), vec![tried(120, T6)]);
}

/// V34: with ECH on and an HTTPS query that never answers, nothing is ever attempted; the
/// overall deadline (G4) ends the race with no attempt in flight.
#[test]
fn v34_no_https_answer_no_attempt() {
    let trace = host(
        Config::default().ech(true).timeout(Some(ms(1000))),
        Answer::Never,
    )
    .run();
    assert_eq!(trace.tries(), vec![]);
    assert_eq!(
        trace.failure(),
        Some((
            ms(1000),
            FailureReason::TimedOut {
                after: ms(1000),
                in_flight: 0
            }
        ))
    );
}

/// V35: with ECH on and one usable record offering ECH, no endpoint without ECH is tried:
/// not the priority-2 record's (no ech key), not the host's plain addresses (V21). Only the
/// '.' record's four ECH endpoints are tried; the failure says that 3 endpoints without ECH
/// were left out, and `Failure::skipped_without_ech` counts them.
#[test]
fn v35_no_endpoint_without_ech_once_a_record_offers_it() {
    let scenario = || {
        host(
            Config::default().ech(true),
            Answer::Records(
                ms(5),
                vec![
                    ServiceRecord::new(2, "b.example.test")
                        .alpn(["h2"])
                        .ipv6_hints(["2001:db8:b::1".parse().unwrap()]),
                    ech_record(),
                ],
            ),
        )
        .dns_for(
            "b.example.test",
            "AAAA",
            Answer::Addrs(ms(0), vec![ip("2001:db8:b::1")]),
        )
        .dns_for("b.example.test", "A", Answer::Addrs(ms(0), vec![]))
        .default_outcome(Outcome::Fail(ms(0)))
    };
    let trace = scenario().run();
    assert_eq!(
        trace.tries(),
        vec![tried(5, Q6), tried(15, T6), tried(25, Q4), tried(35, T4)]
    );
    assert!(trace
        .endpoints()
        .iter()
        .all(|e| e.ech() == Some(&ech_config())));
    assert_eq!(
        trace.failure(),
        Some((ms(35), FailureReason::AllAttemptsFailed))
    );
    assert_eq!(
        trace.error.as_deref(),
        Some(
            "all 4 connection attempts failed: \
             QUIC [2001:db8::1]:443 h3 ECH: connection refused; \
             TCP [2001:db8::1]:443 h2,http/1.1 ECH: connection refused; \
             QUIC 192.0.2.1:443 h3 ECH: connection refused; \
             TCP 192.0.2.1:443 h2,http/1.1 ECH: connection refused; \
             3 endpoints without ECH not tried: a service record offers ECH \
             (downgrade protection)"
        )
    );
    let run = scenario().run_unchecked(base_instant());
    assert_eq!(run.failure().skipped_without_ech(), 3);
}

/// V35: "not V11" — after an AliasMode hop, the alias target's last-resort endpoint (its own
/// address, no SvcParams, so no ECH) is not tried either, nor are the host's own addresses.
#[test]
fn v35_no_alias_fallback_without_ech() {
    let cdn = "cdn.example.test";
    let scenario = || {
        host(
            Config::default().ech(true),
            Answer::Records(ms(0), vec![ServiceRecord::alias(cdn)]),
        )
        .dns_for(cdn, "HTTPS", Answer::Records(ms(0), vec![ech_record()]))
        .dns_for(cdn, "AAAA", Answer::Addrs(ms(0), vec![ip("2001:db8:c::1")]))
        .dns_for(cdn, "A", Answer::Addrs(ms(0), vec![]))
        .default_outcome(Outcome::Fail(ms(0)))
    };
    let trace = scenario().run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(0, "QUIC [2001:db8:c::1]:443"),
            tried(10, "TCP [2001:db8:c::1]:443"),
        ]
    );
    let service = Provenance::Service {
        priority: 1,
        target: Name::new(cdn),
    };
    assert!(trace.endpoints().iter().all(|e| e.provenance() == &service));
    let run = scenario().run_unchecked(base_instant());
    let failure = run.failure();
    // The alias target's TCP fallback, and the host's two TCP addresses.
    assert_eq!(failure.skipped_without_ech(), 3);
    assert!(
        failure
            .to_string()
            .ends_with("; 3 endpoints without ECH not tried: a service record offers ECH (downgrade protection)"),
        "{failure}"
    );
}

/// ECH off: a record with an ech key is still usable (the key is optional), but its
/// endpoints carry no ECH configuration, and nothing is gated or left out.
#[test]
fn ech_off_records_with_ech_are_used_without_it() {
    let trace = host(
        Config::default(),
        Answer::Records(ms(5), vec![ech_record()]),
    )
    .default_outcome(Outcome::Fail(ms(0)))
    .run();
    assert_eq!(
        trace.tries(),
        vec![tried(5, Q6), tried(15, T6), tried(25, Q4), tried(35, T4)]
    );
    assert!(trace.endpoints().iter().all(|e| e.ech().is_none()));
    assert!(trace.endpoints().iter().all(|e| e.priority() == Some(1)));
    let error = trace.error.unwrap();
    assert!(!error.contains("ECH"), "{error}");
}

/// V12 with ECH off: `ech` listed as mandatory is a key this client does not understand,
/// so the record is unusable; no service is left (a negative service answer) and the host's
/// own addresses are tried over TCP. With ECH on, the same record is usable, with ECH.
#[test]
fn ech_as_a_mandatory_key_needs_ech_on() {
    let record = || ech_record().mandatory([KEY_ECH]);
    let off = host(Config::default(), Answer::Records(ms(5), vec![record()]))
        .default_outcome(Outcome::Fail(ms(0)))
        .run();
    assert_eq!(off.tries(), vec![tried(5, T6), tried(15, T4)]);
    assert!(off
        .endpoints()
        .iter()
        .all(|e| e.provenance() == &Provenance::Address && e.ech().is_none()));

    let on = host(
        Config::default().ech(true),
        Answer::Records(ms(5), vec![record()]),
    )
    .default_outcome(Outcome::Fail(ms(0)))
    .run();
    assert_eq!(
        on.tries(),
        vec![tried(5, Q6), tried(15, T6), tried(25, Q4), tried(35, T4)]
    );
    assert!(on
        .endpoints()
        .iter()
        .all(|e| e.ech() == Some(&ech_config())));
}
