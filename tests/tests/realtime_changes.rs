//! realtime-js's Postgres Changes, fed by logical decoding: INSERT / UPDATE / DELETE of a
//! published table reach the subscribers of the writer's tenant whose filter matches; a
//! DELETE carries only the key; a database broadcast reaches its tenant's channel only.
use serde_json::{json, Value};
use tenancy_e2e::api::token;
use tenancy_e2e::node::drive;
use tenancy_e2e::realtime::{chat_channel, seen, subscribe};
use tenancy_e2e::*;

fn rest(token: &str, method: &str, path: &str, body: Value) -> Value {
    json!({"do": "rest", "token": token, "method": method, "path": path, "body": body, "schema": "chat"})
}

#[tokio::test]
async fn inserts_updates_and_deletes_reach_matching_subscriptions_of_the_tenant() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["chat"]).await;
    let general = chat_channel(&mut admin, a.id, "general").await;
    let random = chat_channel(&mut admin, a.id, "random").await;
    let ta = token(a.id);
    let out = drive(
        "realtime_session.mjs",
        &json!({
            "url": api.url,
            "clients": {"ann": {"token": ta}, "amy": {"token": ta, "vsn": "1.0.0"}},
            "steps": [
                subscribe("ann", "all", json!([{"event": "*", "schema": "chat", "table": "messages"}])),
                subscribe("amy", "general", json!([
                    {"event": "INSERT", "schema": "chat", "table": "messages", "filter": format!("channel_id=eq.{general}")},
                    {"event": "UPDATE", "schema": "chat", "table": "messages", "filter": "body=in.(edited,other)"},
                ])),
                rest(&ta, "POST", "/messages", json!({"channel_id": general, "body": "hello"})),
                rest(&ta, "POST", "/messages", json!({"channel_id": random, "body": "elsewhere"})),
                rest(&ta, "PATCH", "/messages?body=eq.hello", json!({"body": "edited"})),
                // The check reads the row as it is when the change is delivered: a row deleted
                // before that is not shown (its DELETE is).
                {"do": "wait", "ms": 500},
                rest(&ta, "DELETE", "/messages?body=eq.edited", Value::Null),
                {"do": "wait", "ms": 1500},
            ],
        }),
    )
    .await;
    assert_eq!(out["results"][0], json!({"status": "SUBSCRIBED"}), "{out}");
    assert_eq!(out["results"][1], json!({"status": "SUBSCRIBED"}), "{out}");
    for r in [2, 3, 4, 6].map(|i| &out["results"][i]) {
        assert!(r["status"].as_u64().unwrap() < 300, "{r}");
    }
    let id = out["results"][2]["body"][0]["id"].clone();

    let all = seen(&out, "ann", "all", "postgres_changes");
    let kinds: Vec<(Value, Value)> = all.iter().map(|c| (c["eventType"].clone(), c["new"]["body"].clone())).collect();
    assert_eq!(
        kinds,
        [
            (json!("INSERT"), json!("hello")),
            (json!("INSERT"), json!("elsewhere")),
            (json!("UPDATE"), json!("edited")),
            (json!("DELETE"), Value::Null),
        ],
        "{out}"
    );
    let insert = &all[0];
    assert_eq!((insert["schema"].clone(), insert["table"].clone()), (json!("chat"), json!("messages")));
    assert_eq!(insert["new"]["id"], id, "typed: the id is a number, as in the row");
    assert_eq!(insert["new"]["tenant_id"], json!(a.id));
    assert!(insert["commit_timestamp"].as_str().unwrap().ends_with('Z'), "{insert}");
    assert_eq!(insert["errors"], Value::Null);
    assert_eq!(all[3]["old"], json!({"tenant_id": a.id, "id": id}), "a DELETE carries only the key");

    let filtered = seen(&out, "amy", "general", "postgres_changes");
    let kinds: Vec<(Value, Value)> =
        filtered.iter().map(|c| (c["eventType"].clone(), c["new"]["body"].clone())).collect();
    assert_eq!(kinds, [(json!("INSERT"), json!("hello")), (json!("UPDATE"), json!("edited"))], "filters apply: {out}");
    let system = seen(&out, "amy", "general", "system");
    assert_eq!(system[0]["message"], "Subscribed to PostgreSQL", "{out}");
}

#[tokio::test]
async fn a_broadcast_from_the_database_reaches_its_tenant_only() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let (a, b) = (create_tenant(&admin, "free", &[]).await, create_tenant(&admin, "free", &[]).await);
    let room = |client: &str| json!({"do": "subscribe", "client": client, "channel": "room", "config": {}});
    let input = json!({
        "url": api.url,
        "clients": {"ann": {"token": token(a.id)}, "bob": {"token": token(b.id)}},
        "steps": [room("ann"), room("bob"), {"do": "wait", "ms": 3000}],
    });
    let session = drive("realtime_session.mjs", &input);
    // While both listen, a transaction of tenant A broadcasts (as a trigger would).
    let write = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        as_tenant(&mut admin, a.id, "SELECT realtime.broadcast('room', 'news', '{\"text\": \"for a\"}')").await
    };
    let (out, written) = tokio::join!(session, write);
    written.unwrap();
    let ann = seen(&out, "ann", "room", "broadcast");
    assert_eq!(ann.iter().map(|p| p["payload"]["text"].clone()).collect::<Vec<_>>(), [json!("for a")], "{out}");
    assert!(seen(&out, "bob", "room", "broadcast").is_empty(), "same topic, other tenant: {out}");
}

#[tokio::test]
async fn the_slot_keeps_up_while_only_unpublished_tables_are_written() {
    let slot = tenancy_e2e::realtime::slot_name("tenancy_test");
    let _api = tenancy_e2e::realtime::start_with_slot(&slot).await;
    let admin = superuser().await;
    // Writes no subscriber hears of: pgoutput sends nothing for them, only heartbeats.
    let a = create_tenant(&admin, "free", &["hrms"]).await;
    let written: String = admin.query_one("SELECT pg_current_wal_lsn()::text", &[]).await.unwrap().get(0);
    drop(a);
    let mut confirmed = false;
    for _ in 0..300 {
        confirmed = tenancy_e2e::realtime::slot_confirmed(&admin, &slot, &written).await;
        if confirmed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(confirmed, "the slot still holds WAL before {written} (nothing published was written since)");
}
