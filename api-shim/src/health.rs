//! Whether the server can serve: `/health` on the API port (200 when PostgreSQL answers, 503
//! when it does not), and the admin port's `/live` and `/ready` (PostgREST's). Why the
//! database does not answer goes to the log, never to the caller.
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// A connection from the pool answers `SELECT 1` within 2 s.
async fn database_answers(state: &AppState) -> bool {
    let ping = async {
        let client = state.pool.get().await.map_err(|e| e.to_string())?;
        client.simple_query("SELECT 1").await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => true,
        Ok(Err(why)) => {
            tracing::warn!(reason = %why, "health check: the database does not answer");
            false
        }
        Err(_) => {
            tracing::warn!("health check: the database did not answer within 2 s");
            false
        }
    }
}

pub async fn health(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    match database_answers(&state).await {
        true => (StatusCode::OK, Json(json!({"status": "ok"}))),
        false => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable"}))),
    }
}

/// `/live`: the process runs and answers (an empty body, as PostgREST).
pub async fn live() -> StatusCode {
    StatusCode::OK
}

/// `/ready`: requests can be served, the database answering (the schema cache is loaded
/// before the server listens).
pub async fn ready(State(state): State<Arc<AppState>>) -> StatusCode {
    match database_answers(&state).await {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    }
}
