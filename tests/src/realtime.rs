//! The API with real-time's Postgres Changes on: it reads its own replication slot as the
//! `tenancy_realtime` login (V14). Each server gets a slot of its own, named with its birth
//! time; slots of earlier test runs nobody reads any more are dropped, so none holds WAL.
use crate::api::{self, Api};
use crate::{as_tenant, superuser, value};
use serde_json::{json, Value};
use uuid::Uuid;

/// A slot name for one test server: `<prefix>_<unix seconds>_<random>`.
pub fn slot_name(prefix: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    format!("{prefix}_{now}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Drops the inactive test slots older than 30 seconds (the tests that made them are over);
/// one that a lingering session still holds is left for a later run.
pub async fn drop_stale_slots() {
    drop_stale_slots_on(&superuser().await).await;
}

/// `drop_stale_slots` on the node `db` is connected to (as a superuser).
pub async fn drop_stale_slots_on(db: &tokio_postgres::Client) {
    db.batch_execute(
        "DO $$
             DECLARE s text;
             BEGIN
                 FOR s IN SELECT slot_name FROM pg_replication_slots
                          WHERE NOT active AND slot_name ~ '^tenancy_test_[0-9]+_'
                            AND split_part(slot_name, '_', 3)::bigint < extract(epoch FROM now()) - 30 LOOP
                     BEGIN
                         PERFORM pg_drop_replication_slot(s);
                     EXCEPTION WHEN object_in_use OR undefined_object THEN NULL;
                     END;
                 END LOOP;
             END $$",
    )
    .await
    .unwrap();
}

/// The settings that turn Postgres Changes on, read from `slot` (stale test slots dropped first).
pub async fn changes_settings(slot: &str) -> [(&'static str, String); 2] {
    drop_stale_slots().await;
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "54329".into());
    let uri = format!("postgres://tenancy_realtime@127.0.0.1:{port}/tenancy");
    [("TENANCY_REALTIME_REPLICATION_URI", uri), ("TENANCY_REALTIME_SLOT", slot.to_string())]
}

/// The server with Postgres Changes read from `slot`.
pub async fn start_with_slot(slot: &str) -> Api {
    let settings = changes_settings(slot).await;
    let api = api::start_with(&settings.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    wait_for_stream(slot).await;
    api
}

/// Until the server reads its slot: creating a logical slot waits for the transactions in
/// flight, which takes a while when other tests write.
pub async fn wait_for_stream(slot: &str) {
    wait_for_stream_on(&superuser().await, slot).await;
}

/// `wait_for_stream` on the node `db` is connected to.
pub async fn wait_for_stream_on(db: &tokio_postgres::Client, slot: &str) {
    for _ in 0..600 {
        let active = db
            .query_opt("SELECT active FROM pg_replication_slots WHERE slot_name = $1", &[&slot])
            .await
            .unwrap()
            .is_some_and(|r| r.get::<_, bool>(0));
        if active {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the server did not start reading its replication slot {slot} within a minute");
}

/// Whether `slot` has confirmed everything before the WAL position `lsn` (text, as
/// `pg_current_wal_lsn()::text` gives it): the WAL it still holds begins after.
pub async fn slot_confirmed(db: &tokio_postgres::Client, slot: &str, lsn: &str) -> bool {
    db.query_one(
        "SELECT confirmed_flush_lsn >= $2::text::pg_lsn FROM pg_replication_slots WHERE slot_name = $1",
        &[&slot, &lsn],
    )
    .await
    .unwrap()
    .get(0)
}

pub async fn start() -> Api {
    start_with_slot(&slot_name("tenancy_test")).await
}

/// The payloads of one type (`broadcast`, `postgres_changes`, `system`, `status`, ...) that a
/// client of `tests/js/realtime_session.mjs` saw on a channel.
pub fn seen(out: &Value, client: &str, channel: &str, kind: &str) -> Vec<Value> {
    out["events"][client]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["channel"] == channel && e["type"] == kind)
        .map(|e| e["payload"].clone())
        .collect()
}

/// The session step that subscribes `client` to `channel` with these Postgres Changes.
pub fn subscribe(client: &str, channel: &str, changes: Value) -> Value {
    json!({"do": "subscribe", "client": client, "channel": channel, "changes": changes})
}

/// A chat channel of `tenant`, made as the tenant; its id.
pub async fn chat_channel(admin: &mut tokio_postgres::Client, tenant: Uuid, name: &str) -> Uuid {
    as_tenant(admin, tenant, &format!("INSERT INTO chat.channels (name) VALUES ('{name}')")).await.unwrap();
    value(&*admin, &format!("SELECT id FROM chat.channels WHERE tenant_id = '{tenant}' AND name = '{name}'")).await
}
