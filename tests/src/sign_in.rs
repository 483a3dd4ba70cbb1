//! Sign-in under test: the server with its own signing keys (a file in the temp directory)
//! mailing through a local SMTP sink, and people made the way an operator makes them
//! (`auth.add_member`, `auth.add_platform_admin`, `auth.set_password_hash` as the database
//! owner).
use crate::api::{self, Api};
use crate::smtp_sink::SmtpSink;
use std::path::PathBuf;
use tokio_postgres::Client;
use uuid::Uuid;

pub struct SignInApi {
    pub api: Api,
    /// `<server>/auth/v1`: what auth-js is given as its url.
    pub auth_url: String,
    pub sink: SmtpSink,
    pub keys_file: PathBuf,
}

impl Drop for SignInApi {
    fn drop(&mut self) {
        // The server read its keys when it started.
        let _ = std::fs::remove_file(&self.keys_file);
    }
}

/// A fresh key file of one ES256 key.
pub fn key_file() -> PathBuf {
    let path = std::env::temp_dir().join(format!("tenancy-test-keys-{}.json", Uuid::new_v4()));
    tenancy_api::sign_in::keys::SigningKeys::generate().write(&path).unwrap();
    path
}

pub async fn start_with(keys_file: PathBuf, extra: &[(&str, &str)]) -> SignInApi {
    let sink = SmtpSink::start().await;
    let keys = keys_file.display().to_string();
    let smtp = sink.url();
    let mut vars = vec![("TENANCY_AUTH_KEYS_FILE", keys.as_str()), ("TENANCY_AUTH_SMTP_URL", smtp.as_str())];
    vars.extend_from_slice(extra);
    let api = api::start_with(&vars).await;
    SignInApi { auth_url: format!("{}/auth/v1", api.url), api, sink, keys_file }
}

pub async fn start() -> SignInApi {
    start_with(key_file(), &[]).await
}

/// An email no other test uses.
pub fn new_email() -> String {
    format!("{}@sign-in.example", crate::unique("p"))
}

/// Makes `email` a member of `tenant` with `roles` and the password `password`; its id.
pub async fn member(db: &Client, tenant: Uuid, email: &str, password: &str, roles: &[&str]) -> Uuid {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let id: Uuid = db.query_one("SELECT auth.add_member($1, $2, $3)", &[&tenant, &email, &roles]).await.unwrap().get(0);
    set_password(db, id, password).await;
    id
}

/// Makes `email` a platform account (role platform_admin, no tenant) with the password
/// `password`, as the database owner does; its id.
pub async fn platform_admin(db: &Client, email: &str, password: &str) -> Uuid {
    let id: Uuid = db.query_one("SELECT auth.add_platform_admin($1)", &[&email]).await.unwrap().get(0);
    set_password(db, id, password).await;
    id
}

async fn set_password(db: &Client, identity: Uuid, password: &str) {
    let hash = tenancy_api::sign_in::passwords::hash(password.to_string()).await.unwrap();
    db.execute("SELECT auth.set_password_hash($1, $2)", &[&identity, &hash]).await.unwrap();
}

/// The JSON claims of a JWT (not verified: for reading what the server issued).
pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
