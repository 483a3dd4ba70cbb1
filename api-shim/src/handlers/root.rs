//! `GET /`: the OpenAPI document of the profile's schema, for the caller's role.
use super::execute;
use crate::error::ApiError;
use crate::openapi;
use crate::request::ApiRequest;
use crate::response::{self, Expectation};
use crate::sql_builder::Statement;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;

pub async fn openapi(State(state): State<Arc<AppState>>, req: ApiRequest) -> Result<Response, ApiError> {
    let (schema, profile) = (req.schema.clone(), req.answer_profile());
    // What the caller's role may use is asked of PostgreSQL, as that role.
    let statement =
        Statement { sql: openapi::PRIVILEGES_SQL.to_string(), params: vec![Some(schema.clone())], generic_plan: false };
    let outcome = execute(&state, req, statement, Expectation::default()).await?;
    let privileges: openapi::Privileges =
        serde_json::from_str(outcome.body.as_deref().unwrap_or("{}")).map_err(|e| ApiError::Internal(e.to_string()))?;
    let document = openapi::document(&state.schema(), &schema, &privileges);
    let mut response =
        response::build(StatusCode::OK, "application/openapi+json; charset=utf-8", None, Some(document.to_string()));
    response::content_profile(&mut response, profile);
    Ok(response)
}
