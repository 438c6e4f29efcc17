//! HEv3 §6: racing endpoints (V26–V33, G1, G2, HG1–HG3, HG10), and the bounds on what a
//! race prints (the style rule: a failure names a few attempts, a report is linear).
//!
//! Ids are defined in eyeballs-core/docs/requirements.md.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::sim::{base_instant, ip, ms, path_over, tried, Extra, Outcome, Scenario, SOURCE_V6};
use eyeballs_core::{
    Config, DelaySchedule, FailureReason, History, Protocols, Report, ServiceRecord, Target,
    Transport, FAILURE_DISPLAY_LIMIT, TCP_AFTER_QUIC_DELAY,
};

/// The usual HEv3 host: a '.' record offering h3 and h2 (no hints), AAAA 2001:db8::1 and A
/// 192.0.2.1, all answered at once; a caller speaking h3 over QUIC and h2, http/1.1 over
/// TCP. Dealt (HG1): QUIC v6, TCP v6, QUIC v4, TCP v4. Everything hangs unless told.
fn dual(config: Config) -> Scenario {
    Scenario::https_host(config, Protocols::http())
        .https(0, vec![ServiceRecord::new(1, ".").alpn(["h3", "h2"])])
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
}

/// [`dual`] with TCP after QUIC at the full Connection Attempt Delay (V29 lets it be shorter,
/// 50 ms by default), so that the timelines of the progress rules show those rules alone.
fn dual_fixed(config: Config) -> Scenario {
    dual(config).tcp_after_quic(ms(250))
}

const Q6: &str = "QUIC [2001:db8::1]:443";
const T6: &str = "TCP [2001:db8::1]:443";
const Q4: &str = "QUIC 192.0.2.1:443";
const T4: &str = "TCP 192.0.2.1:443";

/// V26, V29, V31: "No simultaneous starts; a new attempt leaves older ones running"; the
/// Connection Attempt Delay (250 ms) separates the starts of different addresses, and TCP
/// follows QUIC to the same address after 50 ms (V29: the delay "may differ per attempt";
/// `TCP_AFTER_QUIC_DELAY`); on the first success the others are cancelled (V27).
#[test]
fn v26_v29_v31_staggered_starts_tcp_soon_after_quic() {
    let trace = dual(Config::default())
        .net("192.0.2.1", Outcome::Connect(ms(100)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(50, T6), tried(300, Q4), tried(350, T4)]
    );
    assert_eq!(trace.winning_try(), Some(tried(450, T4)));
    assert_eq!(
        trace.cancelled_tries(),
        vec![tried(450, Q6), tried(450, T6), tried(450, Q4)],
        "nothing is cancelled before the win"
    );
    let delays: Vec<Duration> = trace.race.attempts().iter().map(|a| a.delay()).collect();
    assert_eq!(delays, [ms(50), ms(250), ms(50), ms(250)]);
    assert_eq!(TCP_AFTER_QUIC_DELAY, ms(50));
}

/// V30: "never start within 10 ms of the previous attempt" — endpoints that fail at once
/// (ENETUNREACH) start 10 ms apart; the failure lists each with its transport and ALPN.
#[test]
fn v30_instant_failures_start_10ms_apart() {
    let trace = dual(Config::default())
        .default_outcome(Outcome::Fail(ms(0)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(10, T6), tried(20, Q4), tried(30, T4)]
    );
    assert_eq!(
        trace.failure(),
        Some((ms(30), FailureReason::AllAttemptsFailed))
    );
    assert_eq!(
        trace.error.as_deref(),
        Some(
            "all 4 connection attempts failed: QUIC [2001:db8::1]:443 h3: connection refused; \
             TCP [2001:db8::1]:443 h2,http/1.1: connection refused; \
             QUIC 192.0.2.1:443 h3: connection refused; \
             TCP 192.0.2.1:443 h2,http/1.1: connection refused"
        )
    );
}

