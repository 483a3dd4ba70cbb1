//! Refusals as a tenant's users and frontends read them (issue 10, item 5, the API's part): a
//! suspended tenant's user gets words for end users, not the operator's hint; a disabled
//! module's 403 says whether a plan upgrade is needed or the module can just be enabled; paths
//! and methods the server does not serve get PostgREST's codes.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::*;
use uuid::Uuid;

#[tokio::test]
async fn a_suspended_tenants_user_gets_a_message_for_end_users() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&t.id]).await.unwrap();
    let (status, body) =
        json(api.client(Some(&token(t.id))).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("TN002")));
    assert_eq!(body["message"], "This organisation's account is suspended");
    assert_eq!(body["hint"], "Contact your organisation's administrator.");
    let text = body.to_string();
    assert!(!text.contains("activate_tenant") && !text.contains(&t.slug), "nothing for the operator: {text}");
}

/// The 403 of acme's user reading a module's table: acme (premium) has hrms, chat, pipeline and
/// payroll enabled.
async fn module_refusal(profile: &str, table: &str) -> (StatusCode, Value) {
    let api = api::start().await;
    let acme: Uuid = value(&superuser().await, "SELECT id FROM tenancy.tenants WHERE slug = 'acme'").await;
    json(api.client(Some(&token(acme))).schema(profile).from(table).execute().await.unwrap()).await
}

#[tokio::test]
async fn a_module_the_plan_covers_can_be_enabled_no_upgrade_needed() {
    // library needs the standard plan; acme is premium but has not enabled it.
    let (status, body) = module_refusal("library", "books").await;
    assert_eq!((status, &body["code"], &body["module"]), (StatusCode::FORBIDDEN, &json!("TN010"), &json!("library")));
    assert_eq!(
        (&body["upgrade"], &body["enable"]),
        (&json!(false), &json!(true)),
        "acme's plan covers library: it only needs enabling ({body})"
    );
    assert!(body["hint"].as_str().unwrap().contains("enable"), "the database's hint: {body}");
}

#[tokio::test]
async fn a_module_above_the_plan_needs_an_upgrade() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let (status, body) =
        json(api.client(Some(&token(t.id))).schema("payroll").from("payslips").execute().await.unwrap()).await;
    assert_eq!((status, &body["code"], &body["module"]), (StatusCode::FORBIDDEN, &json!("TN010"), &json!("payroll")));
    assert_eq!((&body["upgrade"], &body["enable"]), (&json!(true), &json!(false)), "{body}");
}

#[tokio::test]
async fn paths_and_methods_the_server_does_not_serve() {
    let api = api::start().await;
    let response = api.http().get(format!("{}/a/b/c", api.url)).send().await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let (status, body) = json(response).await;
    assert_eq!((status, &body["code"]), (StatusCode::NOT_FOUND, &json!("PGRST125")), "{body}");
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["code", "details", "hint", "message"], "PostgREST's body, exactly");
    let (status, body) = json(api.http().delete(format!("{}/rpc/headcount", api.url)).send().await.unwrap()).await;
    assert_eq!(
        (status, &body["code"], &body["message"]),
        (StatusCode::METHOD_NOT_ALLOWED, &json!("PGRST101"), &json!("Cannot use the DELETE method on RPC"))
    );
    let (status, body) = json(api.http().post(format!("{}/", api.url)).send().await.unwrap()).await;
    assert_eq!(
        (status, &body["code"], &body["message"]),
        (StatusCode::METHOD_NOT_ALLOWED, &json!("PGRST117"), &json!("Unsupported HTTP method: POST"))
    );
}
