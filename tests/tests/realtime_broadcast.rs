//! realtime-js (unmodified, from npm) on `/realtime/v1`: Broadcast with `self` and `ack`,
//! Presence join and leave, both serializers — and channels scoped to the token's tenant, so
//! two tenants using the same topic never hear each other.
use serde_json::{json, Value};
use tenancy_e2e::api::{self, token};
use tenancy_e2e::node::drive;
use tenancy_e2e::realtime::seen;
use tenancy_e2e::*;

#[tokio::test]
async fn broadcast_reaches_the_channel_with_self_and_ack_and_never_another_tenant() {
    let api = api::start().await;
    let admin = superuser().await;
    let (a, b) = (create_tenant(&admin, "free", &[]).await, create_tenant(&admin, "free", &[]).await);
    let room =
        |client: &str, config: Value| json!({"do": "subscribe", "client": client, "channel": "room", "config": config});
    let out = drive(
        "realtime_session.mjs",
        &json!({
            "url": api.url,
            "clients": {
                "ann": {"token": token(a.id)},
                "amy": {"token": token(a.id), "vsn": "1.0.0"},
                "bob": {"token": token(b.id)},
            },
            "steps": [
                room("ann", json!({"broadcast": {"self": true, "ack": true}})),
                room("amy", json!({})),
                room("bob", json!({"broadcast": {"self": false}})),
                {"do": "send", "client": "ann", "channel": "room", "event": "hello", "payload": {"from": "ann"}},
                {"do": "send", "client": "amy", "channel": "room", "event": "hi", "payload": {"from": "amy"}},
                {"do": "send", "client": "bob", "channel": "room", "event": "psst", "payload": {"from": "bob"}},
                {"do": "wait", "ms": 300},
            ],
        }),
    )
    .await;
    assert_eq!(out["results"].as_array().unwrap()[..3], vec![json!({"status": "SUBSCRIBED"}); 3], "{out}");
    assert_eq!(out["results"][3], "ok", "ack: the server answered the broadcast");
    let events = |client: &str| -> Vec<Value> {
        seen(&out, client, "room", "broadcast").iter().map(|p| json!([p["event"], p["payload"]["from"]])).collect()
    };
    assert_eq!(events("ann"), [json!(["hello", "ann"]), json!(["hi", "amy"])], "self: ann hears herself");
    assert_eq!(events("amy"), [json!(["hello", "ann"])], "no self: amy (vsn 1.0.0) does not hear herself");
    assert_eq!(events("bob"), Vec::<Value>::new(), "same topic, other tenant: nothing crosses");
}

#[tokio::test]
async fn presence_join_and_leave_stay_inside_the_tenant() {
    let api = api::start().await;
    let admin = superuser().await;
    let (a, b) = (create_tenant(&admin, "free", &[]).await, create_tenant(&admin, "free", &[]).await);
    let lobby = |client: &str, key: &str| json!({"do": "subscribe", "client": client, "channel": "lobby", "config": {"presence": {"key": key}}});
    let out = drive(
        "realtime_session.mjs",
        &json!({
            "url": api.url,
            "clients": {"ann": {"token": token(a.id)}, "amy": {"token": token(a.id)}, "bob": {"token": token(b.id)}},
            "steps": [
                lobby("ann", "ann"),
                lobby("amy", "amy"),
                lobby("bob", "bob"),
                {"do": "track", "client": "ann", "channel": "lobby", "payload": {"mood": "busy"}},
                {"do": "track", "client": "bob", "channel": "lobby", "payload": {"mood": "spying"}},
                {"do": "wait", "ms": 200},
                {"do": "untrack", "client": "ann", "channel": "lobby"},
                {"do": "wait", "ms": 200},
            ],
        }),
    )
    .await;
    assert_eq!(out["results"][3], "ok", "{out}");
    let keys = |client: &str, kind: &str| -> Vec<Value> {
        seen(&out, client, "lobby", kind).iter().map(|p| json!([p["key"], p["metas"][0]["mood"]])).collect()
    };
    assert_eq!(keys("amy", "presence_join"), [json!(["ann", "busy"])], "{out}");
    assert_eq!(keys("amy", "presence_leave"), [json!(["ann", "busy"])]);
    assert_eq!(keys("bob", "presence_join"), [json!(["bob", "spying"])], "bob sees only his tenant: himself");
    assert_eq!(keys("bob", "presence_leave"), Vec::<Value>::new());
}
