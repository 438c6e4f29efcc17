//! hickory's answers in the core's terms: HTTPS (SVCB) rdata as [`ServiceRecord`]s, and
//! failed lookups as sentences a person can act on.

use std::io;

use eyeballs_core::{EchConfig, ServiceRecord};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::svcb::{SvcParamValue, SVCB};
use hickory_resolver::proto::rr::{Name, RData, Record};

/// NOERROR with no records of the type (NODATA), as opposed to NXDOMAIN.
pub(crate) fn is_no_data(e: &NetError) -> bool {
    e.is_no_records_found() && !e.is_nx_domain()
}

/// Decodes the HTTPS records of an answer to the query for `asked`, in answer order
/// (CNAMEs and other types skipped: hickory has followed the chain).
///
/// A ServiceMode record whose TargetName is `.` names its owner (RFC 9460 §2.5.2); when a
/// CNAME led to a different owner than `asked`, that owner becomes the TargetName, so the
/// race asks for its addresses. Otherwise `.` stays `.` (the host, or the alias target the
/// race asked about).
pub(crate) fn service_records(asked: &Name, answers: &[Record]) -> Vec<ServiceRecord> {
    answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::HTTPS(https) => Some((&r.name, &https.0)),
            RData::SVCB(svcb) => Some((&r.name, svcb)),
            _ => None,
        })
        .map(|(owner, svcb)| {
            let record = service_record(svcb);
            let moved = !same_name(owner, asked);
            if moved && !record.is_alias() && record.target().is_root() {
                retarget(record, owner)
            } else {
                record
            }
        })
        .collect()
}

/// Turns SVCB/HTTPS rdata into the core's [`ServiceRecord`]: SvcPriority, TargetName, and
/// the keys the core reads (`mandatory`, `alpn`, `no-default-alpn`, `port`, `ipv4hint`,
/// `ech`, `ipv6hint`). Other keys are dropped, but the `mandatory` list is kept as numbers,
/// so a record that makes an unknown key mandatory stays unusable (RFC 9460 §8).
pub(crate) fn service_record(svcb: &SVCB) -> ServiceRecord {
    let target = svcb.target_name.to_ascii();
    let mut record = ServiceRecord::new(svcb.svc_priority, target.as_str());
    for (_, value) in &svcb.svc_params {
        record = match value {
            SvcParamValue::Mandatory(keys) => record.mandatory(keys.0.iter().map(|&k| k.into())),
            SvcParamValue::Alpn(ids) => record.alpn(ids.0.iter().map(String::as_str)),
            SvcParamValue::NoDefaultAlpn => record.no_default_alpn(true),
            SvcParamValue::Port(port) => record.port(*port),
            SvcParamValue::Ipv4Hint(hints) => record.ipv4_hints(hints.0.iter().map(|a| a.0)),
            SvcParamValue::Ipv6Hint(hints) => record.ipv6_hints(hints.0.iter().map(|a| a.0)),
            SvcParamValue::EchConfigList(list) => record.ech(EchConfig::new(&list.0)),
            // An unknown key matters only through `mandatory`, which is kept.
            SvcParamValue::Unknown(_) => record,
        };
    }
    record
}

/// `record` with TargetName `owner` and everything else kept.
fn retarget(record: ServiceRecord, owner: &Name) -> ServiceRecord {
    let mut moved = ServiceRecord::new(record.priority(), owner.to_ascii().as_str())
        .alpn(record.alpn_ids().iter().cloned())
        .no_default_alpn(record.is_no_default_alpn())
        .ipv4_hints(record.ipv4_hint_addrs().iter().copied())
        .ipv6_hints(record.ipv6_hint_addrs().iter().copied())
        .mandatory(record.mandatory_keys().iter().copied());
    if let Some(port) = record.port_key() {
        moved = moved.port(port);
    }
    if let Some(ech) = record.ech_config() {
        moved = moved.ech(ech.clone());
    }
    moved
}

