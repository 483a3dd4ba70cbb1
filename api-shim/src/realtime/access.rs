//! What a `postgres_changes` join may see, decided at join by the database as the subscriber
//! (tenant entered, role set, claims as on REST): the published tables the request names, the
//! module each belongs to (a disabled one refuses the join with REST's TN010 body), the table
//! and column privileges of the role. A wildcard (`table: "*"`, `schema: "*"`) covers only the
//! tables it may read.
use super::postgres_changes::{ReadableTable, Request, Subscription};
use crate::auth::Identity;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tx::{self, End, Options, RequestSettings, TxError};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};

/// The publication the WAL consumer reads (created by migration V14).
pub const PUBLICATION: &str = "tenancy_realtime";

const TABLES_SQL: &str = "SELECT p.schemaname::text, p.tablename::text, has_any_column_privilege(c.oid, 'SELECT'),
       CASE WHEN pt.module IS NULL THEN true
            WHEN $3::text::bool THEN tenancy.require_module(pt.module)
            ELSE tenancy.has_module(pt.module) END,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               AND has_column_privilege(c.oid, a.attnum, 'SELECT') ORDER BY a.attnum),
       pt.module
FROM pg_publication_tables p
JOIN pg_namespace n ON n.nspname = p.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename
LEFT JOIN tenancy.protected_tables pt ON pt.tbl = c.oid
WHERE p.pubname = $4::text AND ($1::text = '*' OR p.schemaname = $1::text)
  AND ($2::text IS NULL OR p.tablename = $2::text)
ORDER BY 1, 2";

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// A refused join: the body its `phx_reply` carries (REST's shape).
#[derive(Debug)]
pub struct Refusal(pub Value);

pub fn refusal(status: StatusCode, code: &str, message: impl Into<String>) -> Refusal {
    Refusal(json!({
        "code": code,
        "message": message.into(),
        "details": null,
        "hint": null,
        "error": status.canonical_reason().unwrap_or("Error"),
    }))
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal(e.body().1)
    }
}

/// The settings of a transaction acting as `identity` (PostgREST's `request.*` as REST sets them).
pub fn settings(app: &AppState, identity: &Identity) -> RequestSettings {
    RequestSettings::new(identity, "GET", "/realtime/v1/websocket", "{}".into(), app.config.statement_timeout_ms, None)
}

pub fn api_error(e: TxError, identity: &Identity) -> ApiError {
    e.into_api_error(identity.authenticated)
}

pub async fn subscribe(
    app: &AppState,
    identity: &Identity,
    requests: Vec<Request>,
) -> Result<Vec<Subscription>, Refusal> {
    if identity.tenant.is_none() && !requests.is_empty() {
        return Err(refusal(StatusCode::FORBIDDEN, "42501", "Postgres Changes need a token that names a tenant"));
    }
    let mut subscriptions = Vec::with_capacity(requests.len());
    for request in requests {
        let tables = tables(app, identity, &request).await?;
        subscriptions.push(Subscription {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            event: request.event,
            schema: request.schema,
            table: request.table,
            filter_text: request.filter_text,
            filter: request.filter,
            tables,
        });
    }
    Ok(subscriptions)
}

async fn tables(app: &AppState, identity: &Identity, request: &Request) -> Result<Vec<ReadableTable>, Refusal> {
    let exact = request.schema != "*" && request.named_table().is_some();
    let params = vec![
        Some(request.schema.clone()),
        request.named_table().map(str::to_string),
        Some(exact.to_string()),
        Some(PUBLICATION.to_string()),
    ];
    let options = Options { end: End::Rollback, check: None, read_only: true, explain: None, generic_plan: false };
    let ran = tx::run(&app.pool, &app.setup_sql, settings(app, identity), TABLES_SQL.into(), params, options)
        .await
        .map_err(|e| Refusal::from(api_error(e, identity)))?;
    let name = format!("{}.{}", request.schema, request.table.as_deref().unwrap_or("*"));
    if exact && ran.rows.is_empty() {
        return Err(refusal(StatusCode::NOT_FOUND, "42P01", format!("{name} is not published for real-time")));
    }
    let mut readable = Vec::new();
    for row in ran.rows {
        let (schema, table, privileged, enabled, columns, module): (
            String,
            String,
            bool,
            bool,
            Vec<String>,
            Option<String>,
        ) = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
        if !(privileged && enabled) {
            if exact {
                return Err(refusal(StatusCode::FORBIDDEN, "42501", format!("permission denied for table {name}")));
            }
            continue;
        }
        if let Some(f) = request.filter.as_ref().filter(|f| !columns.contains(&f.column)) {
            if exact {
                return Err(refusal(
                    StatusCode::BAD_REQUEST,
                    "PGRST100",
                    format!("filter column \"{}\" is not a column of {schema}.{table} you may read", f.column),
                ));
            }
            continue;
        }
        readable.push(ReadableTable { schema, table, columns, module });
    }
    Ok(readable)
}
