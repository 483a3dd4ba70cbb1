//! `ApiRequest`: everything a REST handler needs to know about a request before it plans,
//! built by one extractor. Taking it is how a handler gets the caller's identity, so no handler
//! can skip authentication, the `X-Tenant-Id` check or the tenant's rate limit.
use crate::accept::Accept;
use crate::auth::{self, Identity, TenantTables};
use crate::error::ApiError;
use crate::prefer::{self, Preferences};
use crate::query_grammar::{self, QueryParams};
use crate::request_id::RequestId;
use crate::sql_builder::Media;
use crate::state::AppState;
use crate::tx::RequestSettings;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use serde_json::{Map, Value};
use std::sync::Arc;

pub struct ApiRequest {
    pub method: Method,
    pub identity: Identity,
    /// The exposed schema the request addresses (`Accept-Profile` / `Content-Profile`).
    pub schema: String,
    /// The schema was negotiated (a profile header, or more than one exposed schema): the
    /// answer's body names it in `Content-Profile`, as PostgREST's does.
    pub negotiated_profile: bool,
    pub query: QueryParams,
    pub prefs: Preferences,
    /// What the `Accept` header asks the answer to be.
    pub accept: Accept,
    /// The `Range` header's first and last row (a GET's; other methods ignore it).
    pub range: Option<(u64, Option<u64>)>,
    /// The request as PostgreSQL sees it (`request.*` settings, tenant, role).
    pub settings: RequestSettings,
    pub request_id: RequestId,
}

impl ApiRequest {
    /// What `Content-Profile` the answer's body carries, if any.
    pub fn answer_profile(&self) -> Option<String> {
        self.negotiated_profile.then(|| self.schema.clone())
    }

    /// What a table's or a view's answer is (406 when `Accept` names nothing it can be).
    pub fn media(&self) -> Result<Media, ApiError> {
        self.accept.media()
    }

    /// GET and HEAD: the request reads (a read-only transaction).
    pub fn reads(&self) -> bool {
        matches!(self.method, Method::GET | Method::HEAD)
    }
}

impl FromRequestParts<Arc<AppState>> for ApiRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let request_id = RequestId::from_request_parts(parts, state).await.unwrap_or_else(|never| match never {});
        build(parts, state, request_id)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn build(parts: &Parts, state: &AppState, request_id: RequestId) -> Result<ApiRequest, ApiError> {
    let headers = &parts.headers;
    let identity = identify(parts, state)?;
    let reads = matches!(parts.method, Method::GET | Method::HEAD);
    let profile = header(headers, if reads { "accept-profile" } else { "content-profile" });
    let negotiated_profile = profile.is_some() || state.config.db_schemas.len() != 1;
    let schema = schema(state, profile)?;
    let query = query_grammar::parse_query(parts.uri.query().unwrap_or(""))?;
    if query.uses_aggregates() && !state.config.aggregates_enabled {
        return Err(ApiError::AggregatesDisabled);
    }
    let prefs = preferences(headers)?;
    let accept = Accept::parse(header(headers, "accept"));
    // RFC 9110, as PostgREST reads it: the Range header counts for GET only.
    let range = match parts.method {
        Method::GET => header(headers, "range").map(prefer::parse_range_header).transpose()?,
        _ => None,
    };
    let settings = RequestSettings::new(
        &identity,
        parts.method.as_str(),
        parts.uri.path(),
        headers_json(headers),
        state.config.statement_timeout_ms,
        auth::subdomain(header(headers, "host"), state.config.base_domain.as_deref()),
    )
    .in_schema(&schema)
    .with_cookies(cookies_json(headers));
    Ok(ApiRequest {
        method: parts.method.clone(),
        identity,
        schema,
        negotiated_profile,
        query,
        prefs,
        accept,
        range,
        settings,
        request_id,
    })
}

/// Who is asking: the token, the `X-Tenant-Id` it must agree with, and the tenant's share of
/// the rate limit. The tenant is noted for the request's log line and metrics.
fn identify(parts: &Parts, state: &AppState) -> Result<Identity, ApiError> {
    let tenant_tables = match state.schema().tenant_tables {
        true => TenantTables::Present,
        false => TenantTables::Absent,
    };
    let identity = auth::authenticate_in(&state.config, header(&parts.headers, "authorization"), tenant_tables)?;
    auth::check_tenant_header(&identity, header(&parts.headers, "x-tenant-id"))?;
    if let Some(noted) = parts.extensions.get::<crate::observe::RequestTenant>() {
        noted.set(identity.tenant);
    }
    if let Some(tenant) = identity.tenant {
        state.metrics.saw_tenant(tenant);
        if let Some(limiter) = &state.rate_limiter {
            limiter.check(tenant).map_err(|wait| ApiError::RateLimited(wait.as_secs_f64().ceil().max(1.0) as u64))?;
        }
    }
    Ok(identity)
}

/// The profile header's schema, which must be exposed; none: the first exposed schema.
fn schema(state: &AppState, profile: Option<&str>) -> Result<String, ApiError> {
    match profile {
        None => Ok(state.config.db_schemas.first().cloned().unwrap_or_else(|| "public".into())),
        Some(s) if state.config.db_schemas.iter().any(|e| e == s) => Ok(s.to_string()),
        Some(s) => {
            Err(ApiError::UnacceptableSchema { schema: s.to_string(), exposed: state.config.db_schemas.clone() })
        }
    }
}

fn preferences(headers: &HeaderMap) -> Result<Preferences, ApiError> {
    let prefer: Vec<&str> = headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).collect();
    let prefs = prefer::parse_prefer(&prefer);
    match prefs.strict_error() {
        Some(why) => Err(ApiError::InvalidPreferences(why)),
        None => Ok(prefs),
    }
}

/// `request.headers` for the database: every header but the token, names lower-cased.
/// `Cookie: a=1; b=2` as `{"a":"1","b":"2"}`, for `request.cookies` as PostgREST sets it.
fn cookies_json(headers: &HeaderMap) -> String {
    let map: Map<String, Value> = headers
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(name, value)| (name.trim().to_string(), Value::String(value.trim().to_string())))
        .collect();
    Value::Object(map).to_string()
}

fn headers_json(headers: &HeaderMap) -> String {
    let map: Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| *name != "authorization")
        .filter_map(|(name, value)| Some((name.as_str().to_string(), Value::String(value.to_str().ok()?.to_string()))))
        .collect();
    Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_as_request_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "acookie=cookievalue;secondcookie=another=value; bare".parse().unwrap());
        assert_eq!(cookies_json(&headers), r#"{"acookie":"cookievalue","secondcookie":"another=value"}"#);
        assert_eq!(cookies_json(&HeaderMap::new()), "{}");
    }

    #[test]
    fn the_token_never_reaches_request_headers() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer secret".parse().unwrap());
        h.insert("X-Custom", "v".parse().unwrap());
        assert_eq!(headers_json(&h), r#"{"x-custom":"v"}"#);
    }
}
