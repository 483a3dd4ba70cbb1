//! The REST handlers. Each reads top to bottom: the request (`ApiRequest`, and `Payload` for
//! a body) → plan → one statement → one transaction (`run`) → the response.
mod call;
mod read;
mod root;
mod write;

pub use call::rpc;
pub use read::read;
pub use root::openapi;
pub use write::{create, remove, replace, update};

use crate::config::TxEnd;
use crate::error::ApiError;
use crate::fuzzy::FuzzySet;
use crate::plan_types::ReadPlan;
use crate::prefer::{Preferences, Tx};
use crate::request::ApiRequest;
use crate::response::{self, Expectation, Outcome};
use crate::schema_cache::{Relation, SchemaCache};
use crate::sql_builder::{self, Media, Statement};
use crate::state::AppState;
use crate::tx::{self, End};
use axum::http::StatusCode;
use serde_json::Value;

fn relation<'a>(cache: &'a SchemaCache, schema: &str, name: &str) -> Result<&'a Relation, ApiError> {
    cache.relation(schema, name).ok_or_else(|| {
        let tables = cache.relations_in(schema);
        // As PostgREST: no suggestion from a schema of 500 tables or more.
        let perhaps = match tables.len() < 500 {
            true => FuzzySet::new(tables.iter().map(|t| t.name.as_str())).best(name, 0.75).map(str::to_string),
            false => None,
        };
        ApiError::UnknownRelation { schema: schema.into(), name: name.into(), perhaps }
    })
}

fn content_type(media: Media) -> &'static str {
    match media {
        Media::Json => response::JSON,
        Media::Object => response::OBJECT,
        Media::Csv => response::CSV,
    }
}

/// PostgREST's 416: the rows were counted and the first one asked for is past the last.
/// 206 when the rows are a part of the counted whole, as PostgREST answers; else 200.
fn status_of_page(offset: u64, page: i64, total: Option<i64>) -> StatusCode {
    let partial = total.is_some_and(|t| (offset as i64 + page) < t || offset > 0);
    if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    }
}

fn check_offset(offset: u64, total: Option<i64>) -> Result<(), ApiError> {
    match total {
        Some(total) if offset as i64 > total => Err(ApiError::RangeNotSatisfiable {
            details: format!("An offset of {offset} was requested, but there are only {total} rows."),
            total: Some(total),
        }),
        _ => Ok(()),
    }
}

/// How the transaction ends: the server's setting, which `Prefer: tx=` may override only
/// where the setting allows it.
fn end(state: &AppState, prefs: &Preferences) -> End {
    let overridable = state.config.tx_end.overridable();
    match (&state.config.tx_end, prefs.tx) {
        (_, Some(Tx::Rollback)) if overridable => End::Rollback,
        (_, Some(Tx::Commit)) if overridable => End::Commit,
        (TxEnd::Rollback | TxEnd::RollbackAllowOverride, _) => End::Rollback,
        (TxEnd::Commit | TxEnd::CommitAllowOverride, _) => End::Commit,
    }
}

/// Runs one statement in the request's transaction.
async fn execute(
    state: &AppState,
    req: ApiRequest,
    statement: Statement,
    expect: Expectation,
) -> Result<Outcome, ApiError> {
    let (outcome, _) = run(state, req, statement, expect, None).await?;
    Ok(outcome)
}

/// A read (of a table, a view or a function's rows) with its total as `Prefer: count=` asks:
/// the planner's estimate comes from an `EXPLAIN` in the same transaction.
async fn execute_read(
    state: &AppState,
    req: ApiRequest,
    plan: &ReadPlan,
    media: Media,
    expect: Expectation,
) -> Result<Outcome, ApiError> {
    let explain = sql_builder::planned_count(plan);
    let (mut outcome, explained) = run(state, req, sql_builder::read(plan, media), expect, explain).await?;
    let planned = explained.as_ref().and_then(response::plan_rows);
    outcome.total = response::total(plan.count, outcome.total, planned);
    Ok(outcome)
}

async fn run(
    state: &AppState,
    req: ApiRequest,
    statement: Statement,
    expect: Expectation,
    explain: Option<Statement>,
) -> Result<(Outcome, Option<Value>), ApiError> {
    let options = tx::Options {
        end: end(state, &req.prefs),
        check: expect.check(),
        read_only: req.reads(),
        explain: explain.map(|e| (e.sql, e.params)),
        generic_plan: statement.generic_plan,
    };
    let authenticated = req.identity.authenticated;
    let ran = tx::run(&state.pool, &state.setup_sql, req.settings, statement.sql, statement.params, options)
        .await
        .map_err(|e| e.into_api_error(authenticated))?;
    Ok((Outcome::from_rows(&ran.rows)?, ran.plan))
}
