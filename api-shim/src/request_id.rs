//! `X-Request-ID`: taken from the client when it sends one (a sane one), generated otherwise,
//! and returned on every response. tower-http's layers set and return it (see `app.rs`); this
//! module drops a client's odd id first, and gives handlers and the log line the id as text.
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::Extensions;

pub const HEADER: &str = "x-request-id";

#[derive(Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id tower-http's `SetRequestId` put on the request.
    pub fn of(extensions: &Extensions) -> Option<RequestId> {
        let id = extensions.get::<tower_http::request_id::RequestId>()?;
        id.header_value().to_str().ok().map(|id| RequestId(id.to_string()))
    }
}

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// An id the client sent that is empty, too long or has characters a log line should not carry
/// is removed, so `SetRequestId` generates one instead.
pub async fn drop_unacceptable(mut request: Request) -> Request {
    let odd = request.headers().get_all(HEADER).iter().any(|v| !v.to_str().is_ok_and(acceptable));
    if odd {
        request.headers_mut().remove(HEADER);
    }
    request
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId::of(&parts.extensions).unwrap_or_else(|| RequestId(uuid::Uuid::new_v4().to_string())))
    }
}
