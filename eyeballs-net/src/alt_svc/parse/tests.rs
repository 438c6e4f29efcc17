use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

type Alt = (String, u16, Vec<u8>, u64);

fn ok(value: &str) -> Vec<Alt> {
    AltSvcValue::parse(value)
        .unwrap_or_else(|e| panic!("{value:?}: {e}"))
        .alternatives()
        .iter()
        .map(|(a, ma)| {
            let id = a.alpn_ids()[0].as_bytes().to_vec();
            (a.host().as_str().to_owned(), a.port(), id, ma.as_secs())
        })
        .collect()
}

fn alt(host: &str, port: u16, id: &str, ma: u64) -> Alt {
    (host.to_owned(), port, id.as_bytes().to_vec(), ma)
}

fn kind(value: &str) -> AltSvcErrorKind {
    match AltSvcValue::parse(value) {
        Ok(v) => panic!("{value:?} parsed: {v:?}"),
        Err(e) => e.kind(),
    }
}

const DAY: u64 = 86_400;

/// RFC 7838 §3's examples, and the forms the CLI documents.
#[test]
fn rfc_7838_examples_parse() {
    assert_eq!(ok(r#"h2=":8000""#), [alt("", 8000, "h2", DAY)]);
    assert_eq!(
        ok(r#"h2="new.example.org:80""#),
        [alt("new.example.org", 80, "h2", DAY)]
    );
    assert_eq!(
        ok(r#"h2=":443"; ma=2592000; persist=1"#),
        [alt("", 443, "h2", 2_592_000)]
    );
    // "w=x:y#z" percent-encoded as RFC 7838 §3 shows.
    assert_eq!(
        ok(r#"w%3Dx%3Ay#z="alt.example:443""#),
        [alt("alt.example", 443, "w=x:y#z", DAY)]
    );
    assert_eq!(
        ok(r#"h3=":8443"; ma=3600, h3="alt.test:443", h2=":443""#),
        [
            alt("", 8443, "h3", 3600),
            alt("alt.test", 443, "h3", DAY),
            alt("", 443, "h2", DAY),
        ]
    );
    assert_eq!(
        ok(r#"http%2F1.1="Alt.Test.:80""#),
        [alt("alt.test", 80, "http/1.1", DAY)]
    );
}

#[test]
fn spaces_empty_elements_quoting_and_parameters() {
    assert_eq!(ok("  h3=\":1\"\t;\tma=5 ,  "), [alt("", 1, "h3", 5)]);
    assert_eq!(
        ok(r#", h3=":1",, h2=":2" ,"#),
        [alt("", 1, "h3", DAY), alt("", 2, "h2", DAY)]
    );
    // A quoted ma, an escaped authority, unknown parameters, the first ma counting.
    assert_eq!(
        ok(r#"h3="a\.test:7"; x="y;z,"; ma="60"; ma=1"#),
        [alt("a.test", 7, "h3", 60)]
    );
    // A max-age past u64 is the largest; past Instant, no expiry.
    let huge = AltSvcValue::parse(r#"h3=":1"; ma=99999999999999999999999"#).unwrap();
    assert_eq!(huge.alternatives()[0].1, Duration::from_secs(u64::MAX));
    assert_eq!(huge.services(Instant::now())[0].expiry(), None);
    let now = Instant::now();
    let alts = AltSvcValue::parse(r#"h3=":1"; ma=0"#)
        .unwrap()
        .services(now);
    assert_eq!(alts[0].expiry(), Some(now));
    assert!(AltSvcValue::parse(" clear \t").unwrap().is_clear());
    assert!(AltSvcValue::parse(" clear ")
        .unwrap()
        .services(now)
        .is_empty());
    // A protocol id that merely starts with "clear".
    assert_eq!(ok(r#"cleartext=":1""#), [alt("", 1, "cleartext", DAY)]);
}

#[test]
fn garbage_is_refused_with_the_place_and_a_correct_form() {
    let cases = [
        ("", AltSvcErrorKind::Empty),
        ("  ", AltSvcErrorKind::Empty),
        (",,", AltSvcErrorKind::Empty),
        ("h3", AltSvcErrorKind::Equals),
        ("h3=:443", AltSvcErrorKind::Authority),
        ("h3=443", AltSvcErrorKind::Authority),
        (r#"h3=":443"#, AltSvcErrorKind::Authority),
        (r#"h3="443""#, AltSvcErrorKind::Authority),
        (r#"h3="alt test:443""#, AltSvcErrorKind::Authority),
        (r#"h3=".:443""#, AltSvcErrorKind::Authority),
        (r#"h3="[::1]:443""#, AltSvcErrorKind::IpAddress),
        (r#"h3="127.0.0.1:443""#, AltSvcErrorKind::IpAddress),
        (r#"h3=":0""#, AltSvcErrorKind::Port),
        (r#"h3=":65536""#, AltSvcErrorKind::Port),
        (r#"h3=":""#, AltSvcErrorKind::Port),
        (r#"h3=":-1""#, AltSvcErrorKind::Port),
        (r#"h3=":443"; ma=-1"#, AltSvcErrorKind::MaxAge),
        (r#"h3=":443"; ma=1h"#, AltSvcErrorKind::MaxAge),
        (r#"h3=":443"; ma = 5"#, AltSvcErrorKind::Parameter),
        (r#"h3=":443"; ma="#, AltSvcErrorKind::Parameter),
        (r#"h3=":443";"#, AltSvcErrorKind::Parameter),
        (r#"h3=":443" h2=":443""#, AltSvcErrorKind::Separator),
        (r#"h3=":443"x"#, AltSvcErrorKind::Separator),
        (r#"=":443""#, AltSvcErrorKind::ProtocolId),
        (r#"h%3=":443""#, AltSvcErrorKind::ProtocolId),
        (r#"h%zz=":443""#, AltSvcErrorKind::ProtocolId),
        (r#""h3"=":443""#, AltSvcErrorKind::ProtocolId),
        ("clear, h3=\":1\"", AltSvcErrorKind::Equals),
        ("h3=\"\u{e9}:1\"", AltSvcErrorKind::Authority),
    ];
    for (value, want) in cases {
        assert_eq!(kind(value), want, "{value:?}");
        let e = AltSvcValue::parse(value).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(r#"h3=":443"; ma=3600"#), "{value:?}: {text}");
        assert!(text.contains(&format!("at byte {}", e.at())), "{text}");
        assert!(e.at() <= value.len(), "{value:?}: {}", e.at());
    }
    let long_id = format!(r#"{}=":1""#, "a".repeat(256));
    assert_eq!(kind(&long_id), AltSvcErrorKind::ProtocolId);
    assert_eq!(
        AltSvcValue::parse(r#"h3=":443"; ma=x"#).unwrap_err().at(),
        14
    );
}

proptest! {
    /// No input panics, an error's offset is within the input, and what parses gives
    /// valid alternatives (a protocol id, a port above 0).
    #[test]
    fn arbitrary_strings_never_panic(value in ".{0,64}") {
        match AltSvcValue::parse(&value) {
            Ok(v) => {
                for (a, _) in v.alternatives() {
                    prop_assert!(a.port() > 0);
                    prop_assert!(a.alpn_ids().iter().all(Alpn::is_valid));
                }
            }
            Err(e) => prop_assert!(e.at() <= value.len()),
        }
    }

    /// Values built from the grammar's pieces, well formed or not, never panic either, and
    /// the well-formed ones round-trip.
    #[test]
    fn grammar_shaped_values(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("h3".to_owned()), Just("h2".to_owned()), Just("=".to_owned()),
                Just("\"".to_owned()), Just(":".to_owned()), Just(";".to_owned()),
                Just(",".to_owned()), Just(" ".to_owned()), Just("ma".to_owned()),
                Just("\\".to_owned()), Just("%".to_owned()), Just("alt.test".to_owned()),
                (0u32..70_000).prop_map(|n| n.to_string()),
            ],
            0..24,
        ),
        alts in proptest::collection::vec((any::<bool>(), 1u16.., 0u64..1_000_000), 1..4),
    ) {
        let _ = AltSvcValue::parse(&parts.concat());
        let text: Vec<String> = alts
            .iter()
            .map(|(named, port, ma)| {
                let host = if *named { "alt.test" } else { "" };
                format!(r#"h3="{host}:{port}"; ma={ma}"#)
            })
            .collect();
        let parsed = ok(&text.join(", "));
        let want: Vec<Alt> = alts
            .iter()
            .map(|(named, port, ma)| alt(if *named { "alt.test" } else { "" }, *port, "h3", *ma))
            .collect();
        prop_assert_eq!(parsed, want);
    }
}
