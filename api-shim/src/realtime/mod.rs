//! Real-time (`/realtime/v1/websocket`): Phoenix channels as `@supabase/realtime-js` speaks
//! them — Broadcast, Presence, and Postgres Changes from logical decoding — every channel
//! scoped to its token's tenant.
//!
//! - `message`: the Phoenix message and its two serializers; `socket`: one task per socket;
//!   `channel`: join, leave, token refresh, closing a channel whose rights are gone.
//! - `hub`: topics per tenant, Broadcast and Presence fan-out (`presence`: its state).
//! - `postgres_changes`: the join config and its filters; `access`: what a join may read.
//! - `wal` reads the replication slot (`pgoutput` decodes it), `fanout` delivers changes,
//!   checked once per group of subscribers (`visibility`); `rights` closes channels whose
//!   tenant was suspended or module disabled.
mod access;
mod channel;
mod hub;
mod message;
mod postgres_changes;
mod presence;
mod socket;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct Realtime {
    pub app: Arc<AppState>,
    pub hub: hub::Hub,
    next_conn: AtomicU64,
}

impl Realtime {
    fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn changes_enabled(&self) -> bool {
        self.app.config.realtime.replication_uri.is_some()
    }
}

/// The routes under `/realtime/v1`.
pub fn router(app: Arc<AppState>) -> Router {
    let rt = Arc::new(Realtime { app, hub: hub::Hub::default(), next_conn: AtomicU64::new(1) });
    Router::new().route("/websocket", get(socket::upgrade)).with_state(rt)
}
