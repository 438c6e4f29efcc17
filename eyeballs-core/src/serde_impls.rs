//! Serialization (feature `serde`): what the derives on the report's types cannot say
//! with attributes alone. Times are milliseconds as `f64` (microsecond precision), the
//! fields ending in `_ms`; names and ALPN ids are strings; an endpoint's ECH
//! configuration is whether it has one, and its provenance its service priority.

use core::time::Duration;

use serde::{Serialize, Serializer};

use crate::endpoint::{Alpn, EchConfig, Provenance};
use crate::name::Name;

impl Serialize for Alpn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A duration as milliseconds.
pub(crate) fn ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_micros() as f64 / 1000.0)
}

/// A duration, if any, as milliseconds.
pub(crate) fn ms_opt<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ms(d, s),
        None => s.serialize_none(),
    }
}

/// Whether there is an ECH configuration (its bytes say nothing to a reader).
pub(crate) fn has_ech<S: Serializer>(e: &Option<EchConfig>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(e.is_some())
}

/// The ALPN ids of an endpoint: an empty list for none.
pub(crate) fn alpn<S: Serializer>(
    a: &Option<std::sync::Arc<[Alpn]>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    a.as_deref().unwrap_or_default().serialize(s)
}

/// The service priority of an endpoint's record, `None` for a plain address.
pub(crate) fn priority<S: Serializer>(p: &Provenance, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Provenance::Service { priority, .. } => s.serialize_some(priority),
        _ => s.serialize_none(),
    }
}
