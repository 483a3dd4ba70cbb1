//! Postgres Changes on the Citus cluster (scripts/up-citus): the rows of two tenants whose shards
//! are on different workers are written through the coordinator, so into the two workers' WAL;
//! the server reads a slot on every node. Each subscriber receives exactly its own tenant's
//! inserts, updates and deletes, in order; a subscriber naming the other tenant in its filter,
//! or subscribed to the whole table, receives nothing of it.
use serde_json::{json, Value};
use tenancy_e2e::citus::TenantTable;
use tenancy_e2e::node::drive;
use tenancy_e2e::realtime::{seen, subscribe};

fn rest(token: &str, method: &str, path: &str, body: Value) -> Value {
    json!({"do": "rest", "token": token, "method": method, "path": path, "body": body})
}

/// What a subscriber saw: (event, body of the new row, id of the old one) per change, in order.
fn changes(out: &Value, client: &str, channel: &str) -> Vec<(String, Value, Value)> {
    seen(out, client, channel, "postgres_changes")
        .iter()
        .map(|c| (c["eventType"].as_str().unwrap().to_string(), c["new"]["body"].clone(), c["old"]["id"].clone()))
        .collect()
}

#[tokio::test]
async fn each_subscriber_receives_its_own_tenants_changes_from_its_worker_in_order() {
    let t = TenantTable::create().await;
    let (a, b) = (t.a, t.tenant_apart_from_a().await);
    assert_ne!(t.node_of(a).await, t.node_of(b).await, "the two tenants' shards are on different workers");
    let api = t.realtime_server().await;
    let (ta, tb) = (t.token(a), t.token(b));
    let table = t.table.trim_start_matches("public.");
    let path = format!("/{table}");
    let everything = json!([{"event": "*", "schema": "public", "table": table}]);
    let out = drive(
        "realtime_session.mjs",
        &json!({
            "url": api.url,
            "clients": {"ann": {"token": ta}, "bob": {"token": tb}, "spy": {"token": tb}},
            "steps": [
                subscribe("ann", "all", everything.clone()),
                subscribe("bob", "all", everything),
                // B's token asking for A's rows by name.
                subscribe("spy", "a", json!([{"event": "*", "schema": "public", "table": table,
                                              "filter": format!("tenant_id=eq.{a}")}])),
                rest(&ta, "POST", &path, json!({"body": "a-new"})),
                rest(&tb, "POST", &path, json!({"body": "b-new"})),
                rest(&ta, "PATCH", &format!("{path}?body=eq.a-new"), json!({"body": "a-edited"})),
                rest(&tb, "PATCH", &format!("{path}?body=eq.b-new"), json!({"body": "b-edited"})),
                rest(&ta, "POST", &path, json!([{"body": "a-second"}, {"body": "a-third"}])),
                {"do": "wait", "ms": 500},
                rest(&ta, "DELETE", &format!("{path}?body=eq.a-edited"), Value::Null),
                rest(&tb, "DELETE", &format!("{path}?body=eq.b-edited"), Value::Null),
                {"do": "wait", "ms": 2000},
            ],
        }),
    )
    .await;
    for i in 0..3 {
        assert_eq!(out["results"][i], json!({"status": "SUBSCRIBED"}), "{out}");
    }
    for r in &out["results"].as_array().unwrap()[3..12] {
        assert!(r.is_null() || r["status"].as_u64().unwrap() < 300, "{r}");
    }
    let (a_id, b_id) = (out["results"][3]["body"][0]["id"].clone(), out["results"][4]["body"][0]["id"].clone());

    let ann = changes(&out, "ann", "all");
    let expected_a = [
        ("INSERT".to_string(), json!("a-new"), Value::Null),
        ("UPDATE".to_string(), json!("a-edited"), Value::Null),
        ("INSERT".to_string(), json!("a-second"), Value::Null),
        ("INSERT".to_string(), json!("a-third"), Value::Null),
        ("DELETE".to_string(), Value::Null, a_id),
    ];
    assert_eq!(ann, expected_a, "A's changes, from A's worker, in order: {out}");
    let bob = changes(&out, "bob", "all");
    let expected_b = [
        ("INSERT".to_string(), json!("b-new"), Value::Null),
        ("UPDATE".to_string(), json!("b-edited"), Value::Null),
        ("DELETE".to_string(), Value::Null, b_id),
    ];
    assert_eq!(bob, expected_b, "B's changes, from the other worker, in order: {out}");
    for c in seen(&out, "ann", "all", "postgres_changes") {
        assert_eq!(c["new"]["tenant_id"].as_str().or(c["old"]["tenant_id"].as_str()), Some(&*a.to_string()), "{c}");
    }
    assert!(seen(&out, "spy", "a", "postgres_changes").is_empty(), "B naming A's tenant_id sees nothing: {out}");
    for client in ["bob", "spy"] {
        let saw = out["events"][client].to_string();
        for body in ["a-new", "a-edited", "a-second", "a-third"] {
            assert!(!saw.contains(body), "nothing of A reached B's subscriber {client}: {out}");
        }
        assert!(!saw.contains(&a.to_string()), "not even A's id: {out}");
    }
}
