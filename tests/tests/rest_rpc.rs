//! Functions as RPCs: scalars and sets under the tenant's policies, `GET` with arguments in the
//! query string (filtered, ordered, embedded), `POST` of a volatile function that cannot touch
//! another tenant, `GET` of a writing one refused, unknown functions and arguments; the public
//! `api.tenant_config` for anyone.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::tenant_with_departments;
use tenancy_e2e::*;
use uuid::Uuid;

#[tokio::test]
async fn functions_are_rpcs_scoped_to_the_tenant() {
    let api = api::start().await;
    let a = tenant_with_departments().await;
    let b = tenant_with_departments().await;
    let db = api.client(Some(&token(a.id))).schema("hrms");

    let (status, count) = json(db.rpc("headcount", "{}").execute().await.unwrap()).await;
    assert_eq!((status, count), (StatusCode::OK, json!(3)), "a scalar, counted under RLS: A's three only");

    let (_, rows) = json(db.rpc("headcount_by_department", "").order("department").execute().await.unwrap()).await;
    assert_eq!(rows, json!([{"department": "Sales", "headcount": 2}, {"department": "Tech", "headcount": 1}]));

    // GET with arguments in the query string, filtered, ordered and embedded like a table.
    let response = api
        .as_tenant(
            Method::GET,
            "/rpc/hired_since?since=2000-01-01&select=first_name,departments(name)&first_name=neq.Bob&order=first_name",
            a.id,
            "hrms",
        )
        .send()
        .await
        .unwrap();
    let (status, rows) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(
        rows,
        json!([{"first_name": "Ada", "departments": {"name": "Sales"}}, {"first_name": "Cy", "departments": {"name": "Tech"}}])
    );

    // POST runs a volatile function and returns its row as an object; it cannot touch B.
    let b_employee: Uuid = superuser()
        .await
        .query_one("SELECT id FROM hrms.employees WHERE tenant_id = $1 LIMIT 1", &[&b.id])
        .await
        .unwrap()
        .get(0);
    let (status, body) =
        json(db.rpc("give_raise", json!({"employee": b_employee, "percent": 50}).to_string()).execute().await.unwrap())
            .await;
    assert_eq!((status, &body["id"]), (StatusCode::OK, &json!(null)), "B's employee is not there to raise: {body}");
    let salary: Option<f64> = superuser()
        .await
        .query_one("SELECT salary::float8 FROM hrms.employees WHERE id = $1", &[&b_employee])
        .await
        .unwrap()
        .get(0);
    assert_eq!(salary, None, "unchanged (the fixture has no salary)");

    // GET runs in a read-only transaction: a writing function is refused.
    let a_employee: Uuid = superuser()
        .await
        .query_one("SELECT id FROM hrms.employees WHERE tenant_id = $1 LIMIT 1", &[&a.id])
        .await
        .unwrap()
        .get(0);
    let response = api
        .as_tenant(Method::GET, &format!("/rpc/give_raise?employee={a_employee}&percent=10"), a.id, "hrms")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("25006")));

    let (status, body) = json(db.rpc("nope", "{}").execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("PGRST202")));
    let (status, body) = json(db.rpc("hired_since", r#"{"until": "2020-01-01"}"#).execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("PGRST202")), "unknown argument");
    let (status, body) = json(db.rpc("hired_since", r#"{"since": "yesterday-ish"}"#).execute().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("22007")),
        "a bad value is the client's mistake"
    );
}

#[tokio::test]
async fn anyone_reads_a_tenants_public_config_by_slug() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "standard", &["hrms", "payroll"]).await;
    let anon = api.client(None).schema("api");
    let (status, config) =
        json(anon.rpc("tenant_config", json!({"slug": t.slug}).to_string()).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{config}");
    assert_eq!(config["slug"], json!(t.slug));
    let modules: Vec<&str> = config["modules"].as_array().unwrap().iter().map(|m| m["key"].as_str().unwrap()).collect();
    assert_eq!(modules, vec!["users", "hrms", "payroll"]);
    let (status, body) =
        json(anon.rpc("tenant_config", r#"{"slug": "no-such-tenant"}"#).execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("TN001")));
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&t.id]).await.unwrap();
    let (status, _) =
        json(anon.rpc("tenant_config", json!({"slug": t.slug}).to_string()).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a suspended tenant shows nothing");
}
