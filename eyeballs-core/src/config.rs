//! Race configuration: every RFC 8305 constant as a knob whose default is the RFC's value.

use core::fmt;
use core::time::Duration;

use crate::nat64::Nat64Prefix;

/// RFC 8305 §8: "Resolution Delay (50 milliseconds)".
pub const RESOLUTION_DELAY: Duration = Duration::from_millis(50);
/// RFC 8305 §8: "Connection Attempt Delay (250 milliseconds)".
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);
/// RFC 8305 §8: "Minimum Connection Attempt Delay (100 milliseconds)".
pub const MIN_CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(100);
/// RFC 8305 §8: "Maximum Connection Attempt Delay (2 seconds)".
pub const MAX_CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_secs(2);
/// RFC 8305 §5 (R28): "Connection Attempt Delay MUST NOT be less than 10 milliseconds".
///
/// This is the hard floor between two attempt starts, also when an attempt is started early
/// because the previous one failed (G1).
pub const ATTEMPT_START_FLOOR: Duration = Duration::from_millis(10);

/// The default of [`Config::tcp_after_quic_delay`]: how long TCP to an address waits after
/// QUIC to the same address started (HEv3 §6 lets the delay differ per attempt and per
/// protocol, V29).
///
/// 50 ms, because
/// - on a network that drops UDP (far more common than broken IPv6), the first connection
///   is then on TCP within 60 ms instead of after a whole Connection Attempt Delay
///   (250 ms); Chromium starts both at once, which V26 forbids;
/// - where QUIC works it still wins: it needs one round trip, TCP with TLS two, and TCP
///   starts later;
/// - it stays above R28's 10 ms floor, and it is no new destination: the two attempts are
///   two transports to one server, so the congestion argument of the 100 ms Minimum (R29)
///   does not apply to it.
pub const TCP_AFTER_QUIC_DELAY: Duration = Duration::from_millis(50);

/// The default of [`Config::max_alias_depth`](crate::Config::max_alias_depth): the most
/// AliasMode hops a race follows (RFC 9460 §2.4.2 asks for a bound; V8: at the cap the race
/// acts as if there were no record).
pub const MAX_ALIAS_DEPTH: usize = 8;

/// How the Connection Attempt Delay after each start is chosen (HEv3 §6, V29, V58;
/// HG13, HG16).
///
/// Whatever the schedule, a delay is never below R28's 10 ms floor nor above the Maximum
/// Connection Attempt Delay (R30); delays derived from history are also never below the
/// Minimum (R27, R29). [`AttemptRecord::delay`](crate::AttemptRecord::delay) and the report
/// show the delay each start used.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::{Config, DelaySchedule};
///
/// // Firefox Nightly's schedule: attempts at 0, 50, 150, 350, 750 ms.
/// let firefox = DelaySchedule::Multiplier { base: Duration::from_millis(50), factor: 2 };
/// let config = Config::default().delay_schedule(firefox);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DelaySchedule {
    /// The default: [`Config::connection_attempt_delay`] (250 ms) after every start, HG13's
    /// "the fixed 250 ms stays the default". A race given a [`History`](crate::History)
    /// refines it per path, as before: after an address whose round trip history knows,
    /// the delay is that path's retransmission timeout (R26), within [minimum, maximum].
    #[default]
    Fixed,
    /// A base and a multiplier (working group issue #138; Firefox Nightly uses 50 ms × 2):
    /// the n-th start is followed by `base × factor^(n−1)`, clamped to [10 ms, maximum].
    /// The n-th delay belongs to the n-th start (HG16), so a start brought forward by a
    /// failure advances the schedule too. History does not change it.
    Multiplier {
        /// The delay after the first start.
        base: Duration,
        /// What each delay is multiplied by for the next start (0 counts as 1).
        factor: u32,
    },
    /// Derived from round-trip history (V29, R26; Apple and Chrome): after a path whose
    /// round trip history knows, its retransmission timeout (`SRTT + 4 × RTTVAR`); after
    /// another path, the smallest such timeout the race knows of a path from the same source
    /// address (the network's round trip); without any, the fixed delay. History-derived
    /// delays stay within [minimum, maximum]. Without history it is [`DelaySchedule::Fixed`].
    ///
    /// It also fires early on a DNS update (HEv3 §7, V46, HG22): when a late answer adds an
    /// endpoint while the last attempt has shown no progress, the next start is due once
    /// that attempt's expected time has passed (its path's smoothed round trip in history),
    /// never under the Minimum Connection Attempt Delay after it, nor later than the
    /// schedule's delay. The update alone, an attempt that progressed, or a path history
    /// does not know move nothing.
    Rtt,
}

