//! `/{resource}`: a table or view of the exposed schema. Each handler runs the same steps:
//! who is asking → which schema → parse → plan → one statement → one transaction → response.
use crate::auth::{self, Identity};
use crate::config::TxEnd;
use crate::error::{ApiError, Failure};
use crate::plan;
pub use crate::plan::{CallInput, CallPlan};
use crate::prefer::{self, Missing, Preferences, Return, Tx};
use crate::query_grammar::{self, QueryParams};
use crate::request_id::RequestId;
use crate::response::{self, Expectation, Outcome};
use crate::schema_cache::{Relation, SchemaCache};
use crate::sql_builder::{self, Media, Statement};
use crate::state::AppState;
use crate::tx::{self, End, RequestSettings, TxError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value};
use std::sync::Arc;

/// What every handler learns from the request before it plans anything.
struct Incoming {
    identity: Identity,
    schema: String,
    params: QueryParams,
    prefs: Preferences,
    settings: RequestSettings,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `request.headers` for the database: every header but the token, names lower-cased.
fn headers_json(headers: &HeaderMap) -> String {
    let map: Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| *name != "authorization")
        .filter_map(|(name, value)| Some((name.as_str().to_string(), Value::String(value.to_str().ok()?.to_string()))))
        .collect();
    Value::Object(map).to_string()
}

fn relation<'a>(cache: &'a SchemaCache, schema: &str, name: &str) -> Result<&'a Relation, ApiError> {
    cache.relation(schema, name).ok_or_else(|| ApiError::UnknownRelation { schema: schema.into(), name: name.into() })
}

/// `Accept`: JSON (an array), PostgREST's single object, or CSV.
fn media(headers: &HeaderMap) -> Result<Media, ApiError> {
    let Some(accept) = header(headers, "accept") else { return Ok(Media::Json) };
    for media in accept.split(',').map(|m| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase()) {
        match media.as_str() {
            "application/json" | "*/*" | "application/*" | "" => return Ok(Media::Json),
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => return Ok(Media::Object),
            "text/csv" | "text/*" => return Ok(Media::Csv),
            _ => {}
        }
    }
    Err(ApiError::UnsupportedHeader {
        status: StatusCode::NOT_ACCEPTABLE,
        message: format!("None of these media types are available: {accept}"),
    })
}

fn content_type(media: Media) -> &'static str {
    match media {
        Media::Json => response::JSON,
        Media::Object => response::OBJECT,
        Media::Csv => response::CSV,
    }
}

/// How the transaction ends: the server's setting, which `Prefer: tx=` may override only
/// where the setting allows it.
fn end(state: &AppState, prefs: &Preferences) -> End {
    match (&state.config.tx_end, prefs.tx) {
        (TxEnd::CommitAllowOverride | TxEnd::RollbackAllowOverride, Some(Tx::Rollback)) => End::Rollback,
        (TxEnd::CommitAllowOverride | TxEnd::RollbackAllowOverride, Some(Tx::Commit)) => End::Commit,
        (TxEnd::Rollback | TxEnd::RollbackAllowOverride, _) => End::Rollback,
        (TxEnd::Commit | TxEnd::CommitAllowOverride, _) => End::Commit,
    }
}

async fn execute(
    state: &AppState,
    incoming: Incoming,
    statement: Statement,
    expect: Expectation,
) -> Result<Outcome, ApiError> {
    let (outcome, _) = run(state, incoming, statement, expect, None).await?;
    Ok(outcome)
}

/// A read (of a table, a view or a function's rows) with its total as `Prefer: count=` asks:
/// the planner's estimate comes from an `EXPLAIN` in the same transaction.
async fn execute_read(
    state: &AppState,
    incoming: Incoming,
    plan: &crate::plan_types::ReadPlan,
    media: Media,
    expect: Expectation,
) -> Result<Outcome, ApiError> {
    let explain = sql_builder::planned_count(plan);
    let (mut outcome, explained) = run(state, incoming, sql_builder::read(plan, media), expect, explain).await?;
    let planned = explained.as_ref().and_then(response::plan_rows);
    outcome.total = response::total(plan.count, outcome.total, planned);
    Ok(outcome)
}