/// V30 with a configured delay: clamped to [10 ms, 2 s] as for RFC 8305 (R28, R30); TCP
/// after QUIC takes the shorter of it and its own delay, itself clamped alike.
#[test]
fn v30_the_configured_delay_is_clamped_for_endpoints() {
    let low = dual(Config::default())
        .delay(ms(1))
        .quic("192.0.2.1", Outcome::Connect(ms(1)))
        .run();
    assert_eq!(
        low.tries(),
        vec![tried(0, Q6), tried(10, T6), tried(20, Q4)]
    );
    assert_eq!(low.winning_try(), Some(tried(21, Q4)));
    let high = dual(Config::default())
        .delay(ms(5000))
        .quic("192.0.2.1", Outcome::Connect(ms(1)))
        .run();
    assert_eq!(
        high.tries(),
        vec![tried(0, Q6), tried(50, T6), tried(2050, Q4)]
    );
    assert_eq!(high.winning_try(), Some(tried(2051, Q4)));
    let both_high = dual(Config::default())
        .delay(ms(5000))
        .tcp_after_quic(ms(5000))
        .quic("192.0.2.1", Outcome::Connect(ms(1)))
        .run();
    assert_eq!(
        both_high.tries(),
        vec![tried(0, Q6), tried(2000, T6), tried(4000, Q4)]
    );
    let low_follow_up = dual(Config::default())
        .tcp_after_quic(ms(0))
        .quic("192.0.2.1", Outcome::Connect(ms(1)))
        .run();
    assert_eq!(
        low_follow_up.tries(),
        vec![tried(0, Q6), tried(10, T6), tried(260, Q4)]
    );
}

/// G1, HG2: "any failure starts the next endpoint at once (10 ms floor), whatever its
/// transport; no reordering." A QUIC failure at 40 ms starts TCP to the same address at
/// 40 ms (before its 50 ms); that TCP failure at 45 ms starts IPv4 QUIC at 50 ms (the
/// floor); the timer takes over again after that (TCP after QUIC: 100 ms).
#[test]
fn g1_hg2_a_failure_expedites_the_next_endpoint_whatever_its_transport() {
    let trace = dual(Config::default())
        .quic("2001:db8::1", Outcome::Fail(ms(40)))
        .net("2001:db8::1", Outcome::Fail(ms(5)))
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(40, T6), tried(50, Q4), tried(100, T4)]
    );
    assert_eq!(trace.winning_try(), Some(tried(110, T4)));
    assert_eq!(trace.cancelled_tries(), vec![tried(110, Q4)]);

    // The failure of an older attempt expedites too: QUIC (started at 0 ms) fails at 150 ms,
    // after TCP started at 50 ms, and IPv4 QUIC starts at 150 ms instead of 300 ms.
    let trace = dual(Config::default())
        .quic("2001:db8::1", Outcome::Fail(ms(150)))
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(50, T6), tried(150, Q4), tried(200, T4)]
    );
    assert_eq!(trace.winning_try(), Some(tried(210, T4)));
}

/// HG2: "A silent QUIC attempt is no failure: the timer handles it." QUIC gets no answer,
/// so TCP starts only when its delay ends (50 ms after QUIC, V29); the QUIC attempt keeps
/// running and wins when it finally connects at 300 ms.
#[test]
fn hg2_a_silent_quic_attempt_is_no_failure() {
    let trace = dual(Config::default())
        .quic("2001:db8::1", Outcome::Connect(ms(300)))
        .run();
    assert_eq!(trace.tries(), vec![tried(0, Q6), tried(50, T6)]);
    assert_eq!(trace.winning_try(), Some(tried(300, Q6)));
    assert_eq!(trace.cancelled_tries(), vec![tried(300, T6)]);
}

