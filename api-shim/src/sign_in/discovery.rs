//! What a client reads before signing in: the settings (GoTrue's `/settings`) and the public
//! keys that verify access tokens (`/.well-known/jwks.json`, for other services).
use super::SignIn;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn settings(State(state): State<Arc<SignIn>>) -> Json<Value> {
    Json(json!({
        "external": {"email": true, "phone": false, "anonymous_users": false},
        // Sign-up is a tenant's choice (invitation only unless it opens it): not off here.
        "disable_signup": false,
        "mailer_autoconfirm": true,
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
        "mail_enabled": state.mailer.is_some(),
    }))
}

pub async fn jwks(State(state): State<Arc<SignIn>>) -> Json<Value> {
    Json(state.config.keys.public_set())
}
