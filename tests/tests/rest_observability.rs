//! What the operator sees of each request: metrics by route template (never raw paths or
//! tenant ids), and the request id in the response header and the error body (the log line's
//! is in api-shim/tests/process.rs).
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use tenancy_e2e::api;
use tenancy_e2e::demo_tenants::tenant_with_employees;
use uuid::Uuid;

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

#[tokio::test]
async fn a_sane_request_id_is_kept_an_odd_or_missing_one_generated() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    let too_long = "x".repeat(129);
    let sent: [(Option<HeaderValue>, bool); 7] = [
        (Some(HeaderValue::from_static("abc-123:4.5_6")), true),
        (Some(HeaderValue::from_str(&"y".repeat(128)).unwrap()), true),
        (Some(HeaderValue::from_str(&too_long).unwrap()), false),
        (Some(HeaderValue::from_static("has space")), false),
        (Some(HeaderValue::from_static("")), false),
        (Some(HeaderValue::from_bytes(b"caf\xe9").unwrap()), false),
        (None, false),
    ];
    for (id, kept) in sent {
        let mut request = api.as_tenant(Method::GET, "/nope", t.id, "hrms");
        if let Some(id) = &id {
            request = request.header("X-Request-ID", id.clone());
        }
        let response = request.send().await.unwrap();
        let returned = response.headers().get_all("x-request-id").iter().cloned().collect::<Vec<_>>();
        assert_eq!(returned.len(), 1, "{id:?}: one id returned");
        let returned = returned[0].to_str().unwrap().to_string();
        if kept {
            assert_eq!(Some(returned.as_str()), id.as_ref().map(|v| v.to_str().unwrap()));
        } else {
            let generated = Uuid::parse_str(&returned).unwrap_or_else(|_| panic!("{id:?}: {returned} is no UUID"));
            assert_eq!(generated.get_version_num(), 4, "{id:?}");
        }
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id:?}");
    }
}

#[tokio::test]
async fn every_answer_carries_its_request_id() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    let read = api.as_tenant(Method::GET, "/employees", t.id, "hrms").header("X-Request-ID", "read-1").send();
    assert_eq!(read.await.unwrap().headers()["x-request-id"], "read-1");
    // The answers of the router's fallbacks: a path it does not serve, a method a path does not take.
    for (method, path, status) in [
        (Method::GET, "/a/b/c", StatusCode::NOT_FOUND),
        (Method::PATCH, "/rpc/headcount", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let response =
            api.as_tenant(method, path, t.id, "hrms").header("X-Request-ID", "odd-path").send().await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "odd-path", "{path}");
        assert_eq!(response.status(), status, "{path}");
    }
    let unknown_tenant = api.as_tenant(Method::GET, "/employees", Uuid::new_v4(), "hrms").send().await.unwrap();
    assert_eq!(unknown_tenant.status(), StatusCode::NOT_FOUND);
    assert!(unknown_tenant.headers().contains_key("x-request-id"), "an error answer carries it too");
}
