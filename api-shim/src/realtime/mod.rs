//! Real-time (`/realtime/v1/websocket`): Phoenix channels as `@supabase/realtime-js` speaks
//! them — Broadcast, Presence, and Postgres Changes from logical decoding — every channel
//! scoped to its token's tenant.
//!
//! - `message`: the Phoenix message and its two serializers; `socket`: one task per socket;
//!   `channel`: join, leave, token refresh, closing a channel whose rights are gone.
//! - `hub`: topics per tenant, Broadcast and Presence fan-out (`presence`: its state).
//! - `postgres_changes`: the join config and its filters; `access`: what a join may read.
//! - `wal` reads the replication slot of each node (`nodes`: the database, and on Citus its
//!   workers; `pgoutput` decodes them), `fanout` delivers changes,
//!   checked once per group of subscribers (`visibility`); `rights` closes channels whose
//!   tenant was suspended or module disabled.
mod access;
mod change;
mod channel;
mod fanout;
mod group_tx;
mod hub;
mod message;
mod nodes;
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
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Realtime {
    pub app: Arc<AppState>,
    pub hub: hub::Hub,
    next_conn: AtomicU64,
    /// Each node's replication stream: whether it is read now (health, and the tests' wait).
    streams: nodes::Streams,
    /// Held while a batch is delivered: the nodes' streams take turns.
    delivering: tokio::sync::Mutex<()>,
    /// Sockets open now (a socket may have joined no channel yet).
    sockets: AtomicUsize,
}

impl Realtime {
    fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn changes_enabled(&self) -> bool {
        self.app.config.realtime.replication_uri.is_some()
    }

    /// What this server's real-time holds now, for the platform's status page: its slot (when
    /// Postgres Changes are on), whether every node's stream is read, each node's stream, its
    /// sockets and channels.
    pub fn status(&self) -> Value {
        let (channels, memberships, tenants) = self.hub.counts();
        json!({
            "changes": self.changes_enabled(),
            "slot": self.changes_enabled().then(|| self.app.config.realtime.slot.clone()),
            "streaming": self.streams.all_streaming(),
            "nodes": self.streams.status(),
            "sockets": self.sockets.load(Ordering::Relaxed),
            "channels": channels, "memberships": memberships, "tenants": tenants,
        })
    }

    /// Counts a socket open until the guard drops.
    fn socket_opened(self: &Arc<Self>) -> OpenSocket {
        self.sockets.fetch_add(1, Ordering::Relaxed);
        OpenSocket(self.clone())
    }

    /// Waits (a while) for the replication streams: a join that asks for changes is answered
    /// once every later commit, on any node, will reach it.
    async fn stream_ready(&self) -> bool {
        for _ in 0..200 {
            if self.streams.all_streaming() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }
}

/// An open socket, counted in `Realtime::sockets` for as long as it lives.
struct OpenSocket(Arc<Realtime>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Real-time's state, and its tasks started: the replication stream and the rights watcher.
pub fn start(app: Arc<AppState>) -> Arc<Realtime> {
    let rt = Arc::new(Realtime {
        app,
        hub: hub::Hub::default(),
        next_conn: AtomicU64::new(1),
        streams: nodes::Streams::default(),
        delivering: tokio::sync::Mutex::new(()),
        sockets: AtomicUsize::new(0),
    });
    if rt.changes_enabled() {
        tokio::spawn(wal::run(rt.clone()));
    }
    tokio::spawn(rights::watch(rt.clone()));
    rt
}

/// The routes under `/realtime/v1`.
pub fn router(rt: Arc<Realtime>) -> Router {
    Router::new().route("/websocket", get(socket::upgrade)).with_state(rt)
}
