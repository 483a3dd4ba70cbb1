//! The platform administrator's API (schema `platform`, migrations/V8) over REST, and the
//! module grid a tenant's frontend draws. Tenant users and anonymous callers get nothing.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, platform_token, token, token_with};
use tenancy_e2e::*;

fn slugs(rows: &Value) -> Vec<&str> {
    rows.as_array().unwrap().iter().map(|r| r["slug"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_platform_admin_lists_searches_and_pages_tenants() {
    let api = api::start().await;
    let admin = superuser().await;
    let marker = unique("zeta").replace('-', "");
    for (i, plan) in ["free", "standard", "premium"].iter().enumerate() {
        let name = format!("{marker} {i}");
        admin
            .execute("SELECT tenancy.create_tenant($1, $2, $3)", &[&format!("{marker}-{i}"), &name, plan])
            .await
            .unwrap();
    }
    let db = api.client(Some(&platform_token())).schema("platform");

    let response = db
        .from("tenants")
        .select("slug,plan,modules,companies")
        .ilike("name", format!("*{marker}*"))
        .order("slug")
        .exact_count()
        .range(0, 1)
        .execute()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-range"], "0-1/3");
    let (status, rows) = json(response).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(slugs(&rows), [format!("{marker}-0"), format!("{marker}-1")]);
    assert_eq!(rows[0]["modules"], json!(["users"]), "core modules are always on");

    let (_, rows) = json(
        db.from("tenants")
            .select("slug")
            .ilike("name", format!("*{marker}*"))
            .eq("plan", "premium")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(slugs(&rows), [format!("{marker}-2")]);

    let (status, one) =
        json(db.from("tenants").eq("slug", format!("{marker}-1")).single().execute().await.unwrap()).await;
    assert_eq!((status, one["plan"].as_str()), (StatusCode::OK, Some("standard")));
}

#[tokio::test]
async fn a_platform_admin_runs_a_tenants_whole_life() {
    let api = api::start().await;
    let db = api.client(Some(&platform_token())).schema("platform");
    let slug = unique("life");

    let (status, created) = json(
        db.rpc(
            "create_tenant",
            json!({"slug": slug, "name": "Life Inc", "plan": "standard", "modules": ["hrms", "payroll"],
                   "contact_email": "ops@life.example", "theme": {"color": "teal"}})
            .to_string(),
        )
        .execute()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["modules"], json!(["hrms", "payroll", "users"]));
    assert_eq!(created["contact_email"], "ops@life.example");
    let id = created["id"].as_str().unwrap().to_string();

    let (status, updated) = json(
        db.rpc("update_tenant", json!({"id": id, "name": "Life Ltd", "plan": "premium"}).to_string())
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &updated["name"], &updated["plan"]), (StatusCode::OK, &json!("Life Ltd"), &json!("premium")));
    // payroll needs standard: the plan cannot go below it while payroll is on
    let (status, err) =
        json(db.rpc("update_tenant", json!({"id": id, "plan": "free"}).to_string()).execute().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::BAD_REQUEST, Some("TN021")), "{err}");

    let (_, module) = json(
        db.rpc(
            "enable_module",
            json!({"tenant_id": id, "module": "chat", "config": {"retention_days": 7}}).to_string(),
        )
        .execute()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((module["enabled"].clone(), module["config"].clone()), (json!(true), json!({"retention_days": 7})));
    let (_, module) =
        json(db.rpc("disable_module", json!({"tenant_id": id, "module": "chat"}).to_string()).execute().await.unwrap())
            .await;
    assert_eq!(module["enabled"], false);
    // disabling what is not enabled is a conflict, not a 200 with nulls
    let (status, err) =
        json(db.rpc("disable_module", json!({"tenant_id": id, "module": "chat"}).to_string()).execute().await.unwrap())
            .await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::CONFLICT, Some("TN025")), "{err}");
    let (status, err) = json(
        db.rpc("disable_module", json!({"tenant_id": id, "module": "library"}).to_string()).execute().await.unwrap(),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::CONFLICT, Some("TN025")), "never enabled: {err}");

    let (_, company) =
        json(db.rpc("create_company", json!({"tenant_id": id, "name": "Branch"}).to_string()).execute().await.unwrap())
            .await;
    let (_, company) = json(
        db.rpc(
            "set_company_module",
            json!({"company_id": company["id"], "module": "payroll", "enabled": false}).to_string(),
        )
        .execute()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(company["module_overrides"]["payroll"]["enabled"], false);

    let (_, suspended) = json(db.rpc("suspend_tenant", json!({"id": id}).to_string()).execute().await.unwrap()).await;
    assert_eq!(suspended["status"], "suspended");
    let tenant_id: uuid::Uuid = id.parse().unwrap();
    let (status, err) =
        json(api.client(Some(&token(tenant_id))).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::FORBIDDEN, Some("TN002")));
    let (_, active) = json(db.rpc("activate_tenant", json!({"id": id}).to_string()).execute().await.unwrap()).await;
    assert_eq!(active["status"], "active");

    let mut admin = superuser().await;
    as_tenant(
        &mut admin,
        tenant_id,
        "INSERT INTO hrms.employees (first_name, last_name, email) VALUES ('A', 'B', 'a@b.example')",
    )
    .await
    .unwrap();
    let (_, health) = json(db.from("tenant_health").eq("id", &id).single().execute().await.unwrap()).await;
    assert_eq!(health["companies"], 1);
    assert_eq!(
        (health["rows"]["hrms.employees"].as_i64(), health["rows"]["payroll.payslips"].as_i64()),
        (Some(1), Some(0))
    );
    assert!(health["last_activity"].is_string() && health["events_last_30_days"].as_i64().unwrap() >= 8, "{health}");
    let (_, stats) = json(db.from("stats").single().execute().await.unwrap()).await;
    assert!(stats["tenants"].as_i64().unwrap() >= 1 && stats["by_plan"]["premium"].as_i64().unwrap() >= 1, "{stats}");
    // Citus's per-tenant load: nothing to show on one node (tests/tests/citus_rest.rs on the cluster).
    let (status, load) = json(db.from("tenant_load").execute().await.unwrap()).await;
    assert_eq!((status, load), (StatusCode::OK, json!([])));

    // Deleting is soft: suspended, erased after the grace period unless restored; erasing is explicit.
    let (status, deleted) =
        json(db.rpc("delete_tenant", json!({"id": id, "grace": "7 days"}).to_string()).execute().await.unwrap()).await;
    assert_eq!((status, deleted["status"].as_str()), (StatusCode::OK, Some("suspended")), "{deleted}");
    assert!(deleted["erase_after"].is_string(), "{deleted}");
    let (status, err) =
        json(api.client(Some(&token(tenant_id))).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::FORBIDDEN, Some("TN002")));
    let (status, err) = json(db.rpc("activate_tenant", json!({"id": id}).to_string()).execute().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::CONFLICT, Some("TN043")), "{err}");
    let (_, restored) = json(db.rpc("restore_tenant", json!({"id": id}).to_string()).execute().await.unwrap()).await;
    assert_eq!((restored["status"].as_str(), &restored["erase_after"]), (Some("active"), &Value::Null));
    let (status, err) = json(db.rpc("restore_tenant", json!({"id": id}).to_string()).execute().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::CONFLICT, Some("TN044")), "{err}");
    let (status, _) =
        json(api.client(Some(&token(tenant_id))).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "restored: the tenant's users are back");

    let (status, removed) = json(db.rpc("erase_tenant", json!({"id": id}).to_string()).execute().await.unwrap()).await;
    assert_eq!((status, removed["hrms.employees"].as_i64()), (StatusCode::OK, Some(1)), "{removed}");
    let (_, rows) = json(db.from("tenants").eq("id", &id).execute().await.unwrap()).await;
    assert_eq!(rows, json!([]));
}