async fn run(
    state: &AppState,
    incoming: Incoming,
    statement: Statement,
    expect: Expectation,
    explain: Option<Statement>,
) -> Result<(Outcome, Option<Value>), ApiError> {
    let options = tx::Options {
        end: end(state, &incoming.prefs),
        check: expect.check(),
        read_only: matches!(incoming.settings.method.as_str(), "GET" | "HEAD"),
        explain: explain.map(|e| (e.sql, e.params)),
    };
    let ran = tx::run(&state.pool, &state.setup_sql, incoming.settings, statement.sql, statement.params, options)
        .await
        .map_err(|e| match e {
            TxError::Pool(why) => ApiError::Unavailable(why),
            TxError::Refused(refusal) => refusal,
            TxError::Db(e) => match e.as_db_error() {
                Some(db) => ApiError::Database(Box::new(db.clone()), incoming.identity.authenticated),
                // No answer from PostgreSQL: the connection broke or the server is gone.
                None => ApiError::Unavailable(e.to_string()),
            },
        })?;
    Ok((Outcome::from_rows(&ran.rows)?, ran.plan))
}

fn fail(request_id: RequestId) -> impl FnOnce(ApiError) -> Failure {
    move |error| Failure { error, request_id: request_id.0 }
}

/// The parts of a request every handler reads.
pub struct Req {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request_id: RequestId,
    tenant: crate::observe::RequestTenant,
}

impl<S: Send + Sync> FromRequestParts<S> for Req {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let request_id = RequestId::from_request_parts(parts, state).await?;
        let tenant = parts.extensions.get::<crate::observe::RequestTenant>().cloned().unwrap_or_default();
        Ok(Req {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            request_id,
            tenant,
        })
    }
}

impl Req {
    /// Who is asking, in which schema, with what query and preferences.
    fn incoming(&self, state: &AppState, profile: &str) -> Result<Incoming, ApiError> {
        let identity = auth::authenticate(&state.config, header(&self.headers, "authorization"))?;
        auth::check_tenant_header(&identity, header(&self.headers, "x-tenant-id"))?;
        self.tenant.set(identity.tenant);
        if let Some(tenant) = identity.tenant {
            state.metrics.saw_tenant(tenant);
            if let Some(limiter) = &state.rate_limiter {
                limiter
                    .check(tenant)
                    .map_err(|wait| ApiError::RateLimited(wait.as_secs_f64().ceil().max(1.0) as u64))?;
            }
        }
        let schema = match header(&self.headers, profile) {
            None => state.config.db_schemas.first().cloned().unwrap_or_else(|| "public".into()),
            Some(s) if state.config.db_schemas.iter().any(|e| e == s) => s.to_string(),
            Some(s) => return Err(ApiError::UnacceptableSchema(s.to_string())),
        };
        let params = query_grammar::parse_query(self.uri.query().unwrap_or(""))?;
        let prefer: Vec<&str> = self.headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).collect();
        let prefs = prefer::parse_prefer(&prefer);
        if let Some(why) = prefs.strict_error() {
            return Err(ApiError::UnsupportedHeader { status: StatusCode::BAD_REQUEST, message: why });
        }
        let settings = RequestSettings::new(
            &identity,
            self.method.as_str(),
            self.uri.path(),
            headers_json(&self.headers),
            state.config.statement_timeout_ms,
            auth::subdomain(header(&self.headers, "host"), state.config.base_domain.as_deref()),
        );
        Ok(Incoming { identity, schema, params, prefs, settings })
    }
}

