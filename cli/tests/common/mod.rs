//! Running the `tenancy` binary from the tests. (Each test file uses part of this.)
#![allow(dead_code)]
use std::process::{Command, Output, Stdio};
use tenancy_e2e::ScratchDatabase;

/// `tenancy ARGS` against the database at `url`, with no terminal on stdin.
pub fn tenancy(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenancy"))
        .args(args)
        .env("DATABASE_URL", url)
        .stdin(Stdio::null())
        .output()
        .expect("the tenancy binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn assert_ok(output: &Output) {
    assert!(output.status.success(), "failed: {}\n{}", stdout(output), stderr(output));
}

/// Refused: exit code 1 and a message saying why.
pub fn assert_refused(output: &Output, why: &str) {
    assert_eq!(output.status.code(), Some(1), "expected a refusal, got {output:?}");
    assert!(stderr(output).contains(why), "expected {why:?} in: {}", stderr(output));
}

/// A scratch database with the extension, the migrations and the policies.
pub async fn migrated_database(label: &str) -> ScratchDatabase {
    let db = ScratchDatabase::create(label).await;
    assert_ok(&tenancy(&db.url(), &["migrate"]));
    db
}