/// Which address families a race uses, and which one it starts with.
///
/// RFC 8305 §4 (R17, R18): the list alternates families, starting with the preferred one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FamilyPolicy {
    /// Both families; the first attempt is of the family RFC 6724 ranks first (the RFC's
    /// default): IPv6, unless its source address says otherwise (no route, a link-local or
    /// ULA-only source for a global destination: rules 1, 2, 5), or history says IPv6 is
    /// broken for this host.
    #[default]
    PreferV6,
    /// Both families; the first attempt is IPv4 (unless history says IPv4 is broken for
    /// this host).
    PreferV4,
    /// IPv6 addresses only: no A query is sent, IPv4 addresses are dropped.
    V6Only,
    /// IPv4 addresses only: no AAAA query is sent, IPv6 addresses are dropped.
    V4Only,
}

impl FamilyPolicy {
    /// Returns whether addresses of this family take part in the race.
    pub fn allows(self, ipv6: bool) -> bool {
        match self {
            FamilyPolicy::PreferV6 | FamilyPolicy::PreferV4 => true,
            FamilyPolicy::V6Only => ipv6,
            FamilyPolicy::V4Only => !ipv6,
        }
    }

    /// Returns whether the first attempt is IPv6 when both families are available.
    pub fn prefers_v6(self) -> bool {
        !matches!(self, FamilyPolicy::PreferV4 | FamilyPolicy::V4Only)
    }
}

/// The settings of a race.
///
/// Every field is private and set through a chainable setter, so new knobs never break callers.
/// Defaults are the values RFC 8305 §8 recommends. [`Config::validate`] (also called by
/// [`Race::new`](crate::Race::new)) rejects settings that cannot work.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eyeballs_core::{Config, FamilyPolicy};
///
/// let config = Config::default()
///     .connection_attempt_delay(Duration::from_millis(300))
///     .family_policy(FamilyPolicy::PreferV4)
///     .timeout(Some(Duration::from_secs(10)));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub(crate) resolution_delay: Duration,
    pub(crate) connection_attempt_delay: Duration,
    pub(crate) min_connection_attempt_delay: Duration,
    pub(crate) max_connection_attempt_delay: Duration,
    pub(crate) first_address_family_count: usize,
    pub(crate) family_policy: FamilyPolicy,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_attempts_in_flight: Option<usize>,
    pub(crate) max_endpoints: Option<usize>,
    pub(crate) nat64: Option<Nat64Prefix>,
    pub(crate) seed: u64,
    pub(crate) ech: bool,
    pub(crate) prefer_tcp: bool,
    pub(crate) max_alias_depth: usize,
    pub(crate) delay_schedule: DelaySchedule,
    pub(crate) early_tcp: bool,
    pub(crate) tcp_after_quic_delay: Duration,
    pub(crate) protected_dns: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resolution_delay: RESOLUTION_DELAY,
            connection_attempt_delay: CONNECTION_ATTEMPT_DELAY,
            min_connection_attempt_delay: MIN_CONNECTION_ATTEMPT_DELAY,
            max_connection_attempt_delay: MAX_CONNECTION_ATTEMPT_DELAY,
            first_address_family_count: 1,
            family_policy: FamilyPolicy::PreferV6,
            timeout: None,
            max_attempts_in_flight: None,
            max_endpoints: None,
            nat64: None,
            seed: 0,
            ech: false,
            prefer_tcp: false,
            max_alias_depth: MAX_ALIAS_DEPTH,
            delay_schedule: DelaySchedule::Fixed,
            early_tcp: true,
            tcp_after_quic_delay: TCP_AFTER_QUIC_DELAY,
            protected_dns: false,
        }
    }
}

impl Config {
    /// Sets the Resolution Delay (R5), default 50 ms.
    ///
    /// RFC 8305 §3: "If a positive A response is received first due to reordering, the client
    /// SHOULD wait a short time for the AAAA response to ensure that preference is given to
    /// IPv6 ... The recommended value for the Resolution Delay is 50 milliseconds."
    /// Zero starts IPv4 attempts as soon as the A answer arrives.
    pub fn resolution_delay(mut self, delay: Duration) -> Self {
        self.resolution_delay = delay;
        self
    }

