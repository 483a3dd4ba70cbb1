//! The REST server against the Citus coordinator (scripts/up-citus): a tenant's reads name the
//! tenant, so each goes to the tenant's shard alone (Citus counts it in `citus_stat_tenants`,
//! which only single-shard reads reach); reads, updates and deletes stay in the tenant; a
//! one-row insert goes to the tenant's shard too (`INSERT … VALUES`), still in the tenant and
//! under the table's write permission; the platform administrator sees each tenant's load.
use serde_json::{json, Value};
use tenancy_e2e::api::{self, platform_token};
use tenancy_e2e::citus::{connect, url, TenantTable, COORDINATOR};
use tenancy_e2e::create_company;
use uuid::Uuid;

/// The single-shard reads Citus attributed to `tenant` so far.
async fn routed_reads(tenant: Uuid) -> i64 {
    routed(tenant, "read_count").await
}

/// The single-shard queries (reads and writes) Citus attributed to `tenant` so far.
async fn routed_queries(tenant: Uuid) -> i64 {
    routed(tenant, "query_count").await
}

async fn routed(tenant: Uuid, counter: &str) -> i64 {
    let db = connect(COORDINATOR, "postgres").await;
    let sql = format!(
        "SELECT coalesce(sum({counter}_in_this_period + {counter}_in_last_period), 0)::bigint
         FROM citus_stat_tenants WHERE tenant_attribute = $1"
    );
    db.query_one(&sql, &[&tenant.to_string()]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_tenants_requests_go_to_its_shard_and_stay_in_the_tenant() {
    let t = TenantTable::create().await;
    let (api, token, resource) = t.rest().await;
    let before = routed_reads(t.a).await;
    for _ in 0..3 {
        let read = api.http().get(&resource).query(&[("select", "body"), ("order", "body")]).bearer_auth(&token).send();
        let (status, body) = api::json(read.await.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!([{"body": "a1"}, {"body": "a2"}]));
    }
    assert_eq!(routed_reads(t.a).await, before + 3, "each read went to the tenant's shard alone");
    // Asking for the other tenant's rows finds none.
    let other = api.http().get(&resource).query(&[("tenant_id", format!("eq.{}", t.b))]).bearer_auth(&token).send();
    assert_eq!(api::json(other.await.unwrap()).await.1, json!([]));

    let patch = api.http().patch(&resource).bearer_auth(&token).header("Prefer", "return=representation");
    let (status, changed) = api::json(patch.json(&json!({"body": "changed"})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed.as_array().map(Vec::len), Some(2), "only a's rows: {changed}");
    let delete = api.http().delete(&resource).query(&[("body", "eq.changed")]).bearer_auth(&token).send();
    assert_eq!(delete.await.unwrap().status(), 204);

    assert_eq!(t.count_as_superuser(t.a).await, 0);
    assert_eq!(t.count_as_superuser(t.b).await, 3, "b's rows untouched");
    let b_rows: Value = t.as_tenant(t.b, &format!("SELECT body FROM {} ORDER BY body", t.table)).await.unwrap().into();
    assert_eq!(b_rows, json!(["b1", "b2", "b3"]));
}

#[tokio::test]
async fn the_platform_administrator_sees_each_tenants_load_and_a_tenant_does_not() {
    let t = TenantTable::create().await;
    let (tenants, token, resource) = t.rest().await;
    for _ in 0..3 {
        assert_eq!(tenants.http().get(&resource).bearer_auth(&token).send().await.unwrap().status(), 200);
    }
    // The demo's own server (authenticator, platform schema) on the coordinator.
    let platform = api::start_with(&[("PGRST_DB_URI", &url(COORDINATOR, "authenticator"))]).await;
    let load = |who: String| {
        let http = platform.http();
        let url = format!("{}/tenant_load", platform.url);
        async move {
            api::json(http.get(url).header("Accept-Profile", "platform").bearer_auth(who).send().await.unwrap()).await
        }
    };
    let (status, rows) = load(platform_token()).await;
    assert_eq!(status, 200, "{rows}");
    let a = rows.as_array().unwrap().iter().find(|r| r["id"] == json!(t.a)).unwrap_or_else(|| panic!("{rows}"));
    assert!(a["queries_this_period"].as_i64().unwrap() + a["queries_last_period"].as_i64().unwrap() >= 3, "{a}");
    assert_eq!(a["nodes"].as_array().map(Vec::len), Some(1), "one shard, one worker: {a}");
    let member = api::token_with(json!({"role": "tenant_member", "tenant_id": t.a, "sub": "tests"}));
    assert_eq!(load(member).await.0, 403, "a tenant sees no other tenant's load");
}

#[tokio::test]
async fn the_platform_views_answer_on_citus_what_the_rows_are() {
    let t = TenantTable::create().await;
    let platform = api::start_with(&[("PGRST_DB_URI", &url(COORDINATOR, "authenticator"))]).await;
    let get = |path: String| {
        let http = platform.http();
        let url = format!("{}/{path}", platform.url);
        async move {
            let request = http.get(url).header("Accept-Profile", "platform").bearer_auth(platform_token());
            api::json(request.send().await.unwrap()).await
        }
    };
    // Each tenant's rows in each protected table, counted on the workers.
    for (tenant, rows) in [(t.a, 2), (t.b, 3)] {
        let (status, health) = get(format!("tenant_health?id=eq.{tenant}&select=rows")).await;
        assert_eq!(status, 200, "{health}");
        assert_eq!(health[0]["rows"][&t.table], json!(rows), "{health}");
        assert_eq!(health[0]["rows"][&t.table], json!(t.count_as_superuser(tenant).await));
    }
    let db = connect(COORDINATOR, "postgres").await;
    create_company(&db, t.a, "North").await;
    db.execute("SELECT tenancy.enable_module($1, 'chat')", &[&t.a]).await.unwrap();
    let (status, tenant) = get(format!("tenants?id=eq.{}&select=slug,modules,companies", t.a)).await;
    assert_eq!(status, 200, "{tenant}");
    assert_eq!(tenant[0]["slug"], json!(t.slug(t.a).await));
    assert_eq!(tenant[0]["companies"], json!(1));
    assert!(tenant[0]["modules"].as_array().unwrap().contains(&json!("chat")), "{tenant}");
    let (status, companies) = get(format!("companies?tenant_id=eq.{}&select=name", t.a)).await;
    assert_eq!((status, companies), (reqwest::StatusCode::OK, json!([{"name": "North"}])));
    let (status, modules) = get(format!("tenant_modules?tenant_id=eq.{}&select=module,enabled", t.a)).await;
    assert_eq!((status, modules), (reqwest::StatusCode::OK, json!([{"module": "chat", "enabled": true}])));
    let (status, stats) = get("stats".into()).await;
    assert_eq!(status, 200, "{stats}");
    let expected: Value = db
        .query_one(
            "SELECT jsonb_build_object('tenants', count(*), 'active', count(*) FILTER (WHERE status = 'active'))
             FROM tenancy.tenants",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!((&stats[0]["tenants"], &stats[0]["active"]), (&expected["tenants"], &expected["active"]));
}

#[tokio::test]
async fn a_one_row_insert_goes_to_the_tenants_shard_and_stays_in_the_tenant() {
    let t = TenantTable::create().await;
    let (api, token, resource) = t.rest().await;
    let post = |body: Value| {
        let request = api.http().post(&resource).bearer_auth(&token).header("Prefer", "return=representation");
        async move { api::json(request.json(&body).send().await.unwrap()).await }
    };
    let before = routed_queries(t.a).await;
    for n in 0..3 {
        let (status, rows) = post(json!({"body": format!("new{n}")})).await;
        assert_eq!(status, 201, "{rows}");
        assert_eq!(rows[0]["body"], json!(format!("new{n}")));
        assert_eq!(rows[0]["tenant_id"], json!(t.a), "tenant_id defaults to the token's tenant");
    }
    assert_eq!(routed_queries(t.a).await, before + 3, "each insert went to the tenant's shard alone");

    // Naming the other tenant is refused (401: the member is this server's anonymous role), and
    // nothing reaches it.
    let (status, body) = post(json!({"tenant_id": t.b, "body": "planted"})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (401, Some("42501")), "{body}");
    assert_eq!(t.count_as_superuser(t.b).await, 3, "b's rows untouched");
    assert_eq!(t.count_as_superuser(t.a).await, 5);
}

#[tokio::test]
async fn a_one_row_insert_into_a_table_with_a_write_permission_needs_it() {
    let db = connect(COORDINATOR, "postgres").await;
    let acme: Uuid = db.query_one("SELECT id FROM tenancy.tenants WHERE slug = 'acme'", &[]).await.unwrap().get(0);
    let count = "SELECT count(*) FROM hrms.employees WHERE tenant_id = $1";
    let before: i64 = db.query_one(count, &[&acme]).await.unwrap().get(0);
    // The demo's server on the coordinator; the permitted insert is rolled back (the demo's rows
    // stay as the isolation suites expect them).
    let demo = api::start_with(&[
        ("PGRST_DB_URI", &url(COORDINATOR, "authenticator")),
        ("PGRST_DB_TX_END", "commit-allow-override"),
    ])
    .await;
    let post = |tenant_role: &str| {
        let token = api::token_with(json!({"role": "tenant_member", "tenant_id": acme, "sub": "tests",
                                           "tenant_role": tenant_role}));
        let request = demo.http().post(format!("{}/employees", demo.url)).bearer_auth(token);
        let request = request.header("Content-Profile", "hrms").header("Prefer", "tx=rollback");
        async move {
            let body = json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada-citus@acme.example"});
            let response = request.json(&body).send().await.unwrap();
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    let (status, body) = post("employee").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("TN071"), "{body}");
    let (status, body) = post("hr_manager").await;
    assert_eq!(status, 201, "{body}");
    let after: i64 = db.query_one(count, &[&acme]).await.unwrap().get(0);
    assert_eq!(after, before, "refused, and the permitted one rolled back");
}
