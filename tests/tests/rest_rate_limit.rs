//! Per-tenant rate limits (TENANCY_RATE_LIMIT_RPS / _BURST): one tenant over its limit gets
//! 429 `TN429` with `Retry-After`, another tenant is not affected.
use reqwest::{Method, StatusCode};
use tenancy_e2e::api::{self};
use tenancy_e2e::demo_tenants::tenant_with_employees;
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