    /// Sets the fixed Connection Attempt Delay (R26), default 250 ms.
    ///
    /// RFC 8305 §5: "A simple implementation can have a fixed delay for how long to wait
    /// before starting the next connection attempt ... recommended value for a default delay
    /// is 250 milliseconds."
    ///
    /// The value is clamped, not rejected: never below [`ATTEMPT_START_FLOOR`] (10 ms, R28's
    /// MUST NOT) and never above the maximum set by
    /// [`max_connection_attempt_delay`](Config::max_connection_attempt_delay) (2 s, R30).
    /// The RFC recommends at least 100 ms (R29) to avoid congestion collapse on lossy paths.
    pub fn connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.connection_attempt_delay = delay;
        self
    }

    /// Sets how the delay after each start is chosen, default [`DelaySchedule::Fixed`]
    /// (HEv3 §6, V29, V58; HG13).
    pub fn delay_schedule(mut self, schedule: DelaySchedule) -> Self {
        self.delay_schedule = schedule;
        self
    }

    /// Sets how long TCP to an address waits after QUIC to the same address started, when
    /// it is the next endpoint (HG1 deals them in a row), default
    /// [`TCP_AFTER_QUIC_DELAY`] (50 ms; its docs say why).
    ///
    /// HEv3 §6 (V29): the delay "may differ per attempt". The delay after such a QUIC start
    /// is the shorter of this and the schedule's; it is clamped like the fixed delay, to
    /// [10 ms, maximum], so TCP and QUIC never start at once (V26). Setting it to the
    /// Connection Attempt Delay or more turns it off.
    pub fn tcp_after_quic_delay(mut self, delay: Duration) -> Self {
        self.tcp_after_quic_delay = delay;
        self
    }

    /// Sets the Minimum Connection Attempt Delay (R27, R29), default 100 ms.
    ///
    /// RFC 8305 §5: "Connection Attempt Delay MUST have a lower bound, especially if it is
    /// computed using historical data ... The recommended minimum value is 100 milliseconds."
    /// It bounds delays derived from round-trip history; it must be at least 10 ms.
    pub fn min_connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.min_connection_attempt_delay = delay;
        self
    }

    /// Sets the Maximum Connection Attempt Delay (R30), default 2 s.
    ///
    /// RFC 8305 §5: "Connection Attempt Delay SHOULD have an upper bound ... The recommended
    /// maximum value is 2 seconds." It bounds both the fixed and the history-derived delay.
    pub fn max_connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.max_connection_attempt_delay = delay;
        self
    }

    /// Sets the First Address Family Count (R18), default 1; it must be at least 1.
    ///
    /// RFC 8305 §4: "An implementation MAY want to favor one address family more by allowing
    /// multiple addresses of that family to be attempted before trying the next ... the
    /// 'First Address Family Count' ... a value of 1 ... a value of 2 may be used."
    pub fn first_address_family_count(mut self, count: usize) -> Self {
        self.first_address_family_count = count;
        self
    }

    /// Sets which families take part and which goes first (R17), default [`FamilyPolicy::PreferV6`].
    pub fn family_policy(mut self, policy: FamilyPolicy) -> Self {
        self.family_policy = policy;
        self
    }

    /// Sets an overall deadline measured from the race's start, default none (G4).
    ///
    /// When it passes, every attempt in flight is cancelled and the race fails with
    /// [`FailureReason::TimedOut`](crate::FailureReason::TimedOut). RFC 8305 sets no overall
    /// timeout; without one a race ends when every address has failed.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Caps how many attempts may be in flight at once, default no cap; at least 1.
    ///
    /// When the cap is reached the Connection Attempt Delay does not start another attempt;
    /// the next starts when one in flight fails.
    pub fn max_attempts_in_flight(mut self, cap: Option<usize>) -> Self {
        self.max_attempts_in_flight = cap;
        self
    }

    /// Caps how many distinct endpoints a race considers (tried and waiting), default no cap
    /// beyond [`MAX_ENDPOINTS`](crate::MAX_ENDPOINTS); at least 1.
    ///
    /// The cap drops from the tail of the order in which endpoints would be tried (R11 asks
    /// for the whole list; a cap is a safety valve against huge answers).
    pub fn max_endpoints(mut self, cap: Option<usize>) -> Self {
        self.max_endpoints = cap;
        self
    }

    /// Sets the seed of the race's only randomness: the shuffle of service records of equal
    /// priority (HEv3 §5.2, V20; RFC 9460 §2.4.1) and the choice among AliasMode records,
    /// default 0. Drivers pass a random seed per race; tests fix it (HG4).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Says whether the driver sends Encrypted ClientHello (RFC 9848) when an endpoint has an
    /// ECH configuration, default off.
    ///
    /// With ECH on, the `ech` key counts as understood, endpoints carry their record's
    /// configuration, no ClientHello goes out before service information has arrived or been
    /// denied (HEv3 §6.1, V34, HG6: TCP connects meanwhile, its ClientHello held, see
    /// [`Config::early_tcp`]), and once any usable record offers ECH, endpoints without it
    /// are never tried: a downgrade an attacker could force by stripping ECH from one record
    /// (V35; stricter than RFC 9848's all-records rule). The failure then says so. ECH is
    /// the only key that holds a handshake (V55): keys that only save round trips never do.
    pub fn ech(mut self, on: bool) -> Self {
        self.ech = on;
        self
    }

    /// Lets TCP connect while the ECH gate is shut, default on (HEv3 §6.1, §6.3, V34, V55;
    /// HG15).
    ///
    /// With ECH on and service information pending, TCP attempts start at their usual time
    /// (after the Resolution Delay, V5(b)) as
    /// [`Action::ConnectHeld`](crate::Action::ConnectHeld): the connection opens, the
    /// ClientHello waits. When the HTTPS answer arrives, is negative, or fails (V36 for DNS
    /// that is not protected), each held attempt gets
    /// [`Action::Handshake`](crate::Action::Handshake) with the ECH configuration the answer
    /// gives for its address (or is cancelled when the client has become SVCB-reliant and it
    /// has none, V35). QUIC waits for the gate: its first packet is the ClientHello. Off: no
    /// attempt starts before service information, for drivers that cannot hold a handshake.
    pub fn early_tcp(mut self, on: bool) -> Self {
        self.early_tcp = on;
        self
    }

    /// Says that the driver's DNS is protected (DNSSEC validation, DNS over TLS, HTTPS or
    /// QUIC), default off: the system resolver is not (HEv3 §6.3, V36; RFC 9460 §3.1).
    ///
    /// RFC 9460 §3.1: when the SVCB query fails and "DNS exchanges between the client and
    /// the recursive resolver are cryptographically protected ... the client SHOULD NOT fall
    /// back to $QNAME's A/AAAA records"; otherwise an active attacker could deny the client
    /// the service parameters (ECH, say).
    ///
    /// On: a failed HTTPS query of the origin or of an alias hop
    /// ([`Input::ResolveFailed`](crate::Input::ResolveFailed): SERVFAIL, a timeout, a network
    /// error) ends the race at once with
    /// [`FailureReason::ServiceQueryFailed`](crate::FailureReason::ServiceQueryFailed): every
    /// attempt in flight is cancelled (those that started on addresses after the Resolution
    /// Delay, V5(b), and held ones, whose ClientHello is never sent: with [`Config::ech`] the
    /// gate stays shut, HG6), and none starts on addresses alone. An attempt that connected
    /// before the failure arrived has already won. A failed HTTPS query of an alternative
    /// service ([`Target::alt_svc`](crate::Target::alt_svc)) drops that alternative, and
    /// the race goes on with the origin's answers (HG21). Negative answers (NODATA, and
    /// NXDOMAIN, which drivers feed as an answer without records) are answers, not failures.
    /// A failed fresh query after a stale answer (HG18) keeps the stale answer, as before.
    ///
    /// Off: a failed HTTPS query counts as a negative answer, and the race goes on with
    /// addresses (V36 for DNS that is not protected).
    pub fn protected_dns(mut self, on: bool) -> Self {
        self.protected_dns = on;
        self
    }

    /// Returns whether the driver's DNS is protected ([`Config::protected_dns`]): a driver
    /// reads it to feed an HTTPS query's NXDOMAIN as an answer without records, since only
    /// failures end the race.
    pub fn is_protected_dns(&self) -> bool {
        self.protected_dns
    }

    /// Deals TCP before QUIC for each address, default off: QUIC first, then TCP (HG1).
    /// History puts TCP first on its own where QUIC failed recently (HG3).
    pub fn prefer_tcp(mut self, on: bool) -> Self {
        self.prefer_tcp = on;
        self
    }

    /// Sets how many AliasMode hops a race follows (HEv3 §4.2.1, V8; RFC 9460 §2.4.2 asks
    /// for a bound), default [`MAX_ALIAS_DEPTH`] (8, RFC 9460 §10.2's "more than 8 aliases
    /// ... NOT RECOMMENDED"); at least 1.
    ///
    /// An alias past the cap is not followed: the race acts as if the last target had no
    /// record (V8), and its own addresses are the last resort (V11). Every hop costs a
    /// round trip and three queries (HTTPS, AAAA, A) before service information is in.
    pub fn max_alias_depth(mut self, hops: usize) -> Self {
        self.max_alias_depth = hops;
        self
    }

    /// Sets the network's NAT64 prefix (PREF64, from router advertisements or RFC 7050's
    /// `ipv4only.arpa`: [`Nat64Prefix::discover`]), default none (HEv3 at HEAD §8, V50–V52,
    /// V57, V62; RFC 8305 §7, R34–R38).
    ///
    /// With a prefix:
    /// - A is asked too, whatever the family policy (V50: "any NAT64 prefix: MUST query A").
    /// - Every IPv6 address under the prefix (a DNS64 answer) is de-synthesized to the IPv4
    ///   address it embeds (V51), and grouped and sorted as that IPv4 address (V62): it is
    ///   one endpoint with the A answer's (HG11), and interleaved as IPv4.
    /// - An IPv4 endpoint (from A, a hint, a literal, or de-synthesized) is connected directly
    ///   when it has an IPv4 route, and through NAT64 otherwise (V52, R36, R38): its address is
    ///   synthesized with the prefix ([`Endpoint::nat64_ipv4`](crate::Endpoint::nat64_ipv4)
    ///   names the IPv4 address). "No IPv4 route" is the driver's fact
    ///   ([`Source::unreachable`](crate::Source::unreachable)), or, for an address without a
    ///   fact, a network the facts show to be IPv6-only (R35,
    ///   [`Race::is_ipv6_only`](crate::Race::is_ipv6_only)); a family policy without IPv4
    ///   ([`FamilyPolicy::V6Only`]) reaches every IPv4 endpoint through NAT64.
    /// - The well-known prefix `64:ff9b::/96` never stands for a non-global IPv4 address
    ///   (RFC 6052 §3.1, V57): such an address is neither synthesized nor de-synthesized.
    ///
    /// Since A is asked at once, a broken AAAA answer from DNS64 costs no more than the
    /// usual family interleaving: RFC 8305's 2 s Last Resort Local Synthesis Delay (R37) is
    /// never needed, and HEAD drops it.
    pub fn nat64(mut self, prefix: Option<Nat64Prefix>) -> Self {
        self.nat64 = prefix;
        self
    }

    /// Checks that the settings can work together.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first setting that is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.first_address_family_count == 0 {
            return Err(ConfigError::ZeroFirstAddressFamilyCount);
        }
        if self.max_attempts_in_flight == Some(0) {
            return Err(ConfigError::ZeroMaxAttemptsInFlight);
        }
        if self.max_endpoints == Some(0) {
            return Err(ConfigError::ZeroMaxEndpoints);
        }
        if self.min_connection_attempt_delay < ATTEMPT_START_FLOOR {
            return Err(ConfigError::MinDelayBelowFloor(
                self.min_connection_attempt_delay,
            ));
        }
        if self.min_connection_attempt_delay > self.max_connection_attempt_delay {
            return Err(ConfigError::MinDelayAboveMax {
                min: self.min_connection_attempt_delay,
                max: self.max_connection_attempt_delay,
            });
        }
        if self.timeout == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroTimeout);
        }
        if self.max_alias_depth == 0 {
            return Err(ConfigError::ZeroAliasDepth);
        }
        Ok(())
    }

    /// The fixed Connection Attempt Delay after clamping to `[10 ms, max]`.
    #[inline]
    pub(crate) fn fixed_attempt_delay(&self) -> Duration {
        self.clamp_configured_delay(self.connection_attempt_delay)
    }

    /// A configured delay clamped to `[10 ms, max]` (R28, R30).
    #[inline]
    pub(crate) fn clamp_configured_delay(&self, delay: Duration) -> Duration {
        delay.clamp(ATTEMPT_START_FLOOR, self.max_connection_attempt_delay)
    }

    /// The delay a [`DelaySchedule::Multiplier`] gives after the `n`-th start (from 1),
    /// clamped to `[10 ms, max]`.
    pub(crate) fn multiplied_delay(&self, base: Duration, factor: u32, n: usize) -> Duration {
        let max = self.max_connection_attempt_delay;
        let mut delay = base;
        if factor > 1 {
            // At most about 94 steps: each at least doubles the delay, which stops at max.
            for _ in 1..n {
                if delay >= max {
                    break;
                }
                delay = delay.saturating_mul(factor);
            }
        }
        self.clamp_configured_delay(delay)
    }

    /// A history-derived delay clamped to `[min, max]` (R27, R30).
    pub(crate) fn clamp_history_delay(&self, delay: Duration) -> Duration {
        delay.clamp(
            self.min_connection_attempt_delay,
            self.max_connection_attempt_delay,
        )
    }
}

