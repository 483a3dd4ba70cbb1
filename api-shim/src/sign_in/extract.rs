//! What sign-in's handlers take from a request, refusing in GoTrue's shape: a JSON body (400
//! when it is not JSON of the endpoint's form, 413 when too large), who is calling (address,
//! user agent, `X-Tenant-ID`), and a signed-in session (a bearer access token of ours).
use super::error::AuthError;
use super::SignIn;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AuthError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| match rejection.status() {
            axum::http::StatusCode::PAYLOAD_TOO_LARGE => AuthError::TooLarge,
            _ => AuthError::BadJson(rejection.body_text()),
        })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| AuthError::BadJson(e.to_string()))
    }
}

/// Who calls: the keys of the per-address throttle, and what a session records.
pub struct Caller {
    /// The peer address (behind a proxy, the proxy's: see the README).
    pub address: String,
    pub user_agent: Option<String>,
    /// `X-Tenant-ID`: the tenant a sign-in, sign-up or refresh is for (auth-js sends the
    /// client's `headers`).
    pub tenant: Option<Uuid>,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AuthError> {
        let address =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or("unknown".into(), |c| c.0.ip().to_string());
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let tenant = header("x-tenant-id")
            .map(|t| Uuid::parse_str(t.trim()).map_err(|_| AuthError::Validation("X-Tenant-ID must be a UUID".into())))
            .transpose()?;
        Ok(Caller { address, user_agent: header("user-agent"), tenant })
    }
}

/// A bearer access token issued here, verified (signature, expiry, audience): its session and
/// claims. Whether the session still lives is the database's to say (`auth.session`).
pub struct SignedIn {
    pub session_id: Uuid,
}

impl FromRequestParts<Arc<SignIn>> for SignedIn {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<SignIn>) -> Result<Self, AuthError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(AuthError::NoAuthorization)?;
        let audience = super::tokens::audience(&state.app.config);
        let now = super::tokens::now() as i64;
        let claims = crate::jwt::verify(state.config.keys.verifying(), token, Some(&audience), now)
            .map_err(|e| AuthError::BadJwt(format!("{e:?}")))?;
        let session_id = claims
            .get("session_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| AuthError::BadJwt("no session_id claim".into()))?;
        Ok(SignedIn { session_id })
    }
}