pub async fn read(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: Req,
) -> Result<Response, Failure> {
    async {
        let incoming = req.incoming(&state, "accept-profile")?;
        let media = media(&req.headers)?;
        let range = header(&req.headers, "range").map(prefer::parse_range_header).transpose()?;
        let cache = state.schema();
        let relation = relation(&cache, &incoming.schema, &resource)?;
        let plan = plan::read(&cache, relation, &incoming.params, &incoming.prefs, range, state.config.max_rows)?;
        // A read-only transaction: nothing to roll back, the check can wait for the answer.
        let outcome = execute_read(&state, incoming, &plan, media, Expectation::default()).await?;
        if media == Media::Object && outcome.page != 1 {
            return Err(ApiError::NotSingular(outcome.page));
        }
        let offset = plan.level.offset;
        let partial = outcome.total.is_some_and(|t| (offset as i64 + outcome.page) < t || offset > 0);
        let status = if partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
        let body = if req.method == Method::HEAD { None } else { outcome.body };
        Ok(response::build(
            status,
            content_type(media),
            Some(response::content_range(offset, outcome.page, outcome.total)),
            body,
        ))
    }
    .await
    .map_err(fail(req.request_id.clone()))
}

/// The request body, within the size limit.
fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(limit),
        _ => ApiError::InvalidBody(e.body_text()),
    })
}

/// Whether the body is CSV (`Content-Type: text/csv`, with or without parameters).
fn is_csv(headers: &HeaderMap) -> bool {
    header(headers, "content-type")
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/csv"))
}

/// A write's body: JSON, or (`Content-Type: text/csv`) CSV rows.
fn write_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Value, ApiError> {
    match is_csv(headers) {
        true => csv_body(&body_bytes(body, limit)?),
        false => json_body(body, limit),
    }
}

/// CSV as PostgREST reads it: a header line of column names, then rows with as many fields,
/// each an array element of an object keyed by the header; every value is a string (cast by
/// PostgreSQL to its column's type), except the unquoted or quoted text `NULL`, which is null.
/// An empty field is an empty string.
fn csv_body(bytes: &[u8]) -> Result<Value, ApiError> {
    let bad = |e: csv::Error| {
        let line = |p: Option<&csv::Position>| p.map_or(String::new(), |p| format!("line {}: ", p.line()));
        let why = match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
                format!("{}{len} fields where the header has {expected_len}", line(pos.as_ref()))
            }
            csv::ErrorKind::Utf8 { pos, .. } => format!("{}not UTF-8", line(pos.as_ref())),
            _ => e.to_string(),
        };
        ApiError::InvalidBody(format!("Invalid CSV body: {why}"))
    };
    // The reader would take an unclosed quote to run to the end of the body; quotes come in
    // pairs (`""` inside a quoted field too), so an odd number means one was never closed.
    if bytes.iter().filter(|b| **b == b'"').count() % 2 == 1 {
        return Err(ApiError::InvalidBody("Invalid CSV body: a quoted field is not closed".into()));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let names: Vec<String> = reader.headers().map_err(bad)?.iter().map(str::to_string).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(ApiError::InvalidBody(format!("Invalid CSV body: the header names \"{name}\" twice")));
        }
    }
    let mut rows = vec![];
    for record in reader.records() {
        let record = record.map_err(bad)?;
        let value = |field: &str| if field == "NULL" { Value::Null } else { Value::String(field.to_string()) };
        rows.push(Value::Object(names.iter().cloned().zip(record.iter().map(value)).collect()));
    }
    Ok(Value::Array(rows))
}

/// The request body as JSON, within the size limit (an empty body is `{}`).
fn json_body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Value, ApiError> {
    let bytes = body_bytes(body, limit)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidBody(format!("Invalid JSON body: {e}")))
}

/// The answer to a write: the rows (`return=representation`) or nothing.
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
                let value =
                    axum::http::HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?;
                response.headers_mut().insert(axum::http::header::LOCATION, value);
            }
            Ok(response)
        }
        _ if status == StatusCode::CREATED => Ok(response::build(status, response::JSON, range, None)),
        _ => Ok(response::build(StatusCode::NO_CONTENT, response::JSON, range, None)),
    }
}

