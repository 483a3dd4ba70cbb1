//! The binary's sign-in commands, as scripts/up and an operator run them: `keys generate`
//! (kept when the file exists), `keys rotate`, and `password` (a hash from stdin).
use std::io::Write;
use std::process::{Command, Stdio};
use tenancy_api::sign_in::keys::SigningKeys;

fn tenancy_api(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenancy-api"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn keys_are_generated_once_and_rotated() {
    let file = std::env::temp_dir().join(format!("tenancy-cmd-keys-{}.json", std::process::id()));
    let path = file.to_str().unwrap();
    assert!(tenancy_api(&["keys", "generate", path], "").0);
    let first = SigningKeys::read(&file).unwrap().signing_kid().to_string();
    assert!(tenancy_api(&["keys", "generate", path], "").0);
    assert_eq!(SigningKeys::read(&file).unwrap().signing_kid(), first, "an existing file is kept");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "private keys readable by their owner only");
    assert!(tenancy_api(&["keys", "rotate", path], "").0);
    let rotated = SigningKeys::read(&file).unwrap();
    assert_eq!(rotated.kids().collect::<Vec<_>>()[0], first, "the old key still verifies");
    assert_ne!(rotated.signing_kid(), first, "the new key signs");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn password_prints_an_argon2id_hash_and_refuses_a_weak_password() {
    let (ok, out) = tenancy_api(&["password"], "a long enough password\n");
    assert!(ok && out.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{out}");
    let (ok, out) = tenancy_api(&["password"], "short\n");
    assert!(!ok && out.contains("a password has 8 to 1024 characters"), "{out}");
}
