//! Testing connection logic deterministically: a guide.
#![doc = include_str!("../docs/guide.md")]
