//! Reads over REST, driven by postgrest-rs where it can say the request and plain HTTP where it
//! cannot: filters, logic, ordering, ranges with counts, one object or 406, `HEAD`, CSV.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::tenant_with_employees;

#[tokio::test]
async fn a_tenant_reads_its_rows_with_filters_order_and_limits() {
    let api = api::start().await;
    let t = tenant_with_employees(10).await;
    let db = api.client(Some(&token(t.id))).schema("hrms");

    let (status, rows) = json(db.from("employees").select("first_name,salary").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows.as_array().unwrap().len(), 10);
    assert_eq!(rows[0].as_object().unwrap().len(), 2, "only the selected columns: {rows}");

    let response = db
        .from("employees")
        .select("name:first_name,salary")
        .gte("salary", "3000")
        .like("job_title", "eng*")
        .order("salary.desc")
        .limit(2)
        .execute()
        .await
        .unwrap();
    let (_, rows) = json(response).await;
    assert_eq!(rows, json!([{"name": "First10", "salary": 10000.00}, {"name": "First8", "salary": 8000.00}]));

    let (_, rows) = json(
        db.from("employees")
            .select("first_name")
            .or("salary.lt.2000,first_name.eq.First9")
            .order("first_name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rows, json!([{"first_name": "First1"}, {"first_name": "First9"}]));

    let (_, rows) = json(
        db.from("employees")
            .select("first_name")
            .in_("first_name", ["First2", "First3"])
            .order("first_name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rows, json!([{"first_name": "First2"}, {"first_name": "First3"}]));

    let response =
        db.from("employees").select("first_name").order("salary").exact_count().range(2, 4).execute().await.unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(response.headers()["content-range"], "2-4/10");
    let (_, rows) = json(response).await;
    assert_eq!(rows, json!([{"first_name": "First3"}, {"first_name": "First4"}, {"first_name": "First5"}]));
}

#[tokio::test]
async fn one_object_is_one_row_or_406() {
    let api = api::start().await;
    let t = tenant_with_employees(3).await;
    let db = api.client(Some(&token(t.id))).schema("hrms");
    let (status, one) =
        json(db.from("employees").select("first_name").eq("first_name", "First2").single().execute().await.unwrap())
            .await;
    assert_eq!((status, one), (StatusCode::OK, json!({"first_name": "First2"})));
    let (status, body) = json(db.from("employees").select("first_name").single().execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(body["code"], "PGRST116");
}

#[tokio::test]
async fn head_answers_headers_only() {
    let api = api::start().await;
    let t = tenant_with_employees(4).await;
    let response =
        api.as_tenant(Method::HEAD, "/employees", t.id, "hrms").header("Prefer", "count=exact").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-range"], "0-3/4");
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn csv_is_served_on_request() {
    let api = api::start().await;
    let t = tenant_with_employees(2).await;
    let response = api
        .as_tenant(Method::GET, "/employees?select=first_name,salary,job_title&order=first_name", t.id, "hrms")
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        response.text().await.unwrap(),
        "first_name,salary,job_title\nFirst1,1000.00,\"sales rep\"\nFirst2,2000.00,engineer"
    );
    let refused = api
        .as_tenant(Method::GET, "/employees", t.id, "hrms")
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);
}