#[tokio::test]
async fn bulk_create_is_all_or_nothing_with_a_report_per_item() {
    let api = api::start().await;
    let db = api.client(Some(&platform_token())).schema("platform");
    let (a, b) = (unique("bulk"), unique("bulk"));

    let bad =
        json!({"tenants": [{"slug": a, "name": "A"}, {"slug": "www", "name": "Reserved"}, {"slug": b, "name": " "}]});
    let (status, err) = json(db.rpc("bulk_create_tenants", bad.to_string()).execute().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (StatusCode::BAD_REQUEST, Some("TN042")), "{err}");
    assert_eq!(err["message"], "2 of 3 tenants could not be created; none was");
    // The report is structured JSON in `details`, not JSON inside a string.
    let report = &err["details"];
    let per_item: Vec<(i64, &str)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_i64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(per_item, [(1, "TN040"), (2, "23514")]);
    let admin = superuser().await;
    let kept: i64 = admin
        .query_one("SELECT count(*) FROM tenancy.tenants WHERE slug = ANY ($1)", &[&vec![a.clone(), b.clone()]])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 0, "nothing was created");

    let good = json!({"tenants": [{"slug": a, "name": "A"}, {"slug": b, "name": "B", "plan": "standard", "modules": ["hrms"]}]});
    let (status, rows) = json(db.rpc("bulk_create_tenants", good.to_string()).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(slugs(&rows), [a.as_str(), b.as_str()]);
    assert_eq!(rows[1]["modules"], json!(["hrms", "users"]));
}