/// V28: "Start all of a service group's endpoints before the next group's; attempts across
/// groups keep running (one flat list)." The priority-1 service (a.example.test, QUIC and
/// TCP) goes first; then the host's own addresses (no '.' record: V21's group, TCP only);
/// the first attempt, still running, wins at 800 ms and the three later ones are cancelled.
#[test]
fn v28_groups_in_turn_and_attempts_across_groups_keep_running() {
    let trace = Scenario::https_host(Config::default(), Protocols::http())
        .https(
            0,
            vec![ServiceRecord::new(1, "a.example.test").alpn(["h3", "h2"])],
        )
        .aaaa(0, &["2001:db8::1"])
        .a(0, &["192.0.2.1"])
        .dns_for(
            "a.example.test",
            "AAAA",
            common::sim::Answer::Addrs(ms(0), vec![ip("2001:db8:a::1")]),
        )
        .dns_for(
            "a.example.test",
            "A",
            common::sim::Answer::Addrs(ms(0), vec![]),
        )
        .quic("2001:db8:a::1", Outcome::Connect(ms(800)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![
            tried(0, "QUIC [2001:db8:a::1]:443"),
            tried(50, "TCP [2001:db8:a::1]:443"),
            tried(300, T6),
            tried(550, T4),
        ]
    );
    assert_eq!(
        trace.winning_try(),
        Some(tried(800, "QUIC [2001:db8:a::1]:443"))
    );
    assert_eq!(
        trace.cancelled_tries(),
        vec![
            tried(800, "TCP [2001:db8:a::1]:443"),
            tried(800, T6),
            tried(800, T4)
        ]
    );
}

/// V32, G2: "'Established' is the application's call." TCP up with TLS still under way is
/// reported as progress, which wins nothing: the QUIC attempt that connects later wins and
/// the progressed TCP attempt is cancelled (and its progress held back IPv4, due at 300 ms).
#[test]
fn v32_g2_progress_is_not_established() {
    let trace = dual(Config::default())
        .at(260, Extra::Progress(1))
        .quic("2001:db8::1", Outcome::Connect(ms(400)))
        .run();
    assert_eq!(trace.tries(), vec![tried(0, Q6), tried(50, T6)]);
    assert_eq!(trace.winning_try(), Some(tried(400, Q6)));
    assert_eq!(trace.cancelled_tries(), vec![tried(400, T6)]);
    let progressed = trace.race.attempts()[1].progressed();
    assert_eq!(progressed, Some(trace.t0 + ms(260)));
}

/// V33, HG10: "on progress, deadline = max(current, now + Connection Attempt Delay), capped
/// at attempt start + Maximum." QUIC progresses at 100 ms, so TCP starts at 350 ms, not 250;
/// the next start is 250 ms after that again.
#[test]
fn v33_hg10_progress_extends_the_next_start() {
    let trace = dual_fixed(Config::default())
        .at(100, Extra::Progress(0))
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(350, T6), tried(600, Q4), tried(850, T4)]
    );
    assert_eq!(trace.winning_try(), Some(tried(860, T4)));
}

/// HG10's cap: with a Maximum Connection Attempt Delay of 400 ms, progress at 200 ms moves
/// the next start to min(200 + 250, 0 + 400) = 400 ms.
#[test]
fn hg10_the_extension_is_capped_at_start_plus_maximum() {
    let config = Config::default().max_connection_attempt_delay(ms(400));
    let trace = dual_fixed(config)
        .at(200, Extra::Progress(0))
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(400, T6), tried(650, Q4), tried(900, T4)]
    );
}

/// HG10's max(current, ...): progress never brings the next start forward. The first
/// attempt progresses at 260 ms, after the second started at 250 ms (next due at 500): its
/// capped extension, 0 + 400 ms, is earlier, so the start stays at 500 ms.
#[test]
fn hg10_progress_never_brings_the_next_start_forward() {
    let config = Config::default().max_connection_attempt_delay(ms(400));
    let trace = dual_fixed(config)
        .at(260, Extra::Progress(0))
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(250, T6), tried(500, Q4), tried(750, T4)]
    );
}

/// HG10: "unless a failure already expedited it". TCP fails at 255 ms, so the next start is
/// due at once, held to 260 ms by the 10 ms floor; progress of the QUIC attempt at 257 ms
/// does not push it back.
#[test]
fn hg10_progress_does_not_delay_a_start_a_failure_expedited() {
    let trace = dual_fixed(Config::default())
        .net("2001:db8::1", Outcome::Fail(ms(5)))
        .at(257, Extra::Progress(0))
        .net("192.0.2.1", Outcome::Connect(ms(10)))
        .run();
    assert_eq!(
        trace.tries(),
        vec![tried(0, Q6), tried(250, T6), tried(260, Q4), tried(510, T4)]
    );
    assert_eq!(trace.winning_try(), Some(tried(520, T4)));
}