/// A setting that [`Config::validate`] rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `first_address_family_count` was 0; use 1 (the RFC's default) or more.
    ZeroFirstAddressFamilyCount,
    /// `max_attempts_in_flight` was `Some(0)`: no attempt could ever start.
    ZeroMaxAttemptsInFlight,
    /// `max_endpoints` was `Some(0)`: no endpoint could ever be tried.
    ZeroMaxEndpoints,
    /// `min_connection_attempt_delay` was below the RFC's 10 ms floor.
    MinDelayBelowFloor(Duration),
    /// `min_connection_attempt_delay` was above `max_connection_attempt_delay`.
    MinDelayAboveMax {
        /// The minimum that was set.
        min: Duration,
        /// The maximum that was set.
        max: Duration,
    },
    /// `timeout` was `Some(0)`: the race would fail before it began.
    ZeroTimeout,
    /// `max_alias_depth` was 0: V8 asks for a cap of at least one hop.
    ZeroAliasDepth,
    /// An ALPN id of [`Target::protocols`](crate::Target::protocols) was empty or longer
    /// than 255 bytes (RFC 7301).
    InvalidAlpn {
        /// Its length in bytes.
        len: usize,
    },
    /// A proxied target ([`Target::proxied`](crate::Target::proxied)) whose caller speaks
    /// only QUIC: proxies tunnel TCP (HEv3 V60, HG20), and QUIC through one (MASQUE) is not
    /// built.
    ProxyNeedsTcp,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ZeroFirstAddressFamilyCount => {
                f.write_str("first_address_family_count must be at least 1 (RFC 8305 recommends 1)")
            }
            ConfigError::ZeroMaxAttemptsInFlight => {
                f.write_str("max_attempts_in_flight must be at least 1, or None for no cap")
            }
            ConfigError::ZeroMaxEndpoints => {
                f.write_str("max_endpoints must be at least 1, or None for no cap")
            }
            ConfigError::MinDelayBelowFloor(d) => write!(
                f,
                "min_connection_attempt_delay is {d:?}, but RFC 8305 forbids less than 10ms \
                 (100ms is recommended)"
            ),
            ConfigError::MinDelayAboveMax { min, max } => write!(
                f,
                "min_connection_attempt_delay ({min:?}) is above \
                 max_connection_attempt_delay ({max:?})"
            ),
            ConfigError::ZeroTimeout => {
                f.write_str("timeout must be longer than zero, or None for no deadline")
            }
            ConfigError::ZeroAliasDepth => {
                f.write_str("max_alias_depth must be at least 1 (RFC 9460 recommends 8)")
            }
            ConfigError::InvalidAlpn { len } => write!(
                f,
                "an ALPN protocol id must be 1 to 255 bytes long (RFC 7301), not {len}"
            ),
            ConfigError::ProxyNeedsTcp => f.write_str(
                "a proxy tunnels TCP only (HTTP CONNECT, SOCKS5): speak a TCP protocol through it, \
                 QUIC through a proxy (MASQUE) is not supported",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
