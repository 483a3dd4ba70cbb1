//! Attacks on Postgres Changes: a tenant subscribed to everything, with every filter, while
//! another writes; a table of a module the tenant lacks; a role that may not read the table,
//! or only some of its columns. Each is refused, or nothing of another tenant arrives.
use serde_json::{json, Value};
use tenancy_e2e::api::{token, token_with};
use tenancy_e2e::node::drive;
use tenancy_e2e::realtime::{chat_channel, seen, subscribe};
use tenancy_e2e::*;

#[tokio::test]
async fn a_tenant_subscribed_to_everything_receives_nothing_of_another() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "premium", &["chat", "events"]).await;
    let b = create_tenant(&admin, "premium", &["chat", "events"]).await;
    let a_general = chat_channel(&mut admin, a.id, "general").await;
    let b_general = chat_channel(&mut admin, b.id, "general").await;
    let everything = json!([
        {"event": "*", "schema": "*"},
        {"event": "*", "schema": "chat", "table": "*"},
        {"event": "*", "schema": "chat", "table": "messages", "filter": format!("tenant_id=eq.{}", b.id)},
        {"event": "*", "schema": "chat", "table": "messages", "filter": format!("channel_id=in.({b_general},{a_general})")},
        {"event": "INSERT", "schema": "chat", "table": "messages", "filter": "body=neq.nothing"},
        {"event": "*", "schema": "chat", "table": "messages", "filter": "id=gte.0"},
        {"event": "*", "schema": "events", "table": "events", "filter": "title=lt.zzz"},
    ]);
    let tb = token(b.id);
    let write = |path: &str, schema: &str, body: Value| json!({"do": "rest", "token": tb, "method": "POST", "path": path, "schema": schema, "body": body});
    let out = drive(
        "realtime_session.mjs",
        &json!({
            "url": api.url,
            "clients": {"eve": {"token": token(a.id)}},
            "steps": [
                subscribe("eve", "spy", everything),
                write("/messages", "chat", json!({"channel_id": b_general, "body": "secret of b"})),
                write("/events", "events", json!({"title": "b's party", "starts_at": "2027-01-01T00:00:00Z"})),
                {"do": "rest", "token": tb, "method": "PATCH", "path": "/messages?body=eq.secret%20of%20b",
                 "schema": "chat", "body": {"body": "still secret"}},
                {"do": "rest", "token": tb, "method": "DELETE", "path": "/messages?body=eq.still%20secret", "schema": "chat"},
                {"do": "rest", "token": token(a.id), "method": "POST", "path": "/messages", "schema": "chat",
                 "body": {"channel_id": a_general, "body": "mine"}},
                {"do": "wait", "ms": 1500},
            ],
        }),
    )
    .await;
    assert_eq!(out["results"][0], json!({"status": "SUBSCRIBED"}), "{out}");
    for r in &out["results"].as_array().unwrap()[1..6] {
        assert!(r["status"].as_u64().unwrap() < 300, "{r}");
    }
    let changes = seen(&out, "eve", "spy", "postgres_changes");
    assert!(!changes.is_empty(), "the stream works: eve sees her own tenant's message: {out}");
    for c in &changes {
        assert_eq!(c["new"]["tenant_id"], json!(a.id), "only tenant A's rows: {c}");
        assert_eq!(c["new"]["body"], "mine", "{c}");
    }
    assert!(!out["events"].to_string().contains("secret"), "nothing of B anywhere in what eve saw");
}

#[tokio::test]
async fn a_table_of_a_module_the_tenant_lacks_is_refused_with_the_rest_body() {
    let api = tenancy_e2e::realtime::start().await;
    let admin = superuser().await;
    let free = create_tenant(&admin, "free", &[]).await;
    let out = drive(
        "realtime_session.mjs",
        &json!({
            "url": api.url,
            "clients": {"ann": {"token": token(free.id)}},
            "steps": [
                subscribe("ann", "chat", json!([{"event": "*", "schema": "chat", "table": "messages"}])),
                subscribe("ann", "nothing", json!([{"event": "*", "schema": "chat", "table": "nope"}])),
                subscribe("ann", "wild", json!([{"event": "*", "schema": "*"}])),
            ],
        }),
    )
    .await;
    let refused = &out["statuses"]["ann"]["chat"][0];
    assert_eq!(refused[0], "CHANNEL_ERROR", "{out}");
    let body = &refused[2];
    assert_eq!(
        (body["error"].clone(), body["module"].clone(), body["code"].clone()),
        (json!("Module not enabled"), json!("chat"), json!("TN010")),
        "{out}"
    );
    assert!(body.get("upgrade").is_some(), "{body}");
    let unknown = &out["statuses"]["ann"]["nothing"][0];
    assert_eq!((unknown[0].clone(), unknown[2]["code"].clone()), (json!("CHANNEL_ERROR"), json!("42P01")), "{out}");
    assert_eq!(
        out["results"][2],
        json!({"status": "SUBSCRIBED"}),
        "a wildcard covers only what the tenant may read: {out}"
    );
}

