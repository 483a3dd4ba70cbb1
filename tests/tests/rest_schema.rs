//! What the server knows of the schema: the cache reloads on `NOTIFY pgrst`, and the OpenAPI
//! document lists only what the role may use.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::tenant_with_employees;
use tenancy_e2e::*;
use uuid::Uuid;

#[tokio::test]
async fn the_schema_cache_reloads_on_notify() {
    let api = api::start().await;
    let t = tenant_with_employees(0).await;
    let admin = superuser().await;
    let table = format!("reload_probe_{}", &Uuid::new_v4().simple().to_string()[..8]);
    let get = || api.as_tenant(Method::GET, &format!("/{table}"), t.id, "hrms").send();
    assert_eq!(get().await.unwrap().status(), StatusCode::NOT_FOUND);
    admin
        .batch_execute(&format!(
            "CREATE TABLE hrms.{table} (note text); INSERT INTO hrms.{table} VALUES ('hi');
             GRANT SELECT ON hrms.{table} TO tenant_member; NOTIFY pgrst, 'reload schema'"
        ))
        .await
        .unwrap();
    let mut status = StatusCode::NOT_FOUND;
    for _ in 0..50 {
        status = get().await.unwrap().status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    admin.batch_execute(&format!("DROP TABLE hrms.{table}")).await.unwrap();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_lists_what_the_role_may_use() {
    let api = api::start().await;
    let t = tenant_with_employees(0).await;
    let get = |token: Option<String>, profile: &'static str| {
        let mut request = api.http().get(format!("{}/", api.url)).header("Accept-Profile", profile);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    let (status, doc) = json(get(Some(token(t.id)), "hrms").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["swagger"], "2.0");
    let employees = &doc["paths"]["/employees"];
    for method in ["get", "post", "patch", "delete"] {
        assert!(employees.get(method).is_some(), "{method} on /employees");
    }
    assert!(doc["paths"]["/rpc/hired_since"]["post"].is_object());
    assert_eq!(doc["definitions"]["employees"]["properties"]["salary"]["type"], "number");

    let (status, doc) = json(get(None, "hrms").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["/"], "the anonymous role may use nothing in hrms: only the document itself is listed");
    assert_eq!(doc["definitions"], json!({}), "nor see a table's columns");
    assert!(doc["parameters"].as_object().unwrap().keys().all(|k| !k.contains("employees")), "nor its row filters");
    let (_, doc) = json(get(None, "api").await.unwrap()).await;
    assert!(doc["paths"]["/rpc/tenant_config"].is_object(), "but it may ask for a tenant's public config");
}
