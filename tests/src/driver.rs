//! A real client driven by a script: the test hands the script its instructions as JSON on
//! stdin and reads what the client saw, as JSON, from the script's last line of stdout.
//! Assertions stay in Rust, next to the database checks. `node.rs` and `python.rs` run them.
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// Runs `program script` in `dir` with `input` on stdin and returns the JSON value it printed
/// last. A script that fails, or prints no JSON, fails the test with its stderr.
pub async fn drive(program: &Path, script: &Path, dir: &Path, input: &Value) -> Value {
    let name = script.display();
    let mut child = tokio::process::Command::new(program)
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name} failed ({}):\n{stderr}\n{stdout}", out.status);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{name} printed no JSON last ({e}):\n{stdout}\n{stderr}"))
}