type Planner = fn(
    &SchemaCache,
    &Relation,
    &QueryParams,
    &Preferences,
    Option<Value>,
) -> Result<crate::plan_types::WritePlan, ApiError>;

/// POST, PATCH and DELETE: plan the write, run it, answer with what `Prefer: return=` asks.
async fn write(
    state: &AppState,
    resource: &str,
    req: &Req,
    body: Option<Result<Bytes, BytesRejection>>,
    status: StatusCode,
    planner: Planner,
) -> Result<Response, ApiError> {
    let incoming = req.incoming(state, "content-profile")?;
    let media = media(&req.headers)?;
    let body = body.map(|b| write_body(&req.headers, b, state.config.max_body_bytes)).transpose()?;
    let cache = state.schema();
    let relation = relation(&cache, &incoming.schema, resource)?;
    let plan = planner(&cache, relation, &incoming.params, &incoming.prefs, body)?;
    if state.config.safe_updates && plan.changes_every_row() {
        return Err(ApiError::UnfilteredWrite(req.method.to_string()));
    }
    let statement = sql_builder::write(&plan, media);
    let prefs = incoming.prefs.clone();
    // PostgREST counts max-affected for PATCH and DELETE, not for inserts.
    let counted = matches!(req.method, Method::PATCH | Method::DELETE);
    let expect =
        Expectation { singular: media == Media::Object, max_affected: prefs.strict_max_affected().filter(|_| counted) };
    let outcome = execute(state, incoming, statement, expect).await?;
    let mut response = written(status, resource, &prefs, media, outcome)?;
    if req.method == Method::POST && prefs.missing == Some(Missing::Default) {
        response.headers_mut().insert("preference-applied", axum::http::HeaderValue::from_static("missing=default"));
    }
    Ok(response)
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: Req,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    write(&state, &resource, &req, Some(body), StatusCode::CREATED, plan::insert)
        .await
        .map_err(fail(req.request_id.clone()))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: Req,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    write(&state, &resource, &req, Some(body), StatusCode::OK, plan::update).await.map_err(fail(req.request_id.clone()))
}

pub async fn replace(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: Req,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    write(&state, &resource, &req, Some(body), StatusCode::OK, plan::put).await.map_err(fail(req.request_id.clone()))
}

pub async fn remove(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    req: Req,
) -> Result<Response, Failure> {
    write(&state, &resource, &req, None, StatusCode::OK, plan::delete).await.map_err(fail(req.request_id.clone()))
}

