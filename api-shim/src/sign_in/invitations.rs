//! Codes by mail: a tenant admin's invitation (`POST /invite`), a password recovery
//! (`POST /recover`), and spending either for a session (`POST /verify`, auth-js's
//! `verifyOtp`). The invitee or the forgetful then sets a password with `PUT /user`.
use super::error::AuthError;
use super::extract::{Caller, JsonBody, SignedIn};
use super::grants::email;
use super::mail::Purpose;
use super::{tokens, SignIn};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

#[derive(Deserialize)]
pub struct Invitation {
    email: Option<String>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
}

/// The tenant roles an invitation gives: `data.tenant_role` (a name or names), else `employee`.
fn invited_roles(data: Option<&Map<String, Value>>) -> Result<Vec<String>, AuthError> {
    let bad = || AuthError::Validation("data.tenant_role must be a tenant role name or a list of them".into());
    match data.and_then(|d| d.get("tenant_role")) {
        None | Some(Value::Null) => Ok(vec!["employee".into()]),
        Some(Value::String(role)) => Ok(vec![role.clone()]),
        Some(Value::Array(roles)) => roles.iter().map(|r| r.as_str().map(str::to_string).ok_or_else(bad)).collect(),
        Some(_) => Err(bad()),
    }
}

/// `POST /invite`: for a tenant admin's session; the code is mailed, never answered.
pub async fn invite(
    State(state): State<Arc<SignIn>>,
    signed_in: SignedIn,
    JsonBody(body): JsonBody<Invitation>,
) -> Result<Json<Value>, AuthError> {
    let mailer = state.mailer.as_ref().ok_or(AuthError::MailDisabled)?;
    let email = email(body.email)?;
    let roles = invited_roles(body.data.as_ref())?;
    let (code, digest) = tokens::secret();
    let valid_for = format!("{} seconds", state.config.code_seconds);
    let invited = state
        .call(
            "SELECT auth.invite($1, $2, $3, $4, $5::text::interval)",
            &[&signed_in.session_id, &email, &roles, &digest, &valid_for],
        )
        .await?;
    mailer.send(Purpose::Invite, &email, &code, invited["tenant_name"].as_str().unwrap_or("a tenant")).await?;
    Ok(Json(json!({
        "email": email, "aud": tokens::audience(&state.app.config), "role": "", "invited_at": now_rfc3339(),
        "app_metadata": {"tenant_id": invited["tenant_id"], "tenant_roles": roles}, "user_metadata": {},
    })))
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[derive(Deserialize)]
pub struct Recovery {
    email: Option<String>,
}

/// `POST /recover`: always `{}` at once, whether the address is known or not; the mail (if
/// any) leaves in the background so the answer's timing says nothing either.
pub async fn recover(
    State(state): State<Arc<SignIn>>,
    caller: Caller,
    JsonBody(body): JsonBody<Recovery>,
) -> Result<Json<Value>, AuthError> {
    let email = email(body.email)?;
    state.count_send(&caller, &email)?;
    if state.mailer.is_none() {
        return Err(AuthError::MailDisabled);
    }
    let background = state.clone();
    tokio::spawn(async move {
        if let Err(e) = mail_recovery(&background, &email).await {
            tracing::error!(error = ?e, "recovery mail not sent");
        }
    });
    Ok(Json(json!({})))
}

async fn mail_recovery(state: &SignIn, email: &str) -> Result<(), AuthError> {
    let (code, digest) = tokens::secret();
    let valid_for = format!("{} seconds", state.config.code_seconds);
    let known = state
        .call("SELECT to_jsonb(auth.start_recovery($1, $2, $3::text::interval))", &[&email, &digest, &valid_for])
        .await?;
    match (known, &state.mailer) {
        (Value::Bool(true), Some(mailer)) => mailer.send(Purpose::Recovery, email, &code, "").await,
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
pub struct Verification {
    #[serde(rename = "type")]
    kind: Option<String>,
    email: Option<String>,
    token: Option<String>,
}

/// `POST /verify` with `{type: "invite"|"recovery", email, token}`: a session. Wrong codes
/// count against the address, like wrong passwords.
pub async fn verify(
    State(state): State<Arc<SignIn>>,
    caller: Caller,
    JsonBody(body): JsonBody<Verification>,
) -> Result<Json<Value>, AuthError> {
    let kind = match body.kind.as_deref() {
        Some(kind @ ("invite" | "recovery")) => kind.to_string(),
        _ => return Err(AuthError::Validation("type must be invite or recovery".into())),
    };
    let email = email(body.email)?;
    let code =
        body.token.filter(|t| !t.is_empty()).ok_or_else(|| AuthError::Validation("A token is required".into()))?;
    let address = format!("address:{}", caller.address);
    SignIn::not_throttled(&state.failures, std::slice::from_ref(&address))?;
    let (refresh_token, digest) = tokens::secret();
    let granted = state
        .call(
            "SELECT auth.verify($1, $2, $3, $4, $5)",
            &[&kind, &email, &tokens::digest(&code), &digest, &caller.user_agent],
        )
        .await;
    match granted {
        Err(AuthError::CodeInvalid) => {
            state.failures.count(&address);
            Err(AuthError::CodeInvalid)
        }
        other => Ok(state.session(other?, &refresh_token)),
    }
}
