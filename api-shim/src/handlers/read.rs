//! `GET` / `HEAD /{resource}`: rows of a table or view.
use super::{check_offset, content_type, execute_read, relation, status_of_page};
use crate::content_location::content_location;
use crate::error::ApiError;
use crate::plan;
use crate::prefer::Action;
use crate::request::ApiRequest;
use crate::response::{self, Expectation};
use crate::routing;
use crate::sql_builder::Media;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, Method};
use axum::response::Response;
use std::sync::Arc;

pub async fn read(
    State(state): State<Arc<AppState>>,
    Path(resource): Path<String>,
    RawQuery(query): RawQuery,
    req: ApiRequest,
) -> Result<Response, ApiError> {
    let cache = state.schema();
    let relation = relation(&cache, &req.schema, &resource)?;
    let mut plan = plan::read(&cache, relation, &req.query, &req.prefs, req.range, state.config.max_rows)?;
    if let Some(tenant) = routing::tenant_condition(&cache, relation, req.identity.tenant) {
        plan.route(tenant);
    }
    let (media, head) = (req.media()?, req.method == Method::HEAD);
    let applied = req.prefs.applied(Action::Read, state.config.tx_end.overridable());
    let profile = req.answer_profile();
    // A read-only transaction: nothing to roll back, the check can wait for the answer.
    let outcome = execute_read(&state, req, &plan, media, Expectation::default()).await?;
    if media == Media::Object && outcome.page != 1 {
        return Err(ApiError::NotSingular(outcome.page));
    }
    let offset = plan.level.offset;
    check_offset(offset, outcome.total)?;
    let status = status_of_page(offset, outcome.page, outcome.total);
    let overrides = outcome.overrides;
    let body = if head { None } else { outcome.body };
    let range = response::content_range(offset, outcome.page, outcome.total);
    let mut response = response::build(status, content_type(media), Some(range), body);
    if let Some(location) = content_location(&resource, query.as_deref()) {
        response.headers_mut().insert(header::CONTENT_LOCATION, location);
    }
    response::finish(&mut response, applied, profile, &overrides)?;
    Ok(response)
}
