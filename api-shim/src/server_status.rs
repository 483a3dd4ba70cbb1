//! `GET /platform/v1/status`: what this server knows that the database does not, for the
//! platform administrator's status page: its real-time slot (with the slot's lag from
//! `platform.replication_slots`, V16), sockets and channels, and the rate limit (its settings
//! and recent 429s). Who may see it is PostgreSQL's to say: the view is read as the caller's
//! role, granted to platform_admin only, so anyone else gets the database's refusal (403, or
//! 401 without a token) and none of the server's numbers.
use crate::error::ApiError;
use crate::rate_limit::{current_minute, RefusalSummary};
use crate::realtime::Realtime;
use crate::request::ApiRequest;
use crate::state::AppState;
use crate::tx::{self, End, Options};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

/// The database's logical slots, and the slugs of the tenants named (those refused lately).
const STATUS_SQL: &str = "SELECT
    (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.slot_name), '[]') FROM platform.replication_slots s),
    (SELECT coalesce(jsonb_object_agg(t.id, t.slug), '{}') FROM platform.tenants t WHERE t.id = ANY ($1::text::uuid[]))";

pub fn router(realtime: Arc<Realtime>) -> Router<Arc<AppState>> {
    Router::new().route("/platform/v1/status", get(move |state, req| status(state, req, realtime.clone())))
}

async fn status(
    State(state): State<Arc<AppState>>,
    req: ApiRequest,
    realtime: Arc<Realtime>,
) -> Result<Json<Value>, ApiError> {
    let refusals = state.rate_limiter.as_ref().map(|limiter| limiter.refusals.summary(current_minute()));
    let refused_tenants: Vec<Uuid> = refusals.iter().flat_map(|r| r.by_tenant.iter().map(|(t, _)| *t)).collect();
    let ids = format!("{{{}}}", refused_tenants.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","));
    let options = Options { end: End::Commit, check: None, read_only: true, explain: None, generic_plan: false };
    let authenticated = req.identity.authenticated;
    let ran = tx::run(&state.pool, &state.setup_sql, req.settings, STATUS_SQL.into(), vec![Some(ids)], options)
        .await
        .map_err(|e| e.into_api_error(authenticated))?;
    let row = ran.rows.first().ok_or_else(|| ApiError::Internal("the status query returned no row".into()))?;
    let (slots, slugs): (Value, Value) = (row.get(0), row.get(1));
    let mut realtime = realtime.status();
    realtime["slot_state"] =
        slots.as_array().into_iter().flatten().find(|s| s["slot_name"] == realtime["slot"]).cloned().into();
    Ok(Json(json!({
        "realtime": realtime,
        "replication_slots": slots,
        "rate_limit": rate_limit(&state, refusals, &slugs),
    })))
}

/// The configured limit (off when TENANCY_RATE_LIMIT_RPS is 0) and the refusals of late.
fn rate_limit(state: &AppState, refusals: Option<RefusalSummary>, slugs: &Value) -> Value {
    let Some(refused) = refusals else { return json!({"enabled": false}) };
    let by_tenant: Vec<Value> = refused
        .by_tenant
        .iter()
        .map(|(tenant, n)| json!({"tenant_id": tenant, "slug": slugs[tenant.to_string()], "refused": n}))
        .collect();
    json!({
        "enabled": true,
        "per_second": state.config.rate_limit_rps,
        "burst": state.config.rate_limit_burst,
        "refused": {"last_minute": refused.last_minute, "last_hour": refused.last_hour,
                    "since_start": refused.since_start, "by_tenant": by_tenant},
    })
}
