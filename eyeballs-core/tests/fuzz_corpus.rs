//! Replays the committed fuzz corpus (`tests/corpus/race_ops/`, inside this crate so the
//! packaged crate carries it) through the fuzz target's own
//! code on the stable toolchain, so CI exercises every seed on every run.

mod common;

use std::path::Path;

#[test]
fn replay_fuzz_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/race_ops");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 32,
        "the corpus has {} seeds; expected at least 32",
        entries.len()
    );
    let t0 = common::sim::base_instant();
    for path in &entries {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let replay = std::panic::catch_unwind(|| common::ops::run(&data, t0));
        assert!(
            replay.is_ok(),
            "seed {} broke an invariant (the panic above says which)",
            path.display()
        );
    }
}
