//! eyeballs-core as of commit 266a16b (the last RFC 8305-only core), frozen: the baseline
//! of `eyeballs-core/benches/paired.rs`. Only this header changed (the crate docs and their
//! examples are in that commit); the code is as it was, so no lint of a later toolchain
//! applies to it.
#![allow(warnings, clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]

mod candidates;
mod config;
mod error;
mod event;
mod history;
mod host;
mod nat64;
mod race;
mod record;
mod report;
mod sort;
mod target;

pub use config::{
    Config, ConfigError, FamilyPolicy, ATTEMPT_START_FLOOR, CONNECTION_ATTEMPT_DELAY,
    MAX_CONNECTION_ATTEMPT_DELAY, MIN_CONNECTION_ATTEMPT_DELAY, RESOLUTION_DELAY,
};
pub use error::{FailedAttempt, FailedQuery, Failure, FailureReason, Winner};
pub use event::{Action, Input};
pub use history::{History, HISTORY_CAPACITY, HISTORY_TTL};
pub use host::{Host, HostError, HostPort, ToHostPort};
pub use nat64::{Nat64Error, Nat64Prefix};
pub use race::Race;
pub use record::{AttemptRecord, AttemptStatus, QueryRecord};
pub use report::{AttemptReport, QueryReport, Report};
pub use target::{AttemptId, QueryId, QueryKind, Target};
