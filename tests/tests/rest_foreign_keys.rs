//! Embedding through the demo's foreign keys: many-to-one across schemas, one-to-many ordered
//! inside, `!inner` and embedded filters, the refusals; and no embed reaches another tenant.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::tenant_with_departments;

#[tokio::test]
async fn resources_embed_through_foreign_keys() {
    let api = api::start().await;
    let t = tenant_with_departments().await;
    let db = || api.client(Some(&token(t.id))).schema("hrms");

    let (status, rows) = json(
        db().from("employees")
            .select("first_name,dept:departments(name),users(email)")
            .order("first_name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(
        rows,
        json!([
            {"first_name": "Ada", "dept": {"name": "Sales"}, "users": {"email": "ada@x.example"}},
            {"first_name": "Bob", "dept": {"name": "Sales"}, "users": null},
            {"first_name": "Cy", "dept": {"name": "Tech"}, "users": null}
        ]),
        "many-to-one, across schemas too"
    );

    let response = db()
        .from("departments")
        .select("name,employees(first_name)")
        .order("name")
        .order_with_options("first_name", Some("employees"), false, true)
        .execute()
        .await
        .unwrap();
    let (_, rows) = json(response).await;
    assert_eq!(
        rows,
        json!([
            {"name": "Sales", "employees": [{"first_name": "Bob"}, {"first_name": "Ada"}]},
            {"name": "Tech", "employees": [{"first_name": "Cy"}]}
        ]),
        "one-to-many, ordered inside"
    );

    let (_, rows) = json(
        db().from("employees")
            .select("first_name,departments!inner(name)")
            .eq("departments.name", "Tech")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rows, json!([{"first_name": "Cy", "departments": {"name": "Tech"}}]), "!inner with an embedded filter");

    let (_, rows) = json(
        db().from("departments")
            .select("name,employees(first_name)")
            .eq("employees.first_name", "Ada")
            .limit(1)
            .order("name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        rows,
        json!([{"name": "Sales", "employees": [{"first_name": "Ada"}]}]),
        "embedded filter without !inner keeps the parent"
    );

    for (path, status, code) in [
        ("/employees?select=first_name,channels(name)", StatusCode::BAD_REQUEST, "PGRST200"),
        ("/employees?select=first_name,payslips(gross)", StatusCode::FORBIDDEN, "TN010"),
        ("/employees?select=first_name&departments.name=eq.Sales", StatusCode::BAD_REQUEST, "PGRST108"),
        ("/employees?select=first_name,departments(nope)", StatusCode::BAD_REQUEST, "42703"),
    ] {
        let response = api.as_tenant(Method::GET, path, t.id, "hrms").send().await.unwrap();
        let (got, body) = json(response).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}: {body}");
    }
}

#[tokio::test]
async fn embedding_cannot_reach_another_tenant() {
    let api = api::start().await;
    let a = tenant_with_departments().await;
    let b = tenant_with_departments().await;
    let (_, rows) = json(
        api.client(Some(&token(a.id)))
            .schema("hrms")
            .from("departments")
            .select("tenant_id,employees(tenant_id)")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    let tenants: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            std::iter::once(&d["tenant_id"]).chain(d["employees"].as_array().unwrap().iter().map(|e| &e["tenant_id"]))
        })
        .collect();
    assert_eq!(tenants.len(), 5);
    assert!(tenants.iter().all(|t| **t == json!(a.id)), "only A's rows: {rows}");
    assert!(!rows.to_string().contains(&b.id.to_string()));
}
