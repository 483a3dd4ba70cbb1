//! The real JavaScript clients (`tests/js/`, installed by `scripts/test` with `npm ci`), driven
//! by a script per scenario (see `driver.rs`).
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `tests/js/`, where the scripts and their `node_modules` live.
pub fn drivers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Runs `tests/js/<script>` with `input` on stdin and returns the JSON value it printed last.
pub async fn drive(script: &str, input: &Value) -> Value {
    let dir = drivers_dir();
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/js/node_modules is missing: run `npm ci --prefix tests/js` (scripts/test does)"
    );
    crate::driver::drive(Path::new("node"), &dir.join(script), &dir, input).await
}