/// HG1, HG3: on a network that drops UDP, every QUIC attempt is silent; TCP to the same
/// address starts 50 ms later (V29's TCP after QUIC) and wins at 60 ms. The history learns a
/// loss (`History::record_race`: the silent QUIC attempt started before the winner and lost):
/// weak evidence of one destination, so the next race is the same. A second loss makes the
/// QUIC path failing (V24): the third race deals TCP first to that address and connects at
/// 10 ms, QUIC still dealt, after the IPv4 endpoints (rule 1 demotes it).
#[test]
fn hg1_hg3_udp_blocked_costs_50ms_then_history_puts_tcp_first() {
    let t0 = base_instant();
    let mut h = History::new();
    for n in 0..2u64 {
        let at = t0 + ms(1000 * n);
        let race = dual(Config::default())
            .history(&h)
            .net("2001:db8::1", Outcome::Connect(ms(10)))
            .net("192.0.2.1", Outcome::Connect(ms(10)))
            .run_at(at);
        assert_eq!(race.tries(), vec![tried(0, Q6), tried(50, T6)], "race {n}");
        assert_eq!(race.winning_try(), Some(tried(60, T6)), "race {n}");
        assert_eq!(race.cancelled_tries(), vec![tried(60, Q6)], "race {n}");
        h.record_race(&race.race);
        let quic = path_over("[2001:db8::1]:443", Transport::Quic);
        assert_eq!(h.is_failing(quic, at + ms(100)), n == 1, "race {n}");
        assert!(!h.is_transport_failing(ip(SOURCE_V6), Transport::Quic, at + ms(100)));
    }
    let t2 = t0 + ms(2000);
    let third = dual(Config::default())
        .history(&h)
        .net("2001:db8::1", Outcome::Connect(ms(10)))
        .run_at(t2);
    assert_eq!(third.tries(), vec![tried(0, T6)]);
    assert_eq!(third.winning_try(), Some(tried(10, T6)));

    // QUIC is dealt after TCP, not dropped (HG3): with everything silent, IPv4 comes next
    // (IPv6's turn is TCP alone, since the failing QUIC endpoint is demoted to the end by
    // rule 1), then the demoted IPv6 QUIC. TCP [::1]'s delay now comes from its round trip
    // (RTO 30 ms, raised to the 100 ms minimum); IPv4's TCP follows its QUIC after 50 ms.
    let fourth = dual(Config::default()).history(&h).run_at(t2);
    assert!(fourth.stalled);
    assert_eq!(
        fourth.tries(),
        vec![tried(0, T6), tried(100, Q4), tried(150, T4), tried(400, Q6)]
    );
}

// ---- V29, V58, HG13, HG16: delay schedules, and TCP soon after QUIC -------------------------

/// A plain TCP host with three IPv6 and two IPv4 addresses, all hanging: five starts.
fn five_tcp() -> Scenario {
    Scenario::host(Config::default())
        .aaaa(0, &["2001:db8::1", "2001:db8::2", "2001:db8::3"])
        .a(0, &["192.0.2.1", "192.0.2.2"])
}

/// V58, HG13: "a base and a multiplier (Firefox Nightly 50 ms × 2: attempts at 0, 50, 150,
/// 350, 750 ms)". The schedule is opt-in (`DelaySchedule::Multiplier`); each attempt's
/// record and the report show the delay that followed its start.
#[test]
fn v58_hg13_a_multiplier_schedule_starts_at_0_50_150_350_750() {
    let trace = five_tcp().multiplier(ms(50), 2).run();
    let starts: Vec<Duration> = trace.starts().iter().map(|s| s.0).collect();
    assert_eq!(starts, [ms(0), ms(50), ms(150), ms(350), ms(750)]);
    let report = Report::new(&trace.race, None);
    let delays: Vec<Duration> = report.attempts().iter().map(|a| a.delay).collect();
    assert_eq!(delays, [ms(50), ms(100), ms(200), ms(400), ms(800)]);

    // The default stays the fixed 250 ms (HG13).
    let fixed = five_tcp().run();
    let starts: Vec<Duration> = fixed.starts().iter().map(|s| s.0).collect();
    assert_eq!(starts, [ms(0), ms(250), ms(500), ms(750), ms(1000)]);
    assert_eq!(
        Config::default(),
        Config::default().delay_schedule(DelaySchedule::Fixed)
    );
}

/// HG16: "the n-th delay of a schedule belongs to the n-th start, so a start brought forward
/// by a failure advances the schedule too." The first attempt fails at 20 ms: the second
/// starts then (G1), and the third follows the second's delay (100 ms), at 120 ms, then the
/// fourth 200 ms later.
#[test]
fn hg16_a_failure_advances_the_schedule() {
    let trace = five_tcp()
        .multiplier(ms(50), 2)
        .net("2001:db8::1", Outcome::Fail(ms(20)))
        .run();
    let starts: Vec<Duration> = trace.starts().iter().map(|s| s.0).collect();
    assert_eq!(starts, [ms(0), ms(20), ms(120), ms(320), ms(720)]);
}