#[tokio::test]
async fn a_role_without_the_table_is_refused_and_one_without_a_column_does_not_see_it() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["chat"]).await;
    let general = chat_channel(&mut admin, a.id, "general").await;
    let nobody = unique("rt_nobody").replace('-', "_");
    let partial = unique("rt_partial").replace('-', "_");
    admin
        .batch_execute(&format!(
            "CREATE ROLE {nobody} NOLOGIN; CREATE ROLE {partial} NOLOGIN;
             GRANT USAGE ON SCHEMA chat TO {nobody}, {partial};
             GRANT SELECT (tenant_id, id, channel_id, sent_at) ON chat.messages TO {partial};
             GRANT {nobody}, {partial} TO authenticator;"
        ))
        .await
        .unwrap();
    let as_role = |role: &str| token_with(json!({"role": role, "tenant_id": a.id}));
    let out = drive(
        "realtime_session.mjs",
        &json!({
            "url": api.url,
            "clients": {"nobody": {"token": as_role(&nobody)}, "partial": {"token": as_role(&partial)}},
            "steps": [
                subscribe("nobody", "c", json!([{"event": "*", "schema": "chat", "table": "messages"}])),
                subscribe("partial", "c", json!([{"event": "*", "schema": "chat", "table": "messages"}])),
                subscribe("partial", "f", json!([{"event": "*", "schema": "chat", "table": "messages", "filter": "body=eq.x"}])),
                {"do": "rest", "token": token(a.id), "method": "POST", "path": "/messages", "schema": "chat",
                 "body": {"channel_id": general, "body": "private words"}},
                {"do": "wait", "ms": 1500},
            ],
        }),
    )
    .await;
    let refused = &out["statuses"]["nobody"]["c"][0];
    assert_eq!((refused[0].clone(), refused[2]["code"].clone()), (json!("CHANNEL_ERROR"), json!("42501")), "{out}");
    let filter_refused = &out["statuses"]["partial"]["f"][0];
    assert_eq!(filter_refused[0], "CHANNEL_ERROR", "a filter on a column it may not read: {out}");
    let changes = seen(&out, "partial", "c", "postgres_changes");
    assert_eq!(changes.len(), 1, "{out}");
    let new = changes[0]["new"].as_object().unwrap();
    assert_eq!(new.keys().collect::<Vec<_>>(), ["channel_id", "id", "sent_at", "tenant_id"], "{out}");
    assert!(!out["events"].to_string().contains("private words"));
}

#[tokio::test]
async fn row_level_security_with_has_permission_decides_per_group_of_claims() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms", "chat"]).await;
    let general = chat_channel(&mut admin, t.id, "general").await;
    let schema = unique("rt_perm").replace('-', "_");
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.notes (tenant_id uuid NOT NULL, id int, body text, PRIMARY KEY (tenant_id, id));
             SELECT tenancy.protect('{schema}.notes', 'hrms');
             CREATE POLICY hr_only ON {schema}.notes AS RESTRICTIVE FOR SELECT USING (tenancy.has_permission('hrms:read'));
             GRANT USAGE ON SCHEMA {schema} TO tenant_member;
             GRANT SELECT ON {schema}.notes TO tenant_member;
             SELECT realtime.publish('{schema}.notes');"
        ))
        .await
        .unwrap();
    let as_role =
        |role: &str| token_with(json!({"role": "tenant_member", "tenant_id": t.id, "sub": role, "tenant_role": role}));
    let (hr, sales) = (as_role("hr_manager"), as_role("sales_rep"));
    let notes = json!([{"event": "INSERT", "schema": schema, "table": "notes"}]);
    let input = json!({
        "url": api.url,
        "clients": {"hr": {"token": hr}, "sales": {"token": sales}},
        "steps": [
            subscribe("hr", "n", notes.clone()),
            subscribe("sales", "n", notes),
            {"do": "rest", "token": token(t.id), "method": "POST", "path": "/messages", "schema": "chat",
             "body": {"channel_id": general, "body": "subscribed"}},
            {"do": "wait", "ms": 2500},
        ],
    });
    let write = async {
        for _ in 0..300 {
            let n: i64 =
                value(&admin, &format!("SELECT count(*) FROM chat.messages WHERE channel_id = '{general}'")).await;
            if n > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        admin.execute(&format!("INSERT INTO {schema}.notes VALUES ($1, 1, 'salary review')"), &[&t.id]).await.unwrap();
    };
    let (out, ()) = tokio::join!(drive("realtime_session.mjs", &input), write);
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
    assert_eq!(out["results"][1], json!({"status": "SUBSCRIBED"}), "the table is readable to both roles: {out}");
    let hr_saw: Vec<Value> =
        seen(&out, "hr", "n", "postgres_changes").iter().map(|c| c["new"]["body"].clone()).collect();
    assert_eq!(hr_saw, [json!("salary review")], "{out}");
    assert!(seen(&out, "sales", "n", "postgres_changes").is_empty(), "has_permission hides it from sales: {out}");
}

