//! Rights change live: the module disabled, the tenant suspended or the token expired while a
//! channel listens closes it within a second with a `system` error realtime-js shows, and
//! nothing written afterwards reaches it. A refreshed token keeps the channel; one of another
//! tenant closes it.
use serde_json::{json, Value};
use std::time::Duration;
use tenancy_e2e::api::{token, token_with};
use tenancy_e2e::node::drive;
use tenancy_e2e::realtime::seen;
use tenancy_e2e::*;
use uuid::Uuid;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

struct Chat {
    tenant: Uuid,
    channel: Uuid,
}

async fn chat_tenant(admin: &mut tokio_postgres::Client) -> Chat {
    let t = create_tenant(admin, "free", &["chat"]).await;
    as_tenant(admin, t.id, "INSERT INTO chat.channels (name) VALUES ('general')").await.unwrap();
    let channel = value(&*admin, &format!("SELECT id FROM chat.channels WHERE tenant_id = '{}'", t.id)).await;
    Chat { tenant: t.id, channel }
}

/// A message written behind the tenant's back (the superuser, no tenant context, RLS
/// bypassed): it exists whatever the tenant's rights.
async fn write(admin: &tokio_postgres::Client, chat: &Chat, body: &str) {
    admin
        .execute(
            "INSERT INTO chat.messages (tenant_id, channel_id, body) VALUES ($1, $2, $3)",
            &[&chat.tenant, &chat.channel, &body],
        )
        .await
        .unwrap();
}

/// `ann` subscribes to chat.messages with `token`, then writes "before" through REST (so it
/// comes after the join), then listens for `ms`; meanwhile `during` runs.
async fn listen_while(
    api_url: &str,
    token: &str,
    chat: &Chat,
    ms: u64,
    during: impl std::future::Future<Output = ()>,
) -> Value {
    let input = json!({
        "url": api_url,
        "clients": {"ann": {"token": token}},
        "steps": [
            {"do": "subscribe", "client": "ann", "channel": "chat",
             "changes": [{"event": "*", "schema": "chat", "table": "messages"}]},
            {"do": "rest", "token": token, "method": "POST", "path": "/messages", "schema": "chat",
             "body": {"channel_id": chat.channel, "body": "before"}},
            {"do": "wait", "ms": ms},
        ],
    });
    let (out, ()) = tokio::join!(drive("realtime_session.mjs", &input), during);
    out
}

/// Until "before" is committed, then long enough for it to be delivered on a busy machine.
async fn after_before(admin: &tokio_postgres::Client, chat: &Chat) {
    for _ in 0..300 {
        let n: i64 = admin
            .query_one("SELECT count(*) FROM chat.messages WHERE tenant_id = $1 AND body = 'before'", &[&chat.tenant])
            .await
            .unwrap()
            .get(0);
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the client never wrote \"before\"");
}

fn bodies(out: &Value) -> Vec<Value> {
    seen(out, "ann", "chat", "postgres_changes").iter().map(|c| c["new"]["body"].clone()).collect()
}

/// The channel was closed with a system error saying `why`, and realtime-js reported it.
fn closed(out: &Value, why: &str) {
    let system = seen(out, "ann", "chat", "system");
    let error = system.iter().find(|s| s["status"] == "error").unwrap_or_else(|| panic!("no system error: {out}"));
    assert!(error["message"].as_str().unwrap().contains(why), "{error}");
    assert!(
        seen(out, "ann", "chat", "status").iter().any(|s| s["status"] == "CLOSED"),
        "the channel is closed, not rejoining: {out}"
    );
}

/// While `ann` listens, `change` (SQL of `$1`, the tenant) takes its rights away: the channel
/// closes saying `why`, and nothing written afterwards reaches it.
async fn rights_taken_away(change: &str, why: &str) {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let chat = chat_tenant(&mut admin).await;
    let out = listen_while(&api.url, &token(chat.tenant), &chat, 6000, async {
        after_before(&admin, &chat).await;
        admin.execute(change, &[&chat.tenant]).await.unwrap();
        write(&admin, &chat, "right after").await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        write(&admin, &chat, "after").await;
    })
    .await;
    assert_eq!(bodies(&out), [json!("before")], "{out}");
    closed(&out, why);
}

#[tokio::test]
async fn disabling_the_module_closes_the_channel_and_stops_delivery() {
    rights_taken_away("SELECT tenancy.disable_module($1, 'chat')", "Module not enabled: chat").await;
}

#[tokio::test]
async fn suspending_the_tenant_closes_its_channels() {
    rights_taken_away("SELECT tenancy.suspend_tenant($1)", "This organisation's account is suspended").await;
}

#[tokio::test]
async fn an_expired_token_closes_the_channel() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let chat = chat_tenant(&mut admin).await;
    let exp = now() + 5;
    let short = token_with(json!({"role": "tenant_member", "tenant_id": chat.tenant, "exp": exp}));
    let out = listen_while(&api.url, &short, &chat, 8000, async {
        after_before(&admin, &chat).await;
        while now() <= exp + 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        write(&admin, &chat, "after").await;
    })
    .await;
    assert_eq!(bodies(&out), [json!("before")], "{out}");
    closed(&out, "Token has expired");
}

#[tokio::test]
async fn a_refreshed_token_keeps_the_channel_and_another_tenants_closes_it() {
    let api = tenancy_e2e::realtime::start().await;
    let mut admin = superuser().await;
    let chat = chat_tenant(&mut admin).await;
    let other = create_tenant(&admin, "free", &["chat"]).await;
    let exp = now() + 4;
    let short = token_with(json!({"role": "tenant_member", "tenant_id": chat.tenant, "exp": exp}));
    let subscribe = |client: &str| {
        json!({"do": "subscribe", "client": client, "channel": "chat",
               "changes": [{"event": "*", "schema": "chat", "table": "messages"}]})
    };
    let input = json!({
        "url": api.url,
        "clients": {"ann": {"token": short}, "bob": {"token": token(chat.tenant)}},
        "steps": [
            subscribe("ann"),
            subscribe("bob"),
            {"do": "set_auth", "client": "ann", "token": token(chat.tenant)},
            {"do": "set_auth", "client": "bob", "token": token(other.id)},
            {"do": "wait", "ms": 10000},
        ],
    });
    let during = async {
        while now() <= exp + 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        write(&admin, &chat, "after the first token expired").await;
    };
    let (out, ()) = tokio::join!(drive("realtime_session.mjs", &input), during);
    assert_eq!(bodies(&out), [json!("after the first token expired")], "refreshed: still listening: {out}");
    let bob = seen(&out, "bob", "chat", "system");
    assert!(bob.iter().any(|s| s["status"] == "error"), "another tenant's token closes the channel: {out}");
    assert!(seen(&out, "bob", "chat", "postgres_changes").is_empty(), "{out}");
}
