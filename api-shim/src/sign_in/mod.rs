//! Sign-in at `/auth/v1`, spoken the way `@supabase/auth-js` expects (GoTrue's API): sign-up,
//! the password and refresh-token grants, sign-out, the user, invitations, recovery, sessions,
//! settings and the JWKS. Identities and secrets live in schema `auth`, reached only through its
//! definer functions (V13__sign_in.sql); tokens are ES256 (`keys.rs`, `tokens.rs`).
mod discovery;
pub mod error;
mod extract;
mod grants;
mod invitations;
pub mod keys;
mod mail;
pub mod passwords;
mod throttle;
pub mod tokens;
mod user;

use crate::config::SignInConfig;
use crate::state::AppState;
use axum::routing::{delete, get, post};
use axum::Router;
use error::AuthError;
use extract::Caller;
use serde_json::Value;
use std::sync::Arc;
use throttle::Throttle;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Failed sign-ins an account or an address may have before backoff starts.
const FREE_FAILURES: u32 = 5;
/// Sign-ups and recoveries an account or an address may ask before backoff starts.
const FREE_SENDS: u32 = 5;

pub struct SignIn {
    pub app: Arc<AppState>,
    pub config: SignInConfig,
    failures: Throttle,
    sends: Throttle,
    mailer: Option<mail::Mailer>,
}

impl SignIn {
    /// A call of one of schema auth's functions returning jsonb (NULL: `Value::Null`).
    async fn call(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Value, AuthError> {
        let row = self.query(sql, params).await?.into_iter().next();
        Ok(row.and_then(|r| r.get::<_, Option<Value>>(0)).unwrap_or(Value::Null))
    }

    /// The rows of `sql`, prepared once per connection: one round trip per call after that.
    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, AuthError> {
        let client = self.app.pool.get().await.map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let statement = client.prepare_cached(sql).await.map_err(AuthError::from_db)?;
        client.query(&statement, params).await.map_err(AuthError::from_db)
    }

    /// Refuses while `keys` wait in `throttle`.
    fn not_throttled(throttle: &Throttle, keys: &[String]) -> Result<(), AuthError> {
        match throttle.wait_any(keys) {
            Some(wait) => Err(AuthError::Throttled(wait.as_secs_f64().ceil() as u64)),
            None => Ok(()),
        }
    }

    /// Counts a sign-up or recovery request against its account and address, refused while
    /// either waits.
    fn count_send(&self, caller: &Caller, email: &str) -> Result<(), AuthError> {
        let keys = throttle_keys(caller, email);
        SignIn::not_throttled(&self.sends, &keys)?;
        keys.iter().for_each(|key| self.sends.count(key));
        Ok(())
    }
}

/// What a request about `email` counts against: the account and the caller's address.
fn throttle_keys(caller: &Caller, email: &str) -> [String; 2] {
    [format!("account:{email}"), format!("address:{}", caller.address)]
}

/// The `/auth/v1` routes when TENANCY_AUTH_KEYS_FILE is set; none otherwise.
pub fn router(app: &Arc<AppState>) -> Router<Arc<AppState>> {
    let Some(config) = app.config.sign_in.clone() else { return Router::new() };
    let mailer = match mail::Mailer::new(&config) {
        Ok(mailer) => mailer,
        Err(e) => {
            tracing::error!(error = %e, "sign-in mail is off");
            None
        }
    };
    let state = Arc::new(SignIn {
        app: app.clone(),
        config,
        failures: Throttle::new(FREE_FAILURES),
        sends: Throttle::new(FREE_SENDS),
        mailer,
    });
    Router::new()
        .route("/signup", post(grants::sign_up))
        .route("/token", post(grants::token))
        .route("/logout", post(grants::sign_out))
        .route("/user", get(user::get_user).put(user::update_user))
        .route("/sessions", get(user::sessions))
        .route("/sessions/{id}", delete(user::revoke_session))
        .route("/tenant/sessions", get(user::tenant_sessions))
        .route("/invite", post(invitations::invite))
        .route("/recover", post(invitations::recover))
        .route("/verify", post(invitations::verify))
        .route("/settings", get(discovery::settings))
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .with_state(state)
}