#[tokio::test]
async fn tenant_users_and_anonymous_callers_cannot_use_the_platform_api() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "premium", &["hrms"]).await;
    let slug = unique("intruder");
    let attempt = json!({"slug": slug, "name": "Intruder"}).to_string();
    for (who, client, expected) in [
        ("tenant member", api.client(Some(&token(t.id))), StatusCode::FORBIDDEN),
        (
            "tenant member naming the role, without a tenant (TN102)",
            api.client(Some(&token_with(json!({"role": "tenant_member"})))),
            StatusCode::UNAUTHORIZED,
        ),
        ("anonymous", api.client(None), StatusCode::UNAUTHORIZED),
    ] {
        let db = client.schema("platform");
        let (status, _) = json(db.from("tenants").execute().await.unwrap()).await;
        assert_eq!(status, expected, "{who} lists tenants");
        let (status, _) = json(db.from("stats").execute().await.unwrap()).await;
        assert_eq!(status, expected, "{who} reads stats");
        let (status, _) = json(db.from("tenant_load").execute().await.unwrap()).await;
        assert_eq!(status, expected, "{who} reads the tenants' load");
        let (status, _) = json(db.rpc("create_tenant", attempt.clone()).execute().await.unwrap()).await;
        assert_eq!(status, expected, "{who} creates a tenant");
        let (status, _) =
            json(db.rpc("suspend_tenant", json!({"id": t.id}).to_string()).execute().await.unwrap()).await;
        assert_eq!(status, expected, "{who} suspends a tenant");
    }
    let created: i64 =
        admin.query_one("SELECT count(*) FROM tenancy.tenants WHERE slug = $1", &[&slug]).await.unwrap().get(0);
    let status: String =
        admin.query_one("SELECT status FROM tenancy.tenants WHERE id = $1", &[&t.id]).await.unwrap().get(0);
    assert_eq!((created, status.as_str()), (0, "active"));
}

#[tokio::test]
async fn the_module_grid_shows_locked_modules_with_why_and_an_upgrade_hint() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms", "chat"]).await;
    let branch = create_company(&admin, t.id, "Branch").await;
    admin.execute("SELECT tenancy.set_company_module($1, 'chat', false)", &[&branch]).await.unwrap();

    let grid = |claims: Value| {
        let api = &api;
        async move {
            let (status, rows) =
                json(api.client(Some(&token_with(claims))).schema("api").from("modules").execute().await.unwrap())
                    .await;
            assert_eq!(status, StatusCode::OK, "{rows}");
            rows.as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["key"].as_str().unwrap().to_string(),
                        (m["enabled"].clone(), m["upgrade"].clone(), m["reason"].clone()),
                    )
                })
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let tenant_wide = grid(json!({"role": "tenant_member", "tenant_id": t.id})).await;
    assert_eq!(tenant_wide["hrms"], (json!(true), json!(false), Value::Null));
    assert_eq!(tenant_wide["payroll"], (json!(false), json!(true), json!("plan")), "payroll needs standard");
    assert_eq!(tenant_wide["school"], (json!(false), json!(false), json!("not_enabled")));
    let in_branch = grid(json!({"role": "tenant_member", "tenant_id": t.id, "company_id": branch})).await;
    assert_eq!(in_branch["chat"], (json!(false), json!(false), json!("company")));

    let (status, err) = json(api.client(None).schema("api").from("modules").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
}