/// V30 and R28 under a schedule: "never below the floors (V30's 10 ms, R28), never above the
/// Maximum (2 s)" (HG13). A 1 ms base starts 10 ms apart at first; a factor of 1,000 reaches
/// the 2 s maximum at the third start; a factor of 0 counts as 1.
#[test]
fn v30_hg13_a_schedule_stays_within_the_floor_and_the_maximum() {
    let tiny = five_tcp().multiplier(ms(1), 4).run();
    let starts: Vec<Duration> = tiny.starts().iter().map(|s| s.0).collect();
    assert_eq!(starts, [ms(0), ms(10), ms(20), ms(36), ms(100)]);
    let steep = five_tcp().multiplier(ms(100), 1000).run();
    let starts: Vec<Duration> = steep.starts().iter().map(|s| s.0).collect();
    assert_eq!(starts, [ms(0), ms(100), ms(2100), ms(4100), ms(6100)]);
    let flat = five_tcp().multiplier(ms(70), 0).run();
    let starts: Vec<Duration> = flat.starts().iter().map(|s| s.0).collect();
    assert_eq!(starts, [ms(0), ms(70), ms(140), ms(210), ms(280)]);
}

/// V29, R26 (`DelaySchedule::Rtt`): "maybe from RTT history ... may differ per attempt". The
/// history knows 2001:db8::1's round trip (20 ms, RTO 60 ms); the others have none. With the
/// default (fixed) schedule only ::1's delay comes from it (as R26 asks of a path with
/// history); the RTT schedule also times the others by the fastest path the race knows from
/// the same source. Without history the RTT schedule is the fixed one.
#[test]
fn v29_an_rtt_schedule_times_every_start_from_history() {
    let t0 = base_instant();
    let mut h = History::new();
    h.record_success(path_over("[2001:db8::1]:443", Transport::Tcp), ms(20), t0);
    let config = Config::default().min_connection_attempt_delay(ms(10));
    let run = |config: Config| {
        Scenario::host(config)
            .aaaa(0, &["2001:db8::1", "2001:db8::2", "2001:db8::3"])
            .a(0, &[])
            .history(&h)
            .run_at(t0 + ms(1000))
            .starts()
            .iter()
            .map(|s| s.0)
            .collect::<Vec<Duration>>()
    };
    assert_eq!(run(config), [ms(0), ms(60), ms(310)]);
    assert_eq!(
        run(config.delay_schedule(DelaySchedule::Rtt)),
        [ms(0), ms(60), ms(120)]
    );
    let without = Scenario::host(config.delay_schedule(DelaySchedule::Rtt))
        .aaaa(0, &["2001:db8::1", "2001:db8::2"])
        .a(0, &[])
        .run();
    let starts: Vec<Duration> = without.starts().iter().map(|s| s.0).collect();
    assert_eq!(starts, [ms(0), ms(250)]);
}

/// V29, V26 (issue 17's goal): on a network that drops UDP, the first HEv3 connection is on
/// TCP within 60 ms by default, and QUIC and TCP never start at once; where QUIC works it
/// still wins. For round trips of 1 ms to 1 s (QUIC needs one, TCP with TLS two): with UDP
/// dropped, TCP starts at 50 ms and connects at 50 ms + 2 RTT; with UDP working, QUIC
/// connects at 1 RTT, first.
#[test]
fn v29_v26_tcp_within_60ms_when_udp_drops_and_quic_wins_where_it_works() {
    for rtt in [1u64, 5, 10, 25, 49, 50, 51, 100, 300, 1000] {
        let dropped = dual(Config::default())
            .net("2001:db8::1", Outcome::Connect(ms(2 * rtt)))
            .run();
        assert_eq!(
            dropped.tries()[..2],
            [tried(0, Q6), tried(50, T6)],
            "{rtt} ms"
        );
        assert_eq!(
            dropped.winning_try(),
            Some(tried(50 + 2 * rtt, T6)),
            "{rtt} ms"
        );

        let works = dual(Config::default())
            .quic("2001:db8::1", Outcome::Connect(ms(rtt)))
            .net("2001:db8::1", Outcome::Connect(ms(2 * rtt)))
            .run();
        assert_eq!(works.winning_try(), Some(tried(rtt, Q6)), "{rtt} ms");
        let gaps = works.starts().windows(2).all(|w| w[1].0 - w[0].0 >= ms(50));
        assert!(gaps, "{rtt} ms: {:?}", works.tries());
    }
}

