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
mod change;
mod channel;
mod fanout;
mod hub;
mod message;
mod pgoutput;
mod postgres_changes;
mod presence;
mod rights;
mod socket;
mod visibility;
mod wal;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

pub struct Realtime {
    pub app: Arc<AppState>,
    pub hub: hub::Hub,
    next_conn: AtomicU64,
    /// Whether the replication stream is being read now (health, and the tests' wait).
    streaming: AtomicBool,
}

impl Realtime {
    fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn changes_enabled(&self) -> bool {
        self.app.config.realtime.replication_uri.is_some()
    }

    fn set_streaming(&self, on: bool) {
        self.streaming.store(on, Ordering::Relaxed);
    }

    /// Waits (a while) for the replication stream: a join that asks for changes is answered
    /// once every later commit will reach it.
    async fn stream_ready(&self) -> bool {
        for _ in 0..200 {
            if self.streaming.load(Ordering::Relaxed) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }
}

/// The routes under `/realtime/v1`.
pub fn router(app: Arc<AppState>) -> Router {
    let rt = Arc::new(Realtime {
        app,
        hub: hub::Hub::default(),
        next_conn: AtomicU64::new(1),
        streaming: AtomicBool::new(false),
    });
    if rt.changes_enabled() {
        tokio::spawn(wal::run(rt.clone()));
    }
    tokio::spawn(rights::watch(rt.clone()));
    Router::new().route("/websocket", get(socket::upgrade)).with_state(rt)
}