/// `/rpc/<function>`: GET (arguments in the query string, a read-only transaction) or POST
/// (arguments in a JSON object).
pub async fn rpc(
    State(state): State<Arc<AppState>>,
    Path(function): Path<String>,
    req: Req,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    async {
        let incoming =
            req.incoming(&state, if req.method == Method::POST { "content-profile" } else { "accept-profile" })?;
        let media = media(&req.headers)?;
        let input = if req.method == Method::POST {
            match json_body(body, state.config.max_body_bytes)? {
                Value::Object(object) => CallInput::Json(object),
                _ => return Err(ApiError::InvalidBody("The arguments of a function call are a JSON object".into())),
            }
        } else {
            CallInput::Query(incoming.params.other.clone())
        };
        let cache = state.schema();
        let names = input.names();
        let f = cache.function(&incoming.schema, &function, &names).ok_or_else(|| ApiError::UnknownFunction {
            schema: incoming.schema.clone(),
            name: function.clone(),
            args: names.iter().map(|n| n.to_string()).collect(),
        })?;
        let head = req.method == Method::HEAD;
        let max_affected = incoming.prefs.strict_max_affected();
        match plan::call(&cache, f, input, &incoming.params, &incoming.prefs, state.config.max_rows)? {
            CallPlan::Scalar(call) => {
                if max_affected.is_some() && !call.returns_set {
                    return Err(ApiError::MaxAffectedNeedsSet);
                }
                let expect = Expectation { singular: false, max_affected };
                let outcome = execute(&state, incoming, sql_builder::scalar_call(&call), expect).await?;
                let body = if head { None } else { outcome.body.or_else(|| Some("null".into())) };
                Ok(response::build(StatusCode::OK, response::JSON, None, body))
            }
            CallPlan::Rows { plan, single: one_row } => {
                if max_affected.is_some() && one_row {
                    return Err(ApiError::MaxAffectedNeedsSet);
                }
                // A function returning one row answers an object, as a single-object read does.
                let media = if one_row && media == Media::Json { Media::Object } else { media };
                // Checked before COMMIT: a function that wrote must not keep its writes when
                // the answer is an error.
                let expect = Expectation { singular: media == Media::Object && !one_row, max_affected };
                let outcome = execute_read(&state, incoming, &plan, media, expect).await?;
                let range = response::content_range(plan.level.offset, outcome.page, outcome.total);
                let content_type = if one_row { response::JSON } else { content_type(media) };
                let body = if head { None } else { outcome.body.or_else(|| Some("null".into())) };
                Ok(response::build(StatusCode::OK, content_type, Some(range), body))
            }
        }
    }
    .await
    .map_err(fail(req.request_id.clone()))
}

/// `GET /`: the OpenAPI document of the profile's schema, for the caller's role.
pub async fn openapi(State(state): State<Arc<AppState>>, req: Req) -> Result<Response, Failure> {
    async {
        let incoming = req.incoming(&state, "accept-profile")?;
        let schema = incoming.schema.clone();
        let statement =
            Statement { sql: crate::openapi::PRIVILEGES_SQL.to_string(), params: vec![Some(schema.clone())] };
        let outcome = execute(&state, incoming, statement, Expectation::default()).await?;
        let privileges: crate::openapi::Privileges = serde_json::from_str(outcome.body.as_deref().unwrap_or("{}"))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let document = crate::openapi::document(&state.schema(), &schema, &privileges);
        Ok(response::build(StatusCode::OK, "application/openapi+json; charset=utf-8", None, Some(document.to_string())))
    }
    .await
    .map_err(fail(req.request_id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(csv: &[u8]) -> String {
        match csv_body(csv) {
            Err(ApiError::InvalidBody(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csv_like_postgrest() {
        let rows = csv_body(b"name,qty,note\napple,3,NULL\n\"pear, green\",5,\n\"a \"\"b\"\"\",,\"NULL\"\r\n").unwrap();
        assert_eq!(
            rows,
            serde_json::json!([
                {"name": "apple", "qty": "3", "note": null},
                {"name": "pear, green", "qty": "5", "note": ""},
                {"name": "a \"b\"", "qty": "", "note": null}
            ])
        );
        assert_eq!(csv_body(b"").unwrap(), serde_json::json!([]));
        assert_eq!(csv_body(b"name\n").unwrap(), serde_json::json!([]));
    }

    #[test]
    fn bad_csv_is_named() {
        assert_eq!(message(b"a,b\n1,2\n3\n"), "Invalid CSV body: line 3: 1 fields where the header has 2");
        assert_eq!(message(b"a,a\n1,2\n"), "Invalid CSV body: the header names \"a\" twice");
        assert_eq!(message(b"a\n\xff\n"), "Invalid CSV body: line 2: not UTF-8");
        assert_eq!(message(b"a\n\"open\n"), "Invalid CSV body: a quoted field is not closed");
    }

    #[test]
    fn csv_content_types() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("content-type", v.parse().unwrap());
            is_csv(&h)
        };
        assert!(with("text/csv") && with("Text/CSV; charset=utf-8"));
        assert!(!with("application/json") && !is_csv(&HeaderMap::new()));
    }
}