/// DNS names compare case-insensitively, with or without the final dot.
fn same_name(a: &Name, b: &Name) -> bool {
    let text = |n: &Name| n.to_ascii().trim_end_matches('.').to_ascii_lowercase();
    text(a) == text(b)
}

/// A failed lookup of `name` as a sentence a person can act on, with the kind a caller can
/// match (`NotFound` for NXDOMAIN, `TimedOut` for no answer). hickory's own `Display` of
/// NXDOMAIN is a debug dump of the query. (No records with NOERROR never gets here: it is an
/// empty answer.)
pub(crate) fn lookup_error(name: &str, e: NetError) -> io::Error {
    use io::ErrorKind::{NotFound, Other, TimedOut};
    let name = name.trim_end_matches('.');
    let (kind, text) = match &e {
        _ if e.is_nx_domain() => (NotFound, format!("{name}: no such name (NXDOMAIN)")),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => {
            (Other, format!("{name}: the DNS server failed (SERVFAIL)"))
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => (
            Other,
            format!("{name}: the DNS server refused the query (REFUSED)"),
        ),
        NetError::Dns(DnsError::ResponseCode(code)) => (
            Other,
            format!(
                "{name}: the DNS server answered {code} (rcode {})",
                u16::from(*code)
            ),
        ),
        NetError::Timeout => (
            TimedOut,
            format!("{name}: no answer from the DNS server (timed out)"),
        ),
        NetError::NoConnections => (Other, format!("{name}: no DNS server could be reached")),
        NetError::Io(io) => (io.kind(), format!("{name}: DNS: {io}")),
        _ => (Other, format!("{name}: DNS: {e}")),
    };
    io::Error::new(kind, text)
}

/// An error building a resolver from `what` (`"the name servers"`, say) as a sentence.
pub(crate) fn setup_error(what: &str, e: NetError) -> io::Error {
    io::Error::other(format!("hickory cannot use {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use hickory_resolver::proto::rr::rdata::svcb::{
        Alpn, EchConfigList, IpHint, Mandatory, SvcParamKey, Unknown,
    };
    use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, HTTPS};

    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("a valid name")
    }

    /// Every key the core reads is decoded: alpn, no-default-alpn, port, both hints, ech.
    #[test]
    fn every_known_key() {
        let svcb = SVCB::new(
            2,
            name("svc.eyeballs.test."),
            vec![
                (
                    SvcParamKey::Alpn,
                    SvcParamValue::Alpn(Alpn(vec!["h3".into(), "h2".into()])),
                ),
                (SvcParamKey::NoDefaultAlpn, SvcParamValue::NoDefaultAlpn),
                (SvcParamKey::Port, SvcParamValue::Port(8443)),
                (
                    SvcParamKey::Ipv4Hint,
                    SvcParamValue::Ipv4Hint(IpHint(vec![A(Ipv4Addr::new(192, 0, 2, 1))])),
                ),
                (
                    SvcParamKey::EchConfigList,
                    SvcParamValue::EchConfigList(EchConfigList(vec![0xfe, 0x0d, 0, 1])),
                ),
                (
                    SvcParamKey::Ipv6Hint,
                    SvcParamValue::Ipv6Hint(IpHint(vec![AAAA(Ipv6Addr::LOCALHOST)])),
                ),
            ],
        );
        let expected = ServiceRecord::new(2, "svc.eyeballs.test")
            .alpn(["h3", "h2"])
            .no_default_alpn(true)
            .port(8443)
            .ipv4_hints([Ipv4Addr::new(192, 0, 2, 1)])
            .ipv6_hints([Ipv6Addr::LOCALHOST])
            .ech(EchConfig::new(&[0xfe, 0x0d, 0, 1]));
        assert_eq!(service_record(&svcb), expected);
    }

    /// RFC 9460 §8: an unknown key in `mandatory` is kept as its number (so the core can
    /// refuse the record); the unknown key's value itself is dropped.
    #[test]
    fn unknown_mandatory_key_is_kept_as_a_number() {
        let svcb = SVCB::new(
            1,
            Name::root(),
            vec![
                (
                    SvcParamKey::Mandatory,
                    SvcParamValue::Mandatory(Mandatory(vec![
                        SvcParamKey::Alpn,
                        SvcParamKey::Unknown(99),
                    ])),
                ),
                (
                    SvcParamKey::Alpn,
                    SvcParamValue::Alpn(Alpn(vec!["h2".into()])),
                ),
                (
                    SvcParamKey::Unknown(99),
                    SvcParamValue::Unknown(Unknown(vec![1, 2, 3])),
                ),
            ],
        );
        let record = service_record(&svcb);
        assert_eq!(record.mandatory_keys(), &[1, 99]);
        assert_eq!(
            record,
            ServiceRecord::new(1, ".").alpn(["h2"]).mandatory([1, 99])
        );
    }

    /// AliasMode: priority 0 and the target; "." stays "no service".
    #[test]
    fn alias_mode() {
        let alias = service_record(&SVCB::new(0, name("cdn.eyeballs.test."), vec![]));
        assert_eq!(alias, ServiceRecord::alias("cdn.eyeballs.test"));
        let none = service_record(&SVCB::new(0, Name::root(), vec![]));
        assert!(none.is_alias() && none.target().is_root());
    }

    fn https(owner: &str, svcb: SVCB) -> Record {
        Record::from_rdata(name(owner), 60, RData::HTTPS(HTTPS(svcb)))
    }

    /// Answer order is kept; CNAMEs are skipped; "." at the asked name stays "."; "." at
    /// a CNAME's target becomes that target (RFC 9460 §2.5.2), but an alias "." never moves.
    #[test]
    fn answers_in_order_and_owner_targets() {
        let asked = name("h.eyeballs.test.");
        let answers = vec![
            Record::from_rdata(
                asked.clone(),
                60,
                RData::CNAME(CNAME(name("edge.eyeballs.test."))),
            ),
            https("H.eyeballs.test", SVCB::new(3, Name::root(), vec![])),
            https(
                "edge.eyeballs.test.",
                SVCB::new(
                    1,
                    Name::root(),
                    vec![(SvcParamKey::Port, SvcParamValue::Port(8443))],
                ),
            ),
            https("edge.eyeballs.test.", SVCB::new(0, Name::root(), vec![])),
        ];
        let records = service_records(&asked, &answers);
        assert_eq!(
            records,
            vec![
                ServiceRecord::new(3, "."),
                ServiceRecord::new(1, "edge.eyeballs.test").port(8443),
                ServiceRecord::alias("."),
            ]
        );
    }

    /// HTTPS 1 . alpn=h2 port=8443
    #[test]
    fn a_service_mode_record() {
        let svcb = SVCB::new(
            1,
            Name::root(),
            vec![
                (
                    SvcParamKey::Alpn,
                    SvcParamValue::Alpn(Alpn(vec!["h2".into()])),
                ),
                (SvcParamKey::Port, SvcParamValue::Port(8443)),
            ],
        );
        let record = service_record(&svcb);
        assert_eq!(record.priority(), 1);
        assert!(record.target().is_root());
        assert_eq!(record.port_key(), Some(8443));
    }

    /// Errors are sentences with a kind a caller can match.
    #[test]
    fn error_sentences() {
        let e = lookup_error("h.eyeballs.test.", NetError::Timeout);
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            e.to_string(),
            "h.eyeballs.test: no answer from the DNS server (timed out)"
        );
        let servfail = NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail));
        let e = lookup_error("h.eyeballs.test", servfail);
        assert_eq!(
            e.to_string(),
            "h.eyeballs.test: the DNS server failed (SERVFAIL)"
        );
        let refused = NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused));
        assert!(lookup_error("h", refused).to_string().contains("(REFUSED)"));
        let e = lookup_error("h", NetError::NoConnections);
        assert_eq!(e.to_string(), "h: no DNS server could be reached");
    }
}
