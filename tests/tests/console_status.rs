//! The platform administrator's server status (`GET /platform/v1/status`, V16's
//! `platform.replication_slots`): this server's real-time slot with its lag, its sockets and
//! channels, the rate limit and its recent 429s — over HTTP and on the console's page, in a
//! real browser with a real WebSocket open. Attacks: a tenant administrator's token, a tenant
//! user's and no token get the database's refusal and none of the numbers.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json};
use tenancy_e2e::console::{self, assert_clean, browse, page_fetch, sign_in_platform, then, PLATFORM_PASSWORD};
use tenancy_e2e::realtime::{changes_settings, slot_name, wait_for_stream};
use tenancy_e2e::sign_in::{claims, member, new_email, SignInApi};
use tenancy_e2e::*;

/// The console's server with its own slot and a tight rate limit (1/s, bursts of 2).
async fn start() -> (SignInApi, String) {
    let slot = slot_name("tenancy_test");
    let settings = changes_settings(&slot).await;
    let mut vars: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend([("TENANCY_RATE_LIMIT_RPS", "1"), ("TENANCY_RATE_LIMIT_BURST", "2")]);
    let server = console::start_with(&vars).await;
    wait_for_stream(&slot).await;
    (server, slot)
}

async fn status(server: &SignInApi, token: Option<&str>) -> (StatusCode, Value) {
    let request = server.api.http().get(format!("{}/platform/v1/status", server.api.url));
    json(
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
        .await
        .unwrap(),
    )
    .await
}

/// An access token from /auth/v1's password grant.
async fn signed_in(server: &SignInApi, email: &str, password: &str) -> String {
    let grant = server.api.http().post(format!("{}/token?grant_type=password", server.auth_url));
    let (status, session) =
        json(grant.json(&json!({"email": email, "password": password})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{session}");
    session["access_token"].as_str().unwrap().to_string()
}

/// `n` quick reads by a user of `tenant`: how many were refused with 429.
async fn burst(server: &SignInApi, tenant: &Tenant, n: usize) -> u64 {
    let mut refused = 0;
    for _ in 0..n {
        let read = server.api.as_tenant(reqwest::Method::GET, "/employees?select=id", tenant.id, "hrms");
        refused += u64::from(read.send().await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS);
    }
    refused
}

#[tokio::test]
async fn the_platform_administrator_reads_the_slot_and_the_rate_limits_refusals() {
    let (server, slot) = start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let refused = burst(&server, &t, 6).await;
    assert!(refused >= 2, "{refused} of 6 refused at 1/s with bursts of 2");
    let token = signed_in(&server, &console::platform_account().await, PLATFORM_PASSWORD).await;

    let (code, body) = status(&server, Some(&token)).await;
    assert_eq!(code, 200, "{body}");
    let realtime = &body["realtime"];
    assert_eq!(
        (&realtime["changes"], &realtime["slot"], &realtime["streaming"]),
        (&json!(true), &json!(slot), &json!(true))
    );
    assert_eq!((&realtime["sockets"], &realtime["channels"]), (&json!(0), &json!(0)));
    // One node read (on Citus, one per node): the database's own.
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "54329".into());
    let nodes = realtime["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{realtime}");
    assert_eq!((&nodes[0]["node"], &nodes[0]["streaming"]), (&json!(format!("127.0.0.1:{port}")), &json!(true)));
    let own = &realtime["slot_state"];
    assert_eq!((&own["slot_name"], &own["active"], &own["plugin"]), (&json!(slot), &json!(true), &json!("pgoutput")));
    assert!(own["confirmed_flush_lsn"].as_str().unwrap().contains('/'), "an LSN: {own}");
    assert!(own["lag_bytes"].as_i64().unwrap() >= 0, "{own}");
    let slots = body["replication_slots"].as_array().unwrap();
    assert!(slots.iter().any(|s| s["slot_name"] == slot.as_str()));

    let limit = &body["rate_limit"];
    assert_eq!((&limit["enabled"], &limit["per_second"], &limit["burst"]), (&json!(true), &json!(1), &json!(2)));
    assert_eq!((&limit["refused"]["last_hour"], &limit["refused"]["since_start"]), (&json!(refused), &json!(refused)));
    assert_eq!(limit["refused"]["by_tenant"], json!([{"tenant_id": t.id, "slug": t.slug, "refused": refused}]));
}

#[tokio::test]
async fn a_tenant_administrator_a_tenant_user_and_no_token_are_refused_the_status() {
    let (server, _) = start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, "a good password", &["tenant_admin"]).await;
    let tenant_admin = signed_in(&server, &email, "a good password").await;
    assert_eq!(claims(&tenant_admin)["tenant_role"], json!(["tenant_admin"]));

    for (who, token, expected) in [
        ("tenant admin", Some(tenant_admin.as_str()), StatusCode::FORBIDDEN),
        ("tenant user", Some(api::token(t.id).as_str()), StatusCode::FORBIDDEN),
        ("anonymous", None, StatusCode::UNAUTHORIZED),
    ] {
        let (code, body) = status(&server, token).await;
        assert_eq!((code, &body["code"]), (expected, &json!("42501")), "{who}: {body}");
        assert!(body.get("realtime").is_none() && body.get("rate_limit").is_none(), "{who}: {body}");
    }
}