/// V29's TCP after QUIC applies only while that TCP endpoint is the next one and the QUIC
/// attempt shows no progress: QUIC progress at 20 ms (UDP works there) gives TCP the usual
/// delay, pushed out by V33 (20 + 250 ms).
#[test]
fn v29_v33_quic_progress_gives_tcp_the_usual_delay() {
    let trace = dual(Config::default()).at(20, Extra::Progress(0)).run();
    assert_eq!(
        trace.tries()[..2],
        [tried(0, Q6), tried(270, T6)],
        "{:?}",
        trace.tries()
    );
}

/// `n` distinct addresses, IPv6 and IPv4 alternately.
fn many(n: usize) -> Vec<SocketAddr> {
    (0..n)
        .map(|i| {
            let k = u32::try_from(i).expect("fewer than 2^32 addresses");
            let ip = if i % 2 == 0 {
                IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(k)))
            } else {
                // 198.18.0.0/15 (RFC 2544): room for the IPv4 half of 262,144 addresses.
                IpAddr::V4(Ipv4Addr::from(0xc612_0000 + k / 2))
            };
            SocketAddr::new(ip, 443)
        })
        .collect()
}

/// A race over `n` literal addresses that all fail at once.
fn all_fail(n: usize) -> common::sim::Unchecked {
    let mut s = Scenario::with_target(Config::default(), Target::addrs(many(n)))
        .default_outcome(Outcome::Fail(ms(0)));
    s.sources = false;
    s.run_unchecked(base_instant())
}

/// Style rule: "a failure's Display names the first few attempts and counts the rest,
/// while the full list stays in the data." 10,000 failed attempts: the text names
/// FAILURE_DISPLAY_LIMIT of them, counts the other 9,992, and stays far under 10 KB.
#[test]
fn failure_display_is_bounded() {
    let run = all_fail(10_000);
    let failure = run.failure();
    assert_eq!(failure.reason(), FailureReason::AllAttemptsFailed);
    assert_eq!(
        failure.attempts().len(),
        10_000,
        "the data keeps every attempt"
    );
    let text = failure.to_string();
    assert!(
        text.starts_with("all 10000 connection attempts failed: TCP [2001:db8::]:443: "),
        "{text}"
    );
    assert_eq!(
        text.matches("connection refused").count(),
        FAILURE_DISPLAY_LIMIT,
        "{text}"
    );
    let rest = 10_000 - FAILURE_DISPLAY_LIMIT;
    assert!(
        text.ends_with(&format!("; and {rest} more attempts")),
        "{text}"
    );
    assert!(text.len() < 1024, "{} bytes: {text}", text.len());
}

/// Wall-clock time of the fastest of three renderings of `report`, and its length.
#[allow(clippy::disallowed_methods)] // measuring the test's own work, not driving a race
fn render(report: &Report) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut len = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let text = report.to_string();
        best = best.min(start.elapsed());
        len = text.len();
    }
    (best, len)
}

/// Style rule: "A report is linear in its events." 30,000 failed attempts render in well
/// under a second (debug build), one line per start and per end plus the outcome, and ten
/// times the attempts take roughly ten times as long (a factor of 30 is allowed for noise
/// and the sort's log factor; a quadratic renderer takes 100 times as long).
#[test]
fn report_display_is_linear() {
    let report = |n: usize| {
        let run = all_fail(n);
        let report = Report::new(&run.race, Some(Err(run.failure())));
        assert_eq!(report.attempts().len(), n);
        report
    };
    let (small, large) = (report(3_000), report(30_000));
    let (t_small, len_small) = render(&small);
    let (t_large, len_large) = render(&large);
    assert_eq!(large.to_string().lines().count(), 2 * 30_000 + 1);
    assert!(
        len_large <= len_small * 11,
        "{len_small} bytes for 3,000, {len_large} for 30,000"
    );
    assert!(
        t_large < Duration::from_secs(1),
        "30,000 attempts took {t_large:?} to render"
    );
    assert!(
        t_large <= t_small * 30 + ms(50),
        "3,000 attempts: {t_small:?}; 30,000: {t_large:?}"
    );
}
