//! `POST`, `PATCH`, `PUT` and `DELETE /{resource}`: plan the write, run it, answer with what
//! `Prefer: return=` asks.
use super::{content_type, execute, relation};
use crate::body::Payload;
use crate::content_location::encode;
use crate::error::ApiError;
use crate::plan;
use crate::plan_types::WritePlan;
use crate::prefer::{Action, Preferences, Resolution, Return};
use crate::query_grammar::QueryParams;
use crate::request::ApiRequest;
use crate::response::{self, Expectation, Outcome};
use crate::routing;
use crate::schema_cache::{Relation, SchemaCache};
use crate::sql_builder::{self, Media};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

type Planner = fn(&SchemaCache, &Relation, &QueryParams, &Preferences, Option<Value>) -> Result<WritePlan, ApiError>;

pub async fn create(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
    Payload(body): Payload,
) -> Result<Response, ApiError> {
    write(&state, &resource, req, Some(body), Action::Insert { keyed: false }, plan::insert).await
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
    Payload(body): Payload,
) -> Result<Response, ApiError> {
    write(&state, &resource, req, Some(body), Action::Update, plan::update).await
}

pub async fn replace(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
    Payload(body): Payload,
) -> Result<Response, ApiError> {
    write(&state, &resource, req, Some(body), Action::Put, plan::put).await
}

pub async fn remove(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: ApiRequest,
) -> Result<Response, ApiError> {
    write(&state, &resource, req, None, Action::Delete, plan::delete).await
}

async fn write(
    state: &AppState,
    resource: &str,
    req: ApiRequest,
    body: Option<Value>,
    action: Action,
    planner: Planner,
) -> Result<Response, ApiError> {
    let cache = state.schema();
    let relation = relation(&cache, &req.schema, resource)?;
    let mut plan = planner(&cache, relation, &req.query, &req.prefs, body)?;
    if state.config.safe_updates && plan.changes_every_row() {
        return Err(ApiError::UnfilteredWrite(req.method.to_string()));
    }
    // On Citus, an update or delete names the caller's tenant so that it goes to one shard (after
    // the check above, which judges the request's own filters); a one-row insert writes it.
    if let Some(tenant) = routing::tenant_condition(&cache, relation, req.identity.tenant) {
        plan.route(tenant);
    }
    let action = match action {
        Action::Insert { .. } => {
            Action::Insert { keyed: !relation.primary_key.is_empty() || req.query.on_conflict.is_some() }
        }
        other => other,
    };
    let (media, prefs, profile) = (req.media()?, req.prefs.clone(), req.answer_profile());
    // PostgREST counts max-affected for PATCH and DELETE, not for inserts.
    let counted = matches!(action, Action::Update | Action::Delete);
    let expect =
        Expectation { singular: media == Media::Object, max_affected: prefs.strict_max_affected().filter(|_| counted) };
    let mut statement = sql_builder::write(&plan, media);
    // Citus cannot plan the generic form of a statement that writes in a CTE ("could not create
    // distributed plan"): there the coordinator plans it with its values (README "Not yet on Citus").
    statement.generic_plan &= !cache.citus;
    let outcome = execute(state, req, statement, expect).await?;
    let overrides = outcome.overrides.clone();
    let mut response = written(action, resource, &prefs, media, outcome)?;
    response::finish(&mut response, prefs.applied(action, state.config.tx_end.overridable()), profile, &overrides)?;
    Ok(response)
}

/// The answer to a write, as PostgREST gives it: the rows (`return=representation`), the new
/// row's `Location` (`return=headers-only`), or no body and no `Content-Type`; 201 for an
/// insert, else 200 with rows and 204 without; `Content-Range` of the rows written (`*/*` for
/// inserts and deletes, `0-n/*` for updates; the count in place of `*` with `Prefer: count=`).
fn written(
    action: Action,
    resource: &str,
    prefs: &Preferences,
    media: Media,
    outcome: Outcome,
) -> Result<Response, ApiError> {
    let total = prefs.count.map(|_| outcome.page);
    let range = match action {
        Action::Update => Some(response::content_range(0, outcome.page, total)),
        Action::Put => None,
        _ => Some(response::content_range(0, 0, total)),
    };
    let representation = prefs.return_ == Some(Return::Representation);
    // A merging upsert (of a relation with a key) that inserted nothing (updated, or was offered
    // no row): 200; a PUT that inserted created: 201.
    let inserted = outcome.inserted.map(|n| n > 0);
    let status = match action {
        Action::Insert { keyed: true }
            if inserted != Some(true) && prefs.resolution == Some(Resolution::MergeDuplicates) =>
        {
            StatusCode::OK
        }
        Action::Insert { .. } => StatusCode::CREATED,
        Action::Put if representation && inserted == Some(true) => StatusCode::CREATED,
        _ if representation => StatusCode::OK,
        _ => StatusCode::NO_CONTENT,
    };
    if representation {
        return Ok(response::build(status, content_type(media), range, outcome.body));
    }
    let mut response = response::empty(status, range);
    if prefs.return_ == Some(Return::HeadersOnly) && status == StatusCode::CREATED {
        if let Some(location) = location(resource, outcome.body.as_deref()) {
            let value = HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?;
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    Ok(response)
}

/// `Location` of the first row written, from its primary key: `/employees?tenant_id=eq.…&id=eq.…`.
fn location(resource: &str, body: Option<&str>) -> Option<String> {
    let rows: Value = serde_json::from_str(body?).ok()?;
    let key = rows.get(0)?.as_object()?;
    let filters: Vec<String> = key
        .iter()
        .map(|(column, value)| {
            let value = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            format!("{}=eq.{}", encode(column), encode(&value))
        })
        .collect();
    (!filters.is_empty()).then(|| format!("/{}?{}", encode(resource), filters.join("&")))
}
