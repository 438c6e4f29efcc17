//! Test support shared by the core's integration tests and its fuzz target.
#![allow(dead_code, unreachable_pub)]

pub mod checker;
pub mod ops;
pub mod sim;
