//! Sign-in's errors in GoTrue's body shape — `{"code": <status>, "error_code": "...", "msg":
//! "..."}` — with GoTrue's statuses and codes (auth-js branches on `error_code`). The
//! database's refusals arrive as SQLSTATEs of class TA (V13__sign_in.sql, V16). A 5xx body is
//! generic; its cause goes to the request log.
use crate::error::ErrorCause;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub enum AuthError {
    /// The body is not JSON, or not the JSON this endpoint takes.
    BadJson(String),
    /// The body is larger than TENANCY_MAX_BODY_BYTES.
    TooLarge,
    /// A field missing or of the wrong form.
    Validation(String),
    /// Wrong password or unknown email: one answer for both.
    InvalidCredentials,
    WeakPassword,
    EmailExists,
    /// The tenant takes members by invitation only.
    SignupDisabled,
    /// The identity is not a member of the tenant asked for (TA001).
    NotMember,
    /// The tenant is suspended (TA002).
    TenantSuspended,
    /// A platform account may not join a tenant (TA012: an invitation of its email).
    PlatformAccount,
    UserDisabled,
    RefreshTokenNotFound,
    /// A spent refresh token came back: its session is now ended.
    RefreshTokenReused,
    /// The session of the token is over (signed out, revoked, membership removed).
    SessionEnded,
    /// `DELETE /sessions/{id}` of a session that is not the caller's to end, or not live.
    SessionNotFound,
    NoAuthorization,
    /// The bearer token is not one of ours, or not valid now.
    BadJwt(String),
    NotAdmin,
    /// An invitation or recovery code that is wrong, spent or expired.
    CodeInvalid,
    UnknownTenantRole,
    /// Too many attempts: retry after this many seconds.
    Throttled(u64),
    /// Mail is needed and TENANCY_AUTH_SMTP_URL is not set.
    MailDisabled,
    Unavailable(String),
    Internal(String),
}

impl AuthError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        use AuthError::*;
        let (status, code, msg): (StatusCode, &str, String) = match self {
            BadJson(why) => {
                (StatusCode::BAD_REQUEST, "bad_json", format!("Could not parse request body as JSON: {why}"))
            }
            TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request_entity_too_large", "Request body too large".into()),
            Validation(why) => (StatusCode::BAD_REQUEST, "validation_failed", why.clone()),
            InvalidCredentials => (StatusCode::BAD_REQUEST, "invalid_credentials", "Invalid login credentials".into()),
            WeakPassword => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "weak_password",
                format!("Password should be at least {} characters.", super::passwords::MIN_LENGTH),
            ),
            EmailExists => (StatusCode::UNPROCESSABLE_ENTITY, "user_already_exists", "User already registered".into()),
            SignupDisabled => (
                StatusCode::FORBIDDEN,
                "signup_disabled",
                "Signups not allowed for this tenant: ask for an invitation".into(),
            ),
            NotMember => (StatusCode::FORBIDDEN, "tenant_not_allowed", "Not a member of this tenant".into()),
            TenantSuspended => (StatusCode::FORBIDDEN, "tenant_suspended", "The tenant is suspended".into()),
            PlatformAccount => {
                (StatusCode::FORBIDDEN, "tenant_not_allowed", "A platform account cannot join a tenant".into())
            }
            UserDisabled => (StatusCode::BAD_REQUEST, "user_banned", "User is banned".into()),
            RefreshTokenNotFound => (
                StatusCode::BAD_REQUEST,
                "refresh_token_not_found",
                "Invalid Refresh Token: Refresh Token Not Found".into(),
            ),
            RefreshTokenReused => (
                StatusCode::BAD_REQUEST,
                "refresh_token_already_used",
                "Invalid Refresh Token: Already Used (the session is revoked)".into(),
            ),
            SessionEnded => (
                StatusCode::FORBIDDEN,
                "session_not_found",
                "Session from session_id claim in JWT does not exist".into(),
            ),
            SessionNotFound => (StatusCode::NOT_FOUND, "session_not_found", "No such live session".into()),
            NoAuthorization => {
                (StatusCode::UNAUTHORIZED, "no_authorization", "This endpoint requires a Bearer token".into())
            }
            BadJwt(why) => {
                (StatusCode::FORBIDDEN, "bad_jwt", format!("invalid JWT: unable to parse or verify signature, {why}"))
            }
            NotAdmin => {
                (StatusCode::FORBIDDEN, "not_admin", "User not allowed: only a tenant admin may do this".into())
            }
            CodeInvalid => (StatusCode::FORBIDDEN, "otp_expired", "Token has expired or is invalid".into()),
            UnknownTenantRole => (StatusCode::BAD_REQUEST, "validation_failed", "Unknown tenant role".into()),
            Throttled(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "over_request_rate_limit",
                "Request rate limit reached: retry after the time in Retry-After".into(),
            ),
            MailDisabled => {
                (StatusCode::NOT_IMPLEMENTED, "feature_disabled", "Mail is not configured on this server".into())
            }
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unexpected_failure",
                "The database is unavailable; retry later".into(),
            ),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "unexpected_failure", "Unexpected failure".into()),
        };
        (status, code, msg)
    }

    /// A database refusal by its SQLSTATE (class TA: V13__sign_in.sql, V16); anything else is ours.
    pub fn from_db(error: tokio_postgres::Error) -> AuthError {
        match error.code().map(|c| c.code()) {
            Some("TA001") => AuthError::NotMember,
            Some("TA002" | "TN002") => AuthError::TenantSuspended,
            Some("TA003") => AuthError::EmailExists,
            Some("TA004") => AuthError::SignupDisabled,
            Some("TA005") => AuthError::RefreshTokenNotFound,
            Some("TA007") => AuthError::SessionEnded,
            Some("TA008") => AuthError::CodeInvalid,
            Some("TA009") => AuthError::NotAdmin,
            Some("TA010") => AuthError::UserDisabled,
            Some("TA011") => AuthError::UnknownTenantRole,
            Some("TA012") => AuthError::PlatformAccount,
            _ if error.is_closed() || error.as_db_error().is_none() => AuthError::Unavailable(error.to_string()),
            _ => AuthError::Internal(format!("{error:?}")),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code, msg) = self.parts();
        let body = json!({"code": status.as_u16(), "error_code": code, "msg": msg});
        let mut response = (status, axum::Json(body)).into_response();
        match self {
            AuthError::Throttled(seconds) => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            AuthError::Internal(cause) | AuthError::Unavailable(cause) => {
                response.extensions_mut().insert(ErrorCause(cause));
            }
            _ => {}
        }
        response
    }
}