/// One commit touches three tenants and suspends one of them: its changes reach the server as
/// one batch, whose group checks run in one pipelined transaction, a savepoint each. Every
/// group must be checked as itself — a group's tenant, role and claims never carry over to the
/// next, and a group whose setup fails (the suspended tenant) neither delivers nor spoils the
/// others.
#[tokio::test]
async fn the_groups_of_one_batch_are_each_checked_as_themselves() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["chat"]).await;
    let b = create_tenant(&admin, "free", &["chat"]).await;
    let s = create_tenant(&admin, "free", &["chat"]).await;
    let mut channels = Vec::new();
    for t in [a.id, b.id, s.id] {
        channels.push((t, chat_channel(&mut admin, t, "general").await));
    }
    let member = |t: uuid::Uuid, sub: &str| token_with(json!({"role": "tenant_member", "tenant_id": t, "sub": sub}));
    let messages = json!([{"event": "INSERT", "schema": "chat", "table": "messages"}]);
    let input = json!({
        "url": api.url,
        "clients": {"ann": {"token": member(a.id, "ann")}, "amy": {"token": member(a.id, "amy")},
                    "bob": {"token": member(b.id, "bob")}, "sue": {"token": member(s.id, "sue")}},
        "steps": [
            subscribe("ann", "c", messages.clone()),
            subscribe("amy", "c", messages.clone()),
            subscribe("bob", "c", messages.clone()),
            subscribe("sue", "c", messages),
            {"do": "rest", "token": token(a.id), "method": "POST", "path": "/messages", "schema": "chat",
             "body": {"channel_id": channels[0].1, "body": "subscribed"}},
            {"do": "wait", "ms": 2500},
        ],
    });
    let write = async {
        let subscribed = format!("SELECT count(*) FROM chat.messages WHERE channel_id = '{}'", channels[0].1);
        for _ in 0..300 {
            if value::<i64>(&admin, &subscribed).await > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let tx = admin.transaction().await.unwrap();
        for (t, channel) in &channels {
            let body = format!("for {t}");
            tx.execute(
                "INSERT INTO chat.messages (tenant_id, channel_id, body) VALUES ($1, $2, $3)",
                &[t, channel, &body],
            )
            .await
            .unwrap();
        }
        tx.execute("SELECT tenancy.suspend_tenant($1)", &[&s.id]).await.unwrap();
        tx.commit().await.unwrap();
    };
    let (out, ()) = tokio::join!(drive("realtime_session.mjs", &input), write);
    for i in 0..4 {
        assert_eq!(out["results"][i], json!({"status": "SUBSCRIBED"}), "{out}");
    }
    let bodies = |client: &str| -> Vec<Value> {
        seen(&out, client, "c", "postgres_changes")
            .iter()
            .map(|c| c["new"]["body"].clone())
            .filter(|b| b != "subscribed")
            .collect()
    };
    for client in ["ann", "amy"] {
        assert_eq!(bodies(client), [json!(format!("for {}", a.id))], "{client} sees A's row only: {out}");
    }
    assert_eq!(bodies("bob"), [json!(format!("for {}", b.id))], "bob sees B's row only: {out}");
    assert!(bodies("sue").is_empty(), "the suspended tenant's group delivers nothing: {out}");
}
