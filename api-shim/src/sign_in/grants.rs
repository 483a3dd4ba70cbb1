//! Sessions begin and go on: sign-up, the password grant, the refresh-token grant (which may
//! switch to another of the user's tenants), and sign-out.
use super::error::AuthError;
use super::extract::{Caller, JsonBody, SignedIn};
use super::tokens::{self, Grant};
use super::{passwords, SignIn};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use uuid::Uuid;

/// An email as stored: trimmed, lower case, something@something, at most 254 characters.
pub fn email(raw: Option<String>) -> Result<String, AuthError> {
    let email = raw.unwrap_or_default().trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    match (email.is_empty(), valid) {
        (true, _) => Err(AuthError::Validation("An email address is required".into())),
        (false, false) => Err(AuthError::Validation("Unable to validate email address: invalid format".into())),
        (false, true) => Ok(email),
    }
}

fn password(raw: Option<String>) -> Result<String, AuthError> {
    raw.filter(|p| !p.is_empty()).ok_or_else(|| AuthError::Validation("A password is required".into()))
}

/// The tenant asked for: `tenant_id` in the body (or in sign-up's `data`), else `X-Tenant-ID`.
fn wanted_tenant(body: Option<&Value>, caller: &Caller) -> Result<Option<Uuid>, AuthError> {
    match body {
        None | Some(Value::Null) => Ok(caller.tenant),
        Some(Value::String(s)) => {
            Uuid::parse_str(s).map(Some).map_err(|_| AuthError::Validation("tenant_id must be a UUID".into()))
        }
        Some(_) => Err(AuthError::Validation("tenant_id must be a UUID".into())),
    }
}

impl SignIn {
    pub(super) fn session(&self, grant: Value, refresh_token: &str) -> Json<Value> {
        let grant = Grant::from_json(grant);
        Json(tokens::session_json(&self.app.config, &self.config, &grant, refresh_token))
    }
}

#[derive(Deserialize)]
pub struct SignUp {
    email: Option<String>,
    password: Option<String>,
    #[serde(default)]
    data: Map<String, Value>,
}

/// `POST /signup`: a new identity in a tenant open to sign-up, signed in at once (the address
/// is not confirmed by mail: GoTrue's autoconfirm).
pub async fn sign_up(
    State(state): State<Arc<SignIn>>,
    caller: Caller,
    JsonBody(body): JsonBody<SignUp>,
) -> Result<Json<Value>, AuthError> {
    let email = email(body.email)?;
    let password = password(body.password)?;
    state.count_send(&caller, &email)?;
    let mut metadata = body.data;
    let tenant = wanted_tenant(metadata.remove("tenant_id").as_ref(), &caller)?
        .ok_or_else(|| AuthError::Validation("Sign-up needs the tenant: data.tenant_id or X-Tenant-ID".into()))?;
    passwords::check_strength(&password)?;
    let hash = passwords::hash(password).await?;
    let (refresh_token, digest) = tokens::secret();
    let grant = state
        .call(
            "SELECT auth.sign_up($1, $2, $3, $4, $5, $6)",
            &[&email, &hash, &Value::Object(metadata), &tenant, &digest, &caller.user_agent],
        )
        .await?;
    Ok(state.session(grant, &refresh_token))
}

#[derive(Deserialize)]
pub struct GrantType {
    grant_type: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenRequest {
    email: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    tenant_id: Option<Value>,
}

/// `POST /token?grant_type=password|refresh_token`.
pub async fn token(
    State(state): State<Arc<SignIn>>,
    Query(query): Query<GrantType>,
    caller: Caller,
    JsonBody(body): JsonBody<TokenRequest>,
) -> Result<Json<Value>, AuthError> {
    let tenant = wanted_tenant(body.tenant_id.as_ref(), &caller)?;
    match query.grant_type.as_deref() {
        Some("password") => password_grant(&state, &caller, body, tenant).await,
        Some("refresh_token") => refresh_grant(&state, body, tenant).await,
        other => Err(AuthError::Validation(format!("unsupported_grant_type: {}", other.unwrap_or("none")))),
    }
}

/// The same answer, after the same argon2 work, for an unknown email and a wrong password;
/// failures count against the account and the address.
async fn password_grant(
    state: &SignIn,
    caller: &Caller,
    body: TokenRequest,
    tenant: Option<Uuid>,
) -> Result<Json<Value>, AuthError> {
    let email = email(body.email)?;
    let password = password(body.password)?;
    let [account, address] = super::throttle_keys(caller, &email);
    SignIn::not_throttled(&state.failures, &[account.clone(), address.clone()])?;
    let row = state.query("SELECT * FROM auth.password_of($1)", &[&email]).await?.into_iter().next();
    let (identity, stored): (Option<Uuid>, Option<String>) = row.map_or((None, None), |r| (Some(r.get(0)), r.get(1)));
    if !passwords::verify(password, stored).await? {
        state.failures.count(&address);
        state.failures.count(&account);
        return Err(AuthError::InvalidCredentials);
    }
    state.failures.clear(&account);
    let (refresh_token, digest) = tokens::secret();
    let grant =
        state.call("SELECT auth.sign_in($1, $2, $3, $4)", &[&identity, &tenant, &digest, &caller.user_agent]).await?;
    Ok(state.session(grant, &refresh_token))
}

/// Spends the refresh token for a new one (rotation); the database ends the session when a
/// spent one comes back or the membership is gone, and the answer says so after it committed.
async fn refresh_grant(state: &SignIn, body: TokenRequest, tenant: Option<Uuid>) -> Result<Json<Value>, AuthError> {
    let spent = body
        .refresh_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthError::Validation("A refresh_token is required".into()))?;
    let (refresh_token, digest) = tokens::secret();
    let rows =
        state.query("SELECT * FROM auth.refresh($1, $2, $3)", &[&tokens::digest(&spent), &digest, &tenant]).await?;
    let row = rows.first().ok_or_else(|| AuthError::Internal("auth.refresh answered no row".into()))?;
    match row.get::<_, Option<&str>>("refused") {
        Some("reused") => Err(AuthError::RefreshTokenReused),
        Some("ended") => Err(AuthError::NotMember),
        Some(other) => Err(AuthError::Internal(format!("auth.refresh refused: {other}"))),
        None => {
            let grant = Grant::from_row(row);
            Ok(Json(tokens::session_json(&state.app.config, &state.config, &grant, &refresh_token)))
        }
    }
}

#[derive(Deserialize)]
pub struct Scope {
    scope: Option<String>,
}

/// `POST /logout?scope=local|global|others`: 204, also when the session had already ended.
pub async fn sign_out(
    State(state): State<Arc<SignIn>>,
    signed_in: SignedIn,
    Query(query): Query<Scope>,
) -> Result<StatusCode, AuthError> {
    let scope = query.scope.unwrap_or_else(|| "global".into());
    if !["local", "global", "others"].contains(&scope.as_str()) {
        return Err(AuthError::Validation("scope must be one of local, global, others".into()));
    }
    state.call("SELECT to_jsonb(auth.sign_out($1, $2))", &[&signed_in.session_id, &scope]).await?;
    Ok(StatusCode::NO_CONTENT)
}
