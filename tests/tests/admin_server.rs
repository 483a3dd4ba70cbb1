//! The admin port (PGRST_ADMIN_SERVER_PORT, as PostgREST): `/live`, `/ready` and `/metrics`
//! are served there and not on the API port, where `/health` stays without the database's
//! error text (issue 10, item 3).
use reqwest::StatusCode;
use tenancy_e2e::api::{self, token};
use tenancy_e2e::*;

#[tokio::test]
async fn metrics_are_served_on_the_admin_port_only() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let read = api
        .http()
        .get(format!("{}/employees", api.url))
        .bearer_auth(token(t.id))
        .header("Accept-Profile", "hrms")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);

    let public = api.http().get(format!("{}/metrics", api.url)).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND, "not on the API port");
    assert!(!public.text().await.unwrap().contains("tenancy_http_requests_total"));

    let metrics = api.http().get(format!("{}/metrics", api.admin_url)).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert_eq!(metrics.headers()["content-type"], "text/plain; version=0.0.4");
    let text = metrics.text().await.unwrap();
    assert!(text.contains(r#"tenancy_http_requests_total{route="/{resource}",method="GET",status="200"} 1"#), "{text}");

    for probe in ["/live", "/ready"] {
        let response = api.http().get(format!("{}{probe}", api.admin_url)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{probe}");
        assert_eq!(response.text().await.unwrap(), "", "{probe}: an empty body, as PostgREST");
    }
    let on_api_port = api.http().get(format!("{}/live", api.url)).send().await.unwrap();
    assert_eq!(on_api_port.status(), StatusCode::NOT_FOUND);
}

/// Several servers in one process (as here) each count their own requests and tenants: the
/// metrics are the server's, not the process's.
#[tokio::test]
async fn each_server_counts_its_own_requests_and_tenants() {
    let (busy, idle) = (api::start().await, api::start().await);
    let admin = superuser().await;
    let (a, b) = (create_tenant(&admin, "free", &["hrms"]).await, create_tenant(&admin, "free", &["hrms"]).await);
    for tenant in [a.id, a.id, b.id] {
        let read = busy.as_tenant(reqwest::Method::GET, "/employees", tenant, "hrms").send().await.unwrap();
        assert_eq!(read.status(), StatusCode::OK);
    }
    let metrics = |api: &api::Api| {
        let url = format!("{}/metrics", api.admin_url);
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let text = metrics(&busy).await;
    assert!(text.contains(r#"tenancy_http_requests_total{route="/{resource}",method="GET",status="200"} 3"#), "{text}");
    assert!(text.contains("tenancy_tenants_served 2\n"), "two distinct tenants: {text}");
    assert!(text.contains("# TYPE tenancy_http_request_duration_seconds histogram"), "{text}");
    assert!(text.contains(r#"tenancy_http_request_duration_seconds_bucket{le="0.001"} "#), "{text}");
    assert!(text.contains(r#"tenancy_http_request_duration_seconds_bucket{le="+Inf"} 3"#), "{text}");
    assert!(text.contains("tenancy_http_request_duration_seconds_count 3\n"), "{text}");
    assert!(text.contains("tenancy_pool_waiting 0\n"), "{text}");

    let text = metrics(&idle).await;
    assert!(!text.contains("tenancy_http_requests_total{"), "the other server served nothing: {text}");
    assert!(text.contains("tenancy_tenants_served 0\n"), "{text}");
}

#[tokio::test]
async fn without_the_database_ready_and_health_say_503_and_no_more() {
    let scratch = ScratchDatabase::create("unready").await;
    scratch.connect().await.batch_execute("CREATE EXTENSION tenancy").await.unwrap();
    let uri = scratch.url().replacen("postgres@", "authenticator@", 1);
    let api = api::start_with(&[("PGRST_DB_URI", uri.as_str()), ("PGRST_DB_SCHEMAS", "public")]).await;
    let ready = || api.http().get(format!("{}/ready", api.admin_url)).send();
    let health = || api.http().get(format!("{}/health", api.url)).send();
    assert_eq!(ready().await.unwrap().status(), StatusCode::OK);
    assert_eq!(health().await.unwrap().status(), StatusCode::OK);

    // The database goes away: connections in the pool are cut and new ones refused.
    superuser().await.batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", scratch.name)).await.unwrap();
    assert_eq!(ready().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    let live = api.http().get(format!("{}/live", api.admin_url)).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK, "alive, if not ready");
    let down = health().await.unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = down.text().await.unwrap();
    assert_eq!(body, r#"{"status":"unavailable"}"#, "no connection error text for the caller");
}
