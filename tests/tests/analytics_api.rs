//! The platform's analytics over REST (schema analytics, migrations/V11): a tenancy_analytics
//! token aggregates across tenants and reads the platform views, and reads no tenant's rows;
//! tenant users and anonymous callers get nothing.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token, token_with};
use tenancy_e2e::*;

#[tokio::test]
async fn a_platform_analyst_aggregates_across_tenants_and_reads_no_rows() {
    let api = api::start().await;
    let mut admin = superuser().await;
    let (a, b) = (create_tenant(&admin, "free", &["hrms"]).await, create_tenant(&admin, "free", &["hrms"]).await);
    // five rows or more each: the platform's minimum group size (5) keeps both tenants' groups
    for (t, n) in [(&a, 6), (&b, 5)] {
        let sql = format!(
            "INSERT INTO hrms.employees (first_name, last_name, email, salary)
             SELECT 'E', 'L' || i, 'e' || i || '@x.example', 1000 * i FROM generate_series(1, {n}) i"
        );
        as_tenant(&mut admin, t.id, &sql).await.unwrap();
    }
    let analyst = api.client(Some(&token_with(json!({"role": "tenancy_analytics"})))).schema("analytics");
    let call = json!({"tbl": "hrms.employees", "measures": ["count", "sum(salary)"],
                      "filters": {"tenant_id": [a.id, b.id]}, "per_tenant": true});
    let (status, rows) =
        json(analyst.rpc("aggregate", call.to_string()).order("tenant_id").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let got: Vec<(String, i64, f64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let sum = &r["aggregates"]["sum(salary)"];
            (r["tenant_id"].as_str().unwrap().to_string(), r["row_count"].as_i64().unwrap(), sum.as_f64().unwrap())
        })
        .collect();
    let expected: Vec<(String, i64, f64)> = admin
        .query(
            "SELECT tenant_id::text, count(*), sum(salary)::float8 FROM hrms.employees
             WHERE tenant_id = ANY ($1) GROUP BY 1 ORDER BY 1",
            &[&vec![a.id, b.id]],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(got, expected);

    let (status, adoption) = json(analyst.from("module_adoption").eq("module", "hrms").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(adoption[0]["enabled_tenants"].as_i64().unwrap() >= 2, "{adoption}");
    let (status, usage) = json(
        analyst
            .from("tenant_table_usage")
            .eq("tenant_id", a.id.to_string())
            .eq("table_name", "hrms.employees")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, usage[0]["row_count"].clone()), (StatusCode::OK, json!(6)));

    // the rows themselves stay out of reach
    let rows_token = token_with(json!({"role": "tenancy_analytics"}));
    let (status, err) =
        json(api.client(Some(&rows_token)).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
}

#[tokio::test]
async fn tenant_users_and_anonymous_callers_get_no_analytics() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let call = json!({"tbl": "hrms.employees"}).to_string();
    for (who, client, expected) in [
        ("tenant member", api.client(Some(&token(t.id))), StatusCode::FORBIDDEN),
        ("platform admin", api.client(Some(&token_with(json!({"role": "platform_admin"})))), StatusCode::FORBIDDEN),
        ("anonymous", api.client(None), StatusCode::UNAUTHORIZED),
    ] {
        let db = client.schema("analytics");
        let (status, body): (StatusCode, Value) =
            json(db.rpc("aggregate", call.clone()).execute().await.unwrap()).await;
        assert_eq!(status, expected, "{who} aggregates: {body}");
        let (status, _) = json(db.from("module_adoption").execute().await.unwrap()).await;
        assert_eq!(status, expected, "{who} reads module adoption");
    }
}

/// The aggregation attacks of tests/tests/aggregation_privacy.rs, over REST: a private column
/// grouped, filtered or min/max'd, a measure's extremes, a minimum group size lowered by the
/// caller — each a 400 with its TN code; a tenant's group of one stays suppressed.
#[tokio::test]
async fn rest_aggregation_reveals_no_row_either() {
    let api = api::start().await;
    let mut admin = superuser().await;
    let solo = create_tenant(&admin, "free", &["hrms"]).await;
    as_tenant(
        &mut admin,
        solo.id,
        "INSERT INTO hrms.employees (first_name, last_name, email, job_title, salary)
         VALUES ('Only', 'One', 'only@solo.example', 'Chief of everything', 123456)",
    )
    .await
    .unwrap();
    let analyst = api.client(Some(&token_with(json!({"role": "tenancy_analytics"})))).schema("analytics");
    for (call, code) in [
        (json!({"tbl": "chat.messages", "group_by": ["body"]}), "TN067"),
        (
            json!({"tbl": "hrms.employees", "measures": ["max(salary)"], "group_by": ["email"], "per_tenant": true}),
            "TN067",
        ),
        (json!({"tbl": "hrms.employees", "filters": {"email": "only@solo.example"}}), "TN067"),
        (json!({"tbl": "hrms.employees", "measures": ["max(salary)"]}), "TN067"),
        (json!({"tbl": "hrms.employees", "min_group_size": 1}), "TN066"),
    ] {
        let (status, err) = json(analyst.rpc("aggregate", call.to_string()).execute().await.unwrap()).await;
        assert_eq!((status, err["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{call}: {err}");
    }
    // the one person's job and salary, narrowed to their tenant: suppressed, not returned
    let call = json!({"tbl": "hrms.employees", "measures": ["avg(salary)"], "group_by": ["job_title"],
                      "filters": {"tenant_id": solo.id}, "per_tenant": true});
    let (status, rows) = json(analyst.rpc("aggregate", call.to_string()).execute().await.unwrap()).await;
    assert_eq!((status, rows), (StatusCode::OK, json!([])));
    let (status, policy) = json(analyst.from("policy").execute().await.unwrap()).await;
    assert_eq!((status, policy), (StatusCode::OK, json!([{"min_group_size": 5}])));
    let (status, classes) = json(
        analyst
            .from("analytics_classes")
            .eq("table_name", "hrms.employees")
            .eq("column_name", "email")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &classes[0]["class"]), (StatusCode::OK, &json!("private")));
}
