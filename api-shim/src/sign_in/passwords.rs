//! Passwords: argon2id (RFC 9106) with OWASP's parameters — 19 MiB, 2 passes, 1 lane — about
//! 25 ms of one core here (bench/sign_in.sh). Hashing runs on the blocking pool. An unknown
//! email is checked against a decoy hash of the same cost, so both refusals take as long.
use super::error::AuthError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;
/// Shorter is refused as weak (GoTrue's default minimum is 6; NIST SP 800-63B asks for 8).
pub const MIN_LENGTH: usize = 8;
/// Longer is refused: hashing cost must not be the caller's to choose.
pub const MAX_LENGTH: usize = 1024;

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid"))
}

pub fn check_strength(password: &str) -> Result<(), AuthError> {
    match password.chars().count() {
        n if n < MIN_LENGTH => Err(AuthError::WeakPassword),
        n if n > MAX_LENGTH => Err(AuthError::Validation(format!("Password must be at most {MAX_LENGTH} characters"))),
        _ => Ok(()),
    }
}

/// The PHC string of `password` (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub async fn hash(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|e| AuthError::Internal(format!("hashing task: {e}")))?
    .map_err(|e| AuthError::Internal(format!("argon2: {e}")))
}

/// Whether `password` matches `stored`; with no stored hash (unknown email, or an invited
/// person who set none yet) the decoy is checked, and the answer is no.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| decoy().to_string());
        let matches =
            PasswordHash::new(&stored).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok());
        known && matches
    })
    .await
    .map_err(|e| AuthError::Internal(format!("hashing task: {e}")))
}

fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(uuid::Uuid::new_v4().as_bytes(), &salt).expect("argon2 hashes").to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify("correct horse".into(), Some(stored.clone())).await.unwrap());
        assert!(!verify("correct horsf".into(), Some(stored)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap(), "no hash: never");
    }

    #[test]
    fn strength() {
        assert!(matches!(check_strength("short"), Err(AuthError::WeakPassword)));
        assert!(check_strength("long enough").is_ok());
        assert!(matches!(check_strength(&"x".repeat(MAX_LENGTH + 1)), Err(AuthError::Validation(_))));
    }
}
