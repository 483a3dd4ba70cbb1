//! The real Python client (postgrest-py, `tests/py/requirements.txt`, installed by
//! `scripts/test` into `target/py-venv`), driven by a script per scenario (see `driver.rs`).
use serde_json::Value;
use std::path::PathBuf;

/// Runs `tests/py/<script>` with the venv's Python, `input` on stdin, and returns the JSON value
/// it printed last.
pub async fn drive(script: &str, input: &Value) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../target/py-venv/bin/python");
    assert!(
        python.is_file(),
        "target/py-venv is missing: python3 -m venv target/py-venv && target/py-venv/bin/pip install -r \
         tests/py/requirements.txt (scripts/test does)"
    );
    let dir = root.join("py");
    crate::driver::drive(&python, &dir.join(script), &dir, input).await
}
