//! A client's mistakes (unknown paths, columns and schemas, bad values, syntax, bodies that
//! are not JSON or too large) are clear 4xx errors with PostgREST's codes, and write nothing.
use reqwest::{Method, StatusCode};
use tenancy_e2e::api::{self, json};
use tenancy_e2e::demo_tenants::tenant_with_employees;
use tenancy_e2e::*;

#[tokio::test]
async fn client_mistakes_are_clear_4xx_errors() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    let get = |path: &str| api.as_tenant(Method::GET, path, t.id, "hrms").send();
    for (path, status, code) in [
        ("/nope", StatusCode::NOT_FOUND, "PGRST205"),
        ("/employees?select=nope", StatusCode::BAD_REQUEST, "42703"),
        ("/employees?nope=eq.1", StatusCode::BAD_REQUEST, "42703"),
        ("/employees?salary=eq.abc", StatusCode::BAD_REQUEST, "22P02"),
        ("/employees?select=first_name,(", StatusCode::BAD_REQUEST, "PGRST100"),
        ("/employees?salary=is.maybe", StatusCode::BAD_REQUEST, "PGRST100"),
        ("/employees?order=salary.sideways", StatusCode::BAD_REQUEST, "PGRST100"),
    ] {
        let (got, body) = json(get(path).await.unwrap()).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}: {body}");
    }
    let (status, body) = json(api.as_tenant(Method::GET, "/employees", t.id, "nope").send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_ACCEPTABLE, Some("PGRST106")));

    let post = |body: String| {
        api.as_tenant(Method::POST, "/employees", t.id, "hrms")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let (status, body) = json(post("{not json".into()).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST102")));
    let (status, body) = json(post(r#"{"nope": 1}"#.into()).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST204")));
    let huge = format!(r#"{{"first_name": "{}", "last_name": "x", "email": "big@x.example"}}"#, "x".repeat(100_000));
    let (status, body) = json(post(huge).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("PGRST413")));

    let admin = superuser().await;
    let rows: i64 =
        admin.query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1", &[&t.id]).await.unwrap().get(0);
    assert_eq!(rows, 1, "no bad request wrote anything");
}
