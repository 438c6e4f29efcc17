//! The values of `eyeballs connect`'s flags that clap does not parse itself: durations,
//! ports, the `--dns-server` address, the `--delay-schedule`, `--alt-svc` and `--proxy` values. Each
//! refusal says the rule and shows a correct form; clap adds the flag's name in front
//! (`invalid value '5x' for '--timeout <DURATION>': ...`).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use eyeballs_core::{DelaySchedule, ATTEMPT_START_FLOOR, MAX_CONNECTION_ATTEMPT_DELAY};
use eyeballs_net::{AltSvcValue, Proxy};

/// What `eyeballs connect` waits at most for a race when `--timeout` is not given.
pub(crate) const DEFAULT_TIMEOUT: &str = "30s";

/// The longest `--timeout`: a deadline the user can still wait for (and one `Instant`
/// arithmetic can always represent, so the command never runs without one).
const MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// How to write a duration, for every message about one.
const DURATION_FORMS: &str =
    "write a whole number with a unit, like 250ms, 5s or 2m (a bare number is milliseconds)";

/// A duration as the user wrote it: the value, and the text messages quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delay {
    value: Duration,
    text: String,
}

impl Delay {
    /// Returns the duration.
    pub(crate) fn value(&self) -> Duration {
        self.value
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses `--attempt-delay` and `--resolution-delay`: `250ms`, `5s`, `2m`, or a bare number
/// of milliseconds (what these flags took before units).
pub(crate) fn delay(s: &str) -> Result<Delay, String> {
    Ok(Delay {
        value: duration(s)?,
        text: s.to_owned(),
    })
}

/// Parses `--timeout`: a duration from 1 ms to [`MAX_TIMEOUT`].
pub(crate) fn timeout(s: &str) -> Result<Delay, String> {
    let d = delay(s)?;
    if d.value.is_zero() {
        return Err(format!(
            "the deadline is a positive duration (at least 1ms; the default is \
             {DEFAULT_TIMEOUT}): {DURATION_FORMS}"
        ));
    }
    if d.value > MAX_TIMEOUT {
        return Err(format!(
            "the deadline is at most 60m, so that the command always ends: {DURATION_FORMS}"
        ));
    }
    Ok(d)
}

/// A duration: digits, then `ms`, `s`, `m` or nothing (milliseconds).
fn duration(s: &str) -> Result<Duration, String> {
    if s.starts_with('-') {
        return Err(format!(
            "a duration is positive, not negative: {DURATION_FORMS}"
        ));
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = s.split_at(digits);
    if number.is_empty() {
        return Err(format!("{s:?} is not a duration: {DURATION_FORMS}"));
    }
    let too_long = || format!("{s} is too long a duration: {DURATION_FORMS}");
    let n: u64 = number.parse().map_err(|_| too_long())?;
    match unit {
        "" | "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => n
            .checked_mul(60)
            .map(Duration::from_secs)
            .ok_or_else(too_long),
        other => Err(format!(
            "{other:?} is not a unit of time here (ms, s or m): {DURATION_FORMS}"
        )),
    }
}

/// The largest `--delay-schedule` multiplier: past it, the third delay is already at the
/// 2 s maximum whatever the base.
const MAX_FACTOR: u32 = 100;

/// How to write a schedule, for every message about one.
const SCHEDULE_FORMS: &str = "write fixed (the default: --attempt-delay after every start), \
                              rtt (from round-trip history) or BASE*FACTOR like 50ms*2 (the \
                              delays 50ms, 100ms, 200ms, ...)";

/// Parses `--delay-schedule`: `fixed`, `rtt`, or `BASE*FACTOR` (`x` also separates them:
/// `50msx2`), the base from 10 ms (RFC 8305's floor, R28) to 2 s (the maximum, R30) and the
/// factor from 1 to [`MAX_FACTOR`].
pub(crate) fn schedule(s: &str) -> Result<DelaySchedule, String> {
    match s {
        "fixed" => return Ok(DelaySchedule::Fixed),
        "rtt" => return Ok(DelaySchedule::Rtt),
        _ => {}
    }
    let split = s.rsplit_once(['*', 'x']);
    let Some((base, factor)) = split.filter(|_| s.starts_with(|c: char| c.is_ascii_digit())) else {
        return Err(format!("{s:?} is not a schedule: {SCHEDULE_FORMS}"));
    };
    let base = duration(base).map_err(|e| format!("the base: {e}"))?;
    if base < ATTEMPT_START_FLOOR {
        return Err(format!(
            "the base is at least 10ms: RFC 8305 §5 starts no attempt within 10ms of the \
             previous one; {SCHEDULE_FORMS}"
        ));
    }
    if base > MAX_CONNECTION_ATTEMPT_DELAY {
        return Err(format!(
            "the base is at most 2s, the Maximum Connection Attempt Delay (RFC 8305 §5); \
             {SCHEDULE_FORMS}"
        ));
    }
    let digits = !factor.starts_with('0') && factor.bytes().all(|b| b.is_ascii_digit());
    match factor.parse::<u32>() {
        Ok(factor @ 1..=MAX_FACTOR) if digits => Ok(DelaySchedule::Multiplier { base, factor }),
        _ => Err(format!(
            "the factor {factor:?} is not a whole number from 1 to {MAX_FACTOR}; \
             {SCHEDULE_FORMS}"
        )),
    }
}

/// Parses one `--alt-svc` value: an `Alt-Svc` field value (RFC 7838 §3), not `clear`.
pub(crate) fn alt_svc(s: &str) -> Result<AltSvcValue, String> {
    let value = AltSvcValue::parse(s).map_err(|e| e.to_string())?;
    if value.is_clear() {
        return Err(
            "clear removes alternatives, and the command starts with none; give one like \
             h3=\":8443\"; ma=3600"
                .to_owned(),
        );
    }
    Ok(value)
}

/// Parses `--proxy`: `http://HOST:PORT` or `socks5://HOST:PORT` (HEv3 V60).
pub(crate) fn proxy(s: &str) -> Result<Proxy, String> {
    s.parse::<Proxy>().map_err(|e| e.to_string())
}

/// Parses a port: a number from 1 to 65535 (port 0 is no destination).
pub(crate) fn port(s: &str) -> Result<u16, String> {
    let rule = "a port is a number from 1 to 65535, like 443";
    if s.is_empty() {
        return Err(format!("the port is empty: {rule}"));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a number: {rule}"));
    }
    match s.parse::<u16>() {
        Ok(0) => Err(format!("port 0 cannot be connected to: {rule}")),
        Ok(port) => Ok(port),
        Err(_) => Err(format!("{s} is above 65535: {rule}")),
    }
}

/// Parses `--dns-server`: an IP address, with a port when it is not 53 (`127.0.0.1`,
/// `127.0.0.1:5353`, `::1`, `[::1]:5353`).
pub(crate) fn dns_server(s: &str) -> Result<SocketAddr, String> {
    let forms = "write the name server's IP address, with :PORT if not 53, like 127.0.0.1, \
                 127.0.0.1:5353 or [::1]:5353";
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        if let Ok(ip) = inner.parse::<Ipv6Addr>() {
            return Ok(SocketAddr::new(ip.into(), 53));
        }
    }
    match s.parse::<SocketAddr>() {
        Ok(addr) if addr.port() == 0 => Err(format!("port 0 is no name server: {forms}")),
        Ok(addr) => Ok(addr),
        Err(_) => Err(format!("{s:?} is not an IP address: {forms}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_and_bare_milliseconds() {
        let ms = |s| delay(s).map(|d| d.value().as_millis());
        assert_eq!(ms("250"), Ok(250));
        assert_eq!(ms("250ms"), Ok(250));
        assert_eq!(ms("5s"), Ok(5000));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("0"), Ok(0));
        for bad in ["", "5x", "s", "1.5s", "-5", " 5", "5 s"] {
            let e = delay(bad).unwrap_err();
            assert!(e.contains("like 250ms, 5s or 2m"), "{bad:?}: {e}");
        }
        assert!(delay("-5").unwrap_err().contains("not negative"));
        assert!(delay("99999999999999999999s")
            .unwrap_err()
            .contains("too long"));
        assert!(delay(&format!("{}m", u64::MAX))
            .unwrap_err()
            .contains("too long"));
        assert_eq!(delay("5s").map(|d| d.to_string()), Ok("5s".to_owned()));
    }

    #[test]
    fn timeouts_are_positive_and_bounded() {
        assert_eq!(
            timeout(DEFAULT_TIMEOUT).map(|d| d.value()),
            Ok(Duration::from_secs(30))
        );
        assert!(timeout("0").unwrap_err().contains("positive"));
        assert!(timeout("0s").unwrap_err().contains("positive"));
        assert!(timeout("-5").unwrap_err().contains("positive"));
        assert!(timeout("60m").is_ok());
        assert!(timeout("61m").unwrap_err().contains("at most 60m"));
    }

    #[test]
    fn schedules_are_fixed_rtt_or_base_times_factor() {
        let ms = Duration::from_millis;
        assert_eq!(schedule("fixed"), Ok(DelaySchedule::Fixed));
        assert_eq!(schedule("rtt"), Ok(DelaySchedule::Rtt));
        let firefox = DelaySchedule::Multiplier {
            base: ms(50),
            factor: 2,
        };
        assert_eq!(schedule("50ms*2"), Ok(firefox));
        assert_eq!(schedule("50msx2"), Ok(firefox));
        assert_eq!(schedule("50*2"), Ok(firefox));
        assert_eq!(
            schedule("2s*1"),
            Ok(DelaySchedule::Multiplier {
                base: ms(2000),
                factor: 1
            })
        );
        assert!(schedule("10ms*100").is_ok());
        let cases = [
            ("", "is not a schedule"),
            ("Fixed", "is not a schedule"),
            ("50ms", "is not a schedule"),
            ("9ms*2", "at least 10ms"),
            ("0*2", "at least 10ms"),
            ("3s*2", "at most 2s"),
            ("50ms*0", "from 1 to 100"),
            ("50ms*101", "from 1 to 100"),
            ("50ms*", "from 1 to 100"),
            ("50ms*+2", "from 1 to 100"),
            ("50ms*02", "from 1 to 100"),
            ("50ms*1.5", "from 1 to 100"),
            ("*2", "is not a schedule"),
            ("5q*2", "the base"),
        ];
        for (bad, says) in cases {
            let e = schedule(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
            assert!(
                e.contains("like 50ms*2") || e.contains("like 250ms"),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn alt_svc_values_parse_or_show_a_correct_form() {
        let v = alt_svc(r#"h3=":8443"; ma=3600, h2="alt.test:443""#).unwrap();
        assert_eq!(v.alternatives().len(), 2);
        for bad in ["", "clear", "h3", "h3=:443", r#"h3="alt.test""#, "\u{0}"] {
            let e = alt_svc(bad).unwrap_err();
            assert!(
                e.contains(r#"h3=":8443"; ma=3600"#) || e.contains(r#"h3=":443"; ma=3600"#),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn ports_are_1_to_65535() {
        assert_eq!(port("1"), Ok(1));
        assert_eq!(port("65535"), Ok(65535));
        assert!(port("0")
            .unwrap_err()
            .contains("port 0 cannot be connected to"));
        assert!(port("70000").unwrap_err().contains("70000 is above 65535"));
        for bad in ["", "-1", "http", "8o"] {
            assert!(port(bad).unwrap_err().contains("1 to 65535"), "{bad:?}");
        }
    }

    #[test]
    fn dns_servers_default_to_port_53() {
        let addr = |s: &str| {
            s.parse::<SocketAddr>()
                .unwrap_or_else(|e| panic!("{s}: {e}"))
        };
        assert_eq!(dns_server("127.0.0.1"), Ok(addr("127.0.0.1:53")));
        assert_eq!(dns_server("127.0.0.1:5353"), Ok(addr("127.0.0.1:5353")));
        assert_eq!(dns_server("::1"), Ok(addr("[::1]:53")));
        assert_eq!(dns_server("[::1]"), Ok(addr("[::1]:53")));
        assert_eq!(dns_server("[::1]:5353"), Ok(addr("[::1]:5353")));
        assert!(dns_server("127.0.0.1:0").unwrap_err().contains("port 0"));
        for bad in ["dns.example", "", "127.0.0.1:", "[::1"] {
            assert!(
                dns_server(bad).unwrap_err().contains("like 127.0.0.1,"),
                "{bad:?}"
            );
        }
    }
}
