//! What the operator sees of each request: metrics by route template (never raw paths or
//! tenant ids), and the request id in the response, the error body and the log line.
use reqwest::Method;
use tenancy_e2e::api::{self};
use tenancy_e2e::demo_tenants::tenant_with_employees;

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    for path in ["/employees", "/nope"] {
        api.as_tenant(Method::GET, path, t.id, "hrms").send().await.unwrap();
    }
    let text = api.http().get(format!("{}/metrics", api.admin_url)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"tenancy_http_requests_total{route="/{resource}",method="GET",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"tenancy_http_requests_total{route="/{resource}",method="GET",status="404"} 1"#), "{text}");
    assert!(!text.contains("/employees") && !text.contains(&t.id.to_string()), "no raw paths or tenant ids in labels");
    assert!(text.contains("tenancy_tenants_served 1"), "{text}");
    assert!(text.contains("tenancy_http_request_duration_seconds_count"), "{text}");
    assert!(text.contains(r#"tenancy_pool_connections{state="max"} 4"#), "{text}");
}
