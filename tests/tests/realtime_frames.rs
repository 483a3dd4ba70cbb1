//! A client that is not realtime-js: bad tokens and versions are refused at the upgrade with
//! REST's bodies; forged and malformed frames, topics never joined, oversized frames and more
//! joins than a socket may have get clear answers — and the server keeps serving.
use serde_json::{json, Value};
use tenancy_e2e::api::{self, expired_token, token, token_with};
use tenancy_e2e::node::drive;
use tenancy_e2e::*;

async fn raw(url: &str, query: &str, frames: Value) -> Value {
    drive("realtime_raw.mjs", &json!({"url": url, "query": query, "frames": frames, "wait_ms": 800})).await
}

fn text(v: Value) -> Value {
    json!({"text": v.to_string()})
}

/// The replies to the frames, by ref (v2 arrays: [join_ref, ref, topic, event, payload]).
fn reply<'a>(out: &'a Value, msg_ref: &str) -> &'a Value {
    out["received"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m[1] == msg_ref && m[3] == "phx_reply")
        .unwrap_or_else(|| panic!("no reply to {msg_ref}: {out}"))
}

#[tokio::test]
async fn bad_tokens_and_versions_are_refused_at_the_upgrade() {
    let api = api::start().await;
    let t = create_tenant(&superuser().await, "free", &[]).await;
    let forged = token(t.id)[..60].to_string() + "AAAA.BBBB";
    for (query, status, code) in [
        (format!("apikey={}&vsn=2.0.0", expired_token(t.id)), 401, "PGRST303"),
        (format!("apikey={forged}&vsn=2.0.0"), 401, "PGRST301"),
        (format!("apikey={}&vsn=3.0.0", token(t.id)), 400, "PGRST100"),
        ("apikey=garbage".to_string(), 401, "PGRST301"),
    ] {
        let out = raw(&api.url, &query, json!([])).await;
        assert_eq!(out["refused"]["status"], status, "{query}: {out}");
        assert_eq!(out["refused"]["body"]["code"], code, "{query}: {out}");
    }
}

#[tokio::test]
async fn malformed_and_forged_frames_get_answers_and_the_socket_goes_on() {
    let api = api::start().await;
    let t = create_tenant(&superuser().await, "free", &[]).await;
    let query = format!("apikey={}&vsn=2.0.0", token(t.id));
    let mut unknown_kind = vec![9u8, 0, 0, 0, 0, 0, 1];
    unknown_kind.extend_from_slice(b"{}");
    let truncated = [3u8, 5, 1, 200, 1, 0, 1, b'x'];
    let out = raw(
        &api.url,
        &query,
        json!([
            {"text": "not json"},
            {"text": "{\"topic\": \"phoenix\"}"},
            {"text": "[null, \"1\", \"realtime:room\", \"broadcast\", \"not an object\"]"},
            {"bytes": unknown_kind},
            {"bytes": truncated},
            text(json!([null, "2", "realtime:never-joined", "broadcast", {"type": "broadcast", "event": "x", "payload": {}}])),
            text(json!(["3", "3", "realtime:room", "phx_join", {"config": {}, "access_token": "forged.token.here"}])),
            text(json!(["4", "4", "realtime:room", "phx_join", {"config": {"postgres_changes": [{"event": "TRUNCATE", "schema": "chat"}]}}])),
            text(json!(["5", "5", "realtime:room", "phx_join", {"config": {"private": true}}])),
            text(json!(["6", "6", "realtime:room", "phx_join", {"config": {}}])),
            text(json!(["6", "7", "realtime:room", "teleport", {}])),
            text(json!([null, "8", "phoenix", "heartbeat", {}])),
        ]),
    )
    .await;
    let errors: Vec<&Value> =
        out["received"].as_array().unwrap().iter().filter(|m| m[2] == "phoenix" && m[3] == "phx_error").collect();
    assert_eq!(errors.len(), 5, "one phx_error per malformed frame: {out}");
    assert!(errors.iter().all(|e| e[4]["reason"].as_str().is_some_and(|r| !r.is_empty())), "{out}");
    assert_eq!(reply(&out, "2")[4]["response"]["reason"], "unmatched topic");
    let forged = &reply(&out, "3")[4];
    assert_eq!(
        (forged["status"].clone(), forged["response"]["code"].clone()),
        (json!("error"), json!("PGRST301")),
        "{out}"
    );
    assert_eq!(reply(&out, "4")[4]["status"], "error");
    assert_eq!(reply(&out, "5")[4]["status"], "error", "private channels are refused, not silently public");
    assert_eq!(reply(&out, "6")[4]["status"], "ok", "a good join after all that works");
    assert_eq!(reply(&out, "7")[4]["status"], "error", "an unknown event is refused");
    assert_eq!(reply(&out, "8")[4]["status"], "ok", "and the socket still answers heartbeats");
}

#[tokio::test]
async fn oversized_frames_close_the_socket_and_thousands_of_joins_are_bounded() {
    let api = api::start().await;
    let t = create_tenant(&superuser().await, "free", &[]).await;
    let query = format!("apikey={}&vsn=2.0.0", token(t.id));
    let out = raw(&api.url, &query, json!([{"junk": 70000}])).await;
    assert_eq!(out["closed"]["code"], 1009, "over TENANCY_REALTIME_MAX_MESSAGE_BYTES: {out}");

    let joins: Vec<Value> = (0..2000)
        .map(|i| text(json!([i.to_string(), i.to_string(), format!("realtime:room{i}"), "phx_join", {"config": {}}])))
        .collect();
    let out = raw(&api.url, &query, Value::Array(joins)).await;
    let statuses: Vec<Value> = (0..2000).map(|i| reply(&out, &i.to_string())[4]["status"].clone()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "ok").count(), 100, "TENANCY_REALTIME_MAX_CHANNELS (100)");
    assert!(reply(&out, "1999")[4]["response"]["message"].as_str().unwrap().contains("Too many channels"));

    // A token without a tenant may not ask for Postgres Changes.
    let platform = token_with(json!({"role": "platform_admin"}));
    let join = json!(["1", "1", "realtime:room", "phx_join",
                      {"config": {"postgres_changes": [{"event": "*", "schema": "chat", "table": "messages"}]}}]);
    let out = raw(&api.url, &format!("apikey={platform}&vsn=2.0.0"), json!([text(join)])).await;
    assert_eq!(reply(&out, "1")[4]["status"], "error", "Postgres Changes need a tenant: {out}");
}
