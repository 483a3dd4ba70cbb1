//! The real JavaScript clients (`tests/js/`, installed by `scripts/test` with `npm ci`), driven
//! by a script per scenario: the test hands the script its instructions as JSON on stdin and
//! reads what the client saw, as JSON, from the script's last line of stdout. Assertions stay
//! in Rust, next to the database checks.
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// `tests/js/`, where the scripts and their `node_modules` live.
pub fn drivers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Runs `tests/js/<script>` with `input` on stdin and returns the JSON value it printed last.
/// A script that fails, or prints no JSON, fails the test with its stderr.
pub async fn drive(script: &str, input: &Value) -> Value {
    let dir = drivers_dir();
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/js/node_modules is missing: run `npm ci --prefix tests/js` (scripts/test does)"
    );
    let mut child = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (Debian's nodejs)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node {script} failed ({}):\n{stderr}\n{stdout}", out.status);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("node {script} printed no JSON last ({e}):\n{stdout}\n{stderr}"))
}
