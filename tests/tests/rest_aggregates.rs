//! PostgREST's aggregates (`select=count()`, `salary.sum()`, grouped by the other fields), off
//! unless PGRST_DB_AGGREGATES_ENABLED, and always over the caller's tenant's rows only.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token, Api};
use tenancy_e2e::*;

async fn tenant_with_staff(salaries: &[(&str, i32)]) -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    for (i, (title, salary)) in salaries.iter().enumerate() {
        let sql = format!(
            "INSERT INTO hrms.employees (first_name, last_name, email, job_title, salary)
             VALUES ('F{i}', 'L', 'e{i}@x.example', '{title}', {salary})"
        );
        as_tenant(&mut admin, t.id, &sql).await.unwrap();
    }
    t
}

async fn get(api: &Api, t: &Tenant, path: &str) -> (StatusCode, Value) {
    let request =
        api.http().get(format!("{}{path}", api.url)).bearer_auth(token(t.id)).header("Accept-Profile", "hrms");
    json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn aggregates_count_and_sum_the_tenants_rows_only() {
    let api = api::start_with(&[("PGRST_DB_AGGREGATES_ENABLED", "true")]).await;
    let a = tenant_with_staff(&[("eng", 100), ("eng", 300), ("ops", 50)]).await;
    let _b = tenant_with_staff(&[("eng", 7000), ("ops", 9000), ("ops", 1)]).await;

    assert_eq!(get(&api, &a, "/employees?select=count()").await, (StatusCode::OK, json!([{"count": 3}])));
    let (status, rows) =
        get(&api, &a, "/employees?select=job_title,total:salary.sum(),salary.max()::int,n:count()&order=job_title")
            .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(
        rows,
        json!([
            {"job_title": "eng", "total": 400.00, "max": 300, "n": 2},
            {"job_title": "ops", "total": 50.00, "max": 50, "n": 1},
        ])
    );
    // Filters apply before grouping, as a WHERE does.
    let (_, rows) = get(&api, &a, "/employees?select=salary.avg()::int&salary=gt.60").await;
    assert_eq!(rows, json!([{"avg": 200}]));
}

#[tokio::test]
async fn aggregates_are_off_unless_enabled() {
    let api = api::start().await;
    let a = tenant_with_staff(&[("eng", 100)]).await;
    let (status, body) = get(&api, &a, "/employees?select=salary.sum()").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST123")), "{body}");
    let (status, body) = get(&api, &a, "/departments?select=name,employees(count())").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("PGRST123")),
        "an embedded one too: {body}"
    );
}
