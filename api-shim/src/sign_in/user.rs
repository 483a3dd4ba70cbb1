//! The signed-in user: who they are (`GET /user`), their password and metadata (`PUT /user`),
//! their live sessions (listed, revoked), and a tenant admin's view of the tenant's sessions.
use super::error::AuthError;
use super::extract::{JsonBody, SignedIn};
use super::tokens::{self, Grant};
use super::{passwords, SignIn};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use uuid::Uuid;

/// `GET /user`: the user of a live session (403 session_not_found once it ended).
pub async fn get_user(State(state): State<Arc<SignIn>>, signed_in: SignedIn) -> Result<Json<Value>, AuthError> {
    let grant = Grant::from_json(state.call("SELECT auth.session($1)", &[&signed_in.session_id]).await?);
    Ok(Json(tokens::user_json(&state.app.config, &state.config, &grant)))
}

#[derive(Deserialize)]
pub struct UserUpdate {
    email: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
}

/// `PUT /user`: a new password (the user's other sessions end) and metadata merged in.
pub async fn update_user(
    State(state): State<Arc<SignIn>>,
    signed_in: SignedIn,
    JsonBody(body): JsonBody<UserUpdate>,
) -> Result<Json<Value>, AuthError> {
    if body.email.is_some() {
        return Err(AuthError::Validation("Changing the email address is not supported".into()));
    }
    let hash = match body.password {
        Some(password) => {
            passwords::check_strength(&password)?;
            Some(passwords::hash(password).await?)
        }
        None => None,
    };
    let metadata = body.data.map(Value::Object);
    state.call("SELECT auth.update_user($1, $2, $3)", &[&signed_in.session_id, &hash, &metadata]).await?;
    get_user(State(state), signed_in).await
}

/// `GET /sessions`: the user's live sessions (`current` marks this one).
pub async fn sessions(State(state): State<Arc<SignIn>>, signed_in: SignedIn) -> Result<Json<Value>, AuthError> {
    state.call("SELECT auth.session($1)", &[&signed_in.session_id]).await?;
    Ok(Json(state.call("SELECT auth.sessions_of($1)", &[&signed_in.session_id]).await?))
}

/// `GET /tenant/sessions`: for a tenant admin, every live session in the tenant.
pub async fn tenant_sessions(State(state): State<Arc<SignIn>>, signed_in: SignedIn) -> Result<Json<Value>, AuthError> {
    Ok(Json(state.call("SELECT auth.tenant_sessions($1)", &[&signed_in.session_id]).await?))
}

/// `DELETE /sessions/{id}`: ends one of the user's sessions, or (a tenant admin) one in the
/// tenant; 404 for any other.
pub async fn revoke_session(
    State(state): State<Arc<SignIn>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, AuthError> {
    let id = Uuid::parse_str(&id).map_err(|_| AuthError::Validation("a session id is a UUID".into()))?;
    match state.call("SELECT to_jsonb(auth.revoke_session($1, $2))", &[&signed_in.session_id, &id]).await? {
        Value::Bool(true) => Ok(StatusCode::NO_CONTENT),
        _ => Err(AuthError::SessionNotFound),
    }
}
