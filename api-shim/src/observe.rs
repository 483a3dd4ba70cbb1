//! One log line and one metrics sample per request: request id, route template, method,
//! status, duration, the tenant the handler acted for, and what only the operator may read
//! (the cause of a server-side failure; the database's note on a refusal the caller saw in
//! other words).
use crate::error::{ErrorCause, OperatorNote};
use crate::request_id::RequestId;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use uuid::Uuid;

/// Filled by the handler once it knows the tenant, read when the response leaves.
#[derive(Clone, Default)]
pub struct RequestTenant(pub Arc<Mutex<Option<Uuid>>>);

impl RequestTenant {
    pub fn set(&self, tenant: Option<Uuid>) {
        *self.0.lock().expect("request tenant lock") = tenant;
    }
}

pub async fn track(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = request.method().to_string();
    let id = RequestId::of(request.extensions()).map(|r| r.0).unwrap_or_default();
    let tenant = RequestTenant::default();
    request.extensions_mut().insert(tenant.clone());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    state.metrics.record(&route, &method, status.as_u16(), elapsed);
    let tenant = tenant.0.lock().expect("request tenant lock").map(|t| t.to_string());
    let cause = response.extensions().get::<ErrorCause>().map(|c| c.0.as_str());
    let operator_note = response.extensions().get::<OperatorNote>().map(|n| n.0.as_str());
    if status.is_server_error() {
        tracing::error!(request_id = %id, %method, %route, status = status.as_u16(), tenant, ms = elapsed.as_secs_f64() * 1000.0, cause, "request failed");
    } else {
        tracing::info!(request_id = %id, %method, %route, status = status.as_u16(), tenant, ms = elapsed.as_secs_f64() * 1000.0, operator_note, "request");
    }
    response
}