/// Opens a WebSocket in the page with the console's token and joins `topic`; answers the
/// join's reply status.
fn join_channel(topic: &str) -> String {
    format!(
        "new Promise((resolve, reject) => {{
            const token = JSON.parse(sessionStorage.getItem('tenancy.console.session')).token;
            const ws = new WebSocket(location.origin.replace('http', 'ws') + '/realtime/v1/websocket?vsn=1.0.0&apikey=' + token);
            window.statusTestSocket = ws;
            ws.onopen = () => ws.send(JSON.stringify({{topic: 'realtime:{topic}', event: 'phx_join', ref: '1',
                payload: {{config: {{broadcast: {{self: false}}, presence: {{key: ''}}}}, access_token: token}}}}));
            ws.onmessage = (m) => {{ const r = JSON.parse(m.data); if (r.ref === '1') resolve(r.payload.status); }};
            ws.onerror = () => reject(new Error('the socket failed'));
        }})"
    )
}

#[tokio::test]
async fn the_status_page_shows_the_slot_sockets_channels_and_refusals() {
    let (server, slot) = start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let refused = burst(&server, &t, 5).await;
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"click": "a::-p-text(Server status)"},
                {"wait": format!(".status-slot::-p-text({slot})")},
                {"eval": join_channel("status-page"), "as": "joined"},
                {"click": "button::-p-text(Refresh)"},
                {"wait": ".status-sockets::-p-text(1)"},
                {"text": ".status-streaming", "as": "streaming"},
                {"text": ".status-channels", "as": "channels"},
                {"text": ".status-confirmed", "as": "confirmed"},
                {"text": ".status-limit", "as": "limit"},
                {"text": ".status-refused-hour", "as": "refused"},
                {"text": ".status-refused-tenants", "as": "tenants"},
                {"text": format!("[data-slot='{slot}']"), "as": "slot_row"},
                {"screenshot": "platform-status"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let values = &out["values"];
    assert_eq!(values["joined"], "ok");
    assert_eq!(values["streaming"], "yes");
    assert!(values["channels"].as_str().unwrap().starts_with("1 (1 joined"), "{}", values["channels"]);
    assert!(values["confirmed"].as_str().unwrap().contains('/'), "an LSN: {}", values["confirmed"]);
    assert_eq!(values["limit"], "1 requests/s, bursts of 2");
    assert_eq!(values["refused"], refused.to_string());
    assert_eq!(values["tenants"], format!("{}: {refused}", t.slug));
    assert!(values["slot_row"].as_str().unwrap().contains("yes"), "{}", values["slot_row"]);
}

#[tokio::test]
async fn a_tenant_administrator_sees_no_status_page_and_its_request_is_refused() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, "a good password", &["tenant_admin"]).await;
    let out = browse(
        &server,
        then(
            console::sign_in_tenant(&email, "a good password"),
            json!([
                {"wait": "td.column-name::-p-text(Payroll)"},
                {"absent": "a::-p-text(Server status)", "as": "no_menu_item"},
                {"goto": "/console/status"},
                {"eval": "document.body.innerText", "as": "page"},
                {"eval": page_fetch("GET", "/platform/v1/status", json!({}), None), "as": "tampered"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let values = &out["values"];
    assert_eq!(values["no_menu_item"], json!(true));
    let page = values["page"].as_str().unwrap();
    assert!(!page.contains("Real-time") && !page.contains("Rate limit"), "{page}");
    assert_eq!((&values["tampered"]["status"], &values["tampered"]["body"]["code"]), (&json!(403), &json!("42501")));
    assert!(values["tampered"]["body"].get("realtime").is_none());
}
