//! Drives one race from arbitrary bytes and checks the invariants after every step.
//!
//! The operations and the checker are the ones eyeballs-core's tests use
//! (`eyeballs-core/tests/common/`), so the corpus replay on stable runs exactly this code.
#![no_main]

use std::sync::OnceLock;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;

#[path = "../../eyeballs-core/tests/common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    static BASE: OnceLock<Instant> = OnceLock::new();
    common::ops::run(data, *BASE.get_or_init(Instant::now));
});
