//! Per-tenant rate limits (TENANCY_RATE_LIMIT_RPS / _BURST): one tenant over its limit gets
//! 429 `TN429` with `Retry-After` and writes nothing; another tenant is not affected.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tenancy_e2e::api::{self, json};
use tenancy_e2e::demo_tenants::tenant_with_employees;
use tenancy_e2e::superuser;
use uuid::Uuid;

#[tokio::test]
async fn each_tenant_has_its_own_rate_limit() {
    let api = api::start_with(&[("TENANCY_RATE_LIMIT_RPS", "1"), ("TENANCY_RATE_LIMIT_BURST", "2")]).await;
    let a = tenant_with_employees(1).await;
    let b = tenant_with_employees(1).await;
    let get = |tenant: Uuid| api.as_tenant(Method::GET, "/employees", tenant, "hrms").send();
    for _ in 0..2 {
        assert_eq!(get(a.id).await.unwrap().status(), StatusCode::OK);
    }
    let limited = get(a.id).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(get(b.id).await.unwrap().status(), StatusCode::OK, "B has its own bucket");
}

#[tokio::test]
async fn a_write_over_the_limit_is_refused_with_tn429_and_writes_nothing() {
    let api = api::start_with(&[("TENANCY_RATE_LIMIT_RPS", "1"), ("TENANCY_RATE_LIMIT_BURST", "1")]).await;
    let t = tenant_with_employees(0).await;
    let hire = |name: &str| {
        api.as_tenant(Method::POST, "/employees", t.id, "hrms")
            .json(&json!({"first_name": name, "last_name": "L", "email": format!("{name}@x.example")}))
            .send()
    };
    assert_eq!(hire("First").await.unwrap().status(), StatusCode::CREATED);
    let limited = hire("Second").await.unwrap();
    let retry_after = limited.headers()["retry-after"].to_str().unwrap().to_string();
    assert!(limited.headers().contains_key("x-request-id"));
    let (status, body) = json(limited).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("TN429")), "{body}");
    assert_eq!(retry_after, "1", "one request a second: back in a second at most");
    let hired: i64 = superuser()
        .await
        .query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1", &[&t.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(hired, 1, "the refused request wrote nothing");
}
