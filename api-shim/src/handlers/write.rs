//! `POST`, `PATCH`, `PUT` and `DELETE /{resource}`: plan the write, run it, answer with what
//! `Prefer: return=` asks.
use super::{content_type, execute, relation};
use crate::body::Payload;
use crate::error::{ApiError, Failure};
use crate::plan;
use crate::plan_types::WritePlan;
use crate::prefer::{Missing, Preferences, Return};
use crate::query_grammar::QueryParams;
use crate::request::ApiRequest;
use crate::response::{self, Expectation, Outcome};
use crate::schema_cache::{Relation, SchemaCache};
use crate::sql_builder::{self, Media};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

type Planner = fn(&SchemaCache, &Relation, &QueryParams, &Preferences, Option<Value>) -> Result<WritePlan, ApiError>;

pub async fn create(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
    Payload(body): Payload,
) -> Result<Response, Failure> {
    let fail = req.fail();
    write(&state, &resource, req, Some(body), StatusCode::CREATED, plan::insert).await.map_err(fail)
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
    Payload(body): Payload,
) -> Result<Response, Failure> {
    let fail = req.fail();
    write(&state, &resource, req, Some(body), StatusCode::OK, plan::update).await.map_err(fail)
}

pub async fn replace(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
    Payload(body): Payload,
) -> Result<Response, Failure> {
    let fail = req.fail();
    write(&state, &resource, req, Some(body), StatusCode::OK, plan::put).await.map_err(fail)
}

pub async fn remove(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
) -> Result<Response, Failure> {
    let fail = req.fail();
    write(&state, &resource, req, None, StatusCode::OK, plan::delete).await.map_err(fail)
}

async fn write(
    state: &AppState,
    resource: &str,
    req: ApiRequest,
    body: Option<Value>,
    status: StatusCode,
    planner: Planner,
) -> Result<Response, ApiError> {
    let cache = state.schema();
    let relation = relation(&cache, &req.schema, resource)?;
    let plan = planner(&cache, relation, &req.query, &req.prefs, body)?;
    if state.config.safe_updates && plan.changes_every_row() {
        return Err(ApiError::UnfilteredWrite(req.method.to_string()));
    }
    let (media, prefs, method) = (req.media, req.prefs.clone(), req.method.clone());
    // PostgREST counts max-affected for PATCH and DELETE, not for inserts.
    let counted = matches!(method, Method::PATCH | Method::DELETE);
    let expect =
        Expectation { singular: media == Media::Object, max_affected: prefs.strict_max_affected().filter(|_| counted) };
    let outcome = execute(state, req, sql_builder::write(&plan, media), expect).await?;
    let mut response = written(status, resource, &prefs, media, outcome)?;
    if method == Method::POST && prefs.missing == Some(Missing::Default) {
        response.headers_mut().insert("preference-applied", HeaderValue::from_static("missing=default"));
    }
    Ok(response)
}

/// The answer to a write: the rows (`return=representation`), the new row's `Location`
/// (`return=headers-only`), or nothing.
fn written(
    status: StatusCode,
    resource: &str,
    prefs: &Preferences,
    media: Media,
    outcome: Outcome,
) -> Result<Response, ApiError> {
    let range = Some(response::content_range(0, outcome.page, None));
    match prefs.return_ {
        Some(Return::Representation) => Ok(response::build(status, content_type(media), range, outcome.body)),
        Some(Return::HeadersOnly) if status == StatusCode::CREATED => {
            let mut response = response::build(status, response::JSON, range, None);
            if let Some(location) = location(resource, outcome.body.as_deref()) {
                let value = HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?;
                response.headers_mut().insert(header::LOCATION, value);
            }
            Ok(response)
        }
        _ if status == StatusCode::CREATED => Ok(response::build(status, response::JSON, range, None)),
        _ => Ok(response::build(StatusCode::NO_CONTENT, response::JSON, range, None)),
    }
}

/// `Location` of the first row written, from its primary key: `/employees?tenant_id=eq.…&id=eq.…`.
fn location(resource: &str, body: Option<&str>) -> Option<String> {
    let rows: Value = serde_json::from_str(body?).ok()?;
    let key = rows.get(0)?.as_object()?;
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let filters: Vec<String> = key
        .iter()
        .map(|(column, value)| {
            let value = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            format!("{}=eq.{}", encode(column), encode(&value))
        })
        .collect();
    (!filters.is_empty()).then(|| format!("/{}?{}", encode(resource), filters.join("&")))
}
