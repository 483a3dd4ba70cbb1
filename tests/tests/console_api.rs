//! What V15 serves the console, over REST: the platform's module grid (with configuration),
//! installed modules and event log for platform_admin only; a tenant's roles for those who
//! manage its people; the request for a module the plan locks.
use reqwest::Method;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token_with, Api};
use tenancy_e2e::*;
use uuid::Uuid;

async fn call(api: &Api, method: Method, path: &str, token: &str, schema: &str, body: Option<Value>) -> (u16, Value) {
    let profile = if method == Method::GET { "Accept-Profile" } else { "Content-Profile" };
    let mut request = api.http().request(method, format!("{}{path}", api.url)).header(profile, schema);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = json(request.send().await.unwrap()).await;
    (status.as_u16(), body)
}

/// A grid's rows as api.modules' key, enabled, upgrade and reason.
fn states(grid: &Value) -> Value {
    let rows = grid.as_array().unwrap().iter();
    rows.map(|m| json!({"key": m["key"], "enabled": m["enabled"], "upgrade": m["upgrade"], "reason": m["reason"]}))
        .collect()
}

fn member_token(tenant: Uuid, user: &str, roles: &[&str]) -> String {
    token_with(json!({"role": "tenant_member", "tenant_id": tenant, "sub": user, "tenant_role": roles}))
}

#[tokio::test]
async fn the_platform_reads_a_tenants_grid_and_a_companys_merged_configuration() {
    let server = api::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["chat"]).await;
    db.execute("SELECT tenancy.enable_module($1, 'chat', '{\"retention_days\": 90}')", &[&t.id]).await.unwrap();
    let company = create_company(&db, t.id, "North").await;
    db.execute("SELECT tenancy.set_company_module($1, 'chat', true, '{\"max_message_length\": 10}')", &[&company])
        .await
        .unwrap();
    let admin = api::platform_token();
    let (status, grid) = call(
        &server,
        Method::POST,
        "/rpc/module_grid",
        &admin,
        "platform",
        Some(json!({"tenant_id": t.id, "company_id": company})),
    )
    .await;
    assert_eq!(status, 200, "{grid}");
    let chat = grid.as_array().unwrap().iter().find(|m| m["key"] == "chat").unwrap();
    assert_eq!(chat["merged_config"], json!({"max_message_length": 10, "retention_days": 90}));
    let payroll = grid.as_array().unwrap().iter().find(|m| m["key"] == "payroll").unwrap();
    assert_eq!(
        (&payroll["upgrade"], &payroll["reason"], &payroll["required_tier"]),
        (&json!(true), &json!("plan"), &json!("standard"))
    );

    // The grid is the one the tenant itself reads from api.modules.
    let (_, own) =
        call(&server, Method::GET, "/modules?select=key,enabled,upgrade,reason", &api::token(t.id), "api", None).await;
    let (_, tenant_level) =
        call(&server, Method::POST, "/rpc/module_grid", &admin, "platform", Some(json!({"tenant_id": t.id}))).await;
    assert_eq!(states(&tenant_level), own);
    assert_eq!(states(&grid).as_array().unwrap().len(), own.as_array().unwrap().len());

    // A company of another tenant shows nothing.
    let other = create_tenant(&db, "free", &[]).await;
    let (status, none) = call(
        &server,
        Method::POST,
        "/rpc/module_grid",
        &admin,
        "platform",
        Some(json!({"tenant_id": other.id, "company_id": company})),
    )
    .await;
    assert_eq!((status, none), (200, json!([])));
}

#[tokio::test]
async fn tenant_users_and_anonymous_callers_get_nothing_of_the_platforms_new_reads() {
    let server = api::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["chat"]).await;
    let admin = member_token(t.id, "admin-1", &["tenant_admin"]);
    for (token, expected) in [(admin.as_str(), 403), ("", 401)] {
        let (status, body) =
            call(&server, Method::POST, "/rpc/module_grid", token, "platform", Some(json!({"tenant_id": t.id}))).await;
        assert_eq!(status, expected, "{body}");
        for path in ["/events", "/modules"] {
            let (status, body) = call(&server, Method::GET, path, token, "platform", None).await;
            assert_eq!(status, expected, "{path}: {body}");
        }
    }
}

#[tokio::test]
async fn tenant_roles_are_the_tenants_own_and_only_for_who_manages_people() {
    let server = api::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let other = create_tenant(&db, "free", &["hrms"]).await;
    db.execute("SELECT tenancy.define_tenant_role($1, 'auditor', '{users:audit}')", &[&t.id]).await.unwrap();
    db.execute("SELECT tenancy.define_tenant_role($1, 'secret_role', '{users:read}')", &[&other.id]).await.unwrap();
    db.execute("SELECT tenancy.grant_tenant_role($1, 'ada', 'auditor')", &[&t.id]).await.unwrap();
    db.execute("SELECT tenancy.grant_tenant_role($1, 'eve', 'employee')", &[&other.id]).await.unwrap();

    let admin = member_token(t.id, "admin-1", &["tenant_admin"]);
    let (status, roles) = call(&server, Method::GET, "/tenant_roles?order=name", &admin, "api", None).await;
    assert_eq!(status, 200, "{roles}");
    let names: Vec<&str> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"auditor") && names.contains(&"tenant_admin"), "{names:?}");
    assert!(!names.contains(&"secret_role"), "another tenant's role: {names:?}");
    let employee = roles.as_array().unwrap().iter().find(|r| r["name"] == "employee").unwrap();
    assert_eq!(employee["members"], json!([]), "another tenant's members");
    let auditor = roles.as_array().unwrap().iter().find(|r| r["name"] == "auditor").unwrap();
    assert_eq!((&auditor["members"], &auditor["is_default"]), (&json!(["ada"]), &json!(false)));

    let staff = member_token(t.id, "bob", &["employee"]);
    let (status, body) = call(&server, Method::GET, "/tenant_roles", &staff, "api", None).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("TN071")), "{body}");
}

#[tokio::test]
async fn an_upgrade_is_requested_only_for_a_module_the_plan_locks_and_only_by_an_administrator() {
    let server = api::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let count = || async {
        let row = db
            .query_one(
                "SELECT count(*) FROM tenancy.events WHERE tenant_id = $1 AND action = 'module.upgrade_requested'",
                &[&t.id],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0)
    };
    let staff = member_token(t.id, "bob", &["employee"]);
    let (status, body) =
        call(&server, Method::POST, "/rpc/request_upgrade", &staff, "api", Some(json!({"module": "payroll"}))).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("TN071")), "{body}");
    let admin = member_token(t.id, "admin-1", &["tenant_admin"]);
    let (status, body) =
        call(&server, Method::POST, "/rpc/request_upgrade", &admin, "api", Some(json!({"module": "chat"}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("22023")), "chat is not locked by the plan: {body}");
    assert_eq!(count().await, 0);

    let (status, body) =
        call(&server, Method::POST, "/rpc/request_upgrade", &admin, "api", Some(json!({"module": "payroll"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"module": "payroll", "plan": "standard", "user": "admin-1"}));
    assert_eq!(count().await, 1);
    // The platform sees it in the tenant's log.
    let (_, events) = call(
        &server,
        Method::GET,
        &format!("/events?tenant_id=eq.{}&action=eq.module.upgrade_requested", t.id),
        &api::platform_token(),
        "platform",
        None,
    )
    .await;
    assert_eq!(events[0]["detail"]["module"], "payroll", "{events}");
}

#[tokio::test]
async fn members_are_the_tenants_own_and_only_for_who_manages_people() {
    let server = api::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let other = create_tenant(&db, "free", &["hrms"]).await;
    let ada = tenancy_e2e::sign_in::new_email();
    let eve = tenancy_e2e::sign_in::new_email();
    let ada_id: Uuid =
        db.query_one("SELECT auth.add_member($1, $2, '{hr_manager}')", &[&t.id, &ada]).await.unwrap().get(0);
    db.execute("SELECT auth.add_member($1, $2, '{employee}')", &[&other.id, &eve]).await.unwrap();

    let admin = member_token(t.id, "admin-1", &["tenant_admin"]);
    let (status, members) =
        call(&server, Method::GET, "/members?select=id,email,tenant_roles", &admin, "api", None).await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(members, json!([{"id": ada_id, "email": ada, "tenant_roles": ["hr_manager"]}]));

    let staff = member_token(t.id, "bob", &["employee"]);
    let (status, body) = call(&server, Method::GET, "/members", &staff, "api", None).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("TN071")), "{body}");
    let (status, body) = call(&server, Method::GET, "/members", &api::platform_token(), "api", None).await;
    assert!(status == 403 || status == 401, "{status} {body}");

    // The definer functions the views read through (V20) are RPCs too: the same rows, the same
    // refusal, never another tenant's.
    for function in ["_members", "_tenant_roles", "_company_configuration"] {
        let path = format!("/rpc/{function}");
        let (status, body) = call(&server, Method::GET, &path, &staff, "api", None).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("TN071")), "{function}: {body}");
    }
    let (status, members) = call(&server, Method::GET, "/rpc/_members?select=email", &admin, "api", None).await;
    assert_eq!((status, members), (200, json!([{"email": ada}])), "not eve, the other tenant's");
}

#[tokio::test]
async fn a_tenant_administrator_configures_its_own_companies_only() {
    let server = api::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["chat"]).await;
    db.execute("SELECT tenancy.enable_module($1, 'chat', '{\"retention_days\": 90}')", &[&t.id]).await.unwrap();
    let own = create_company(&db, t.id, "North").await;
    db.execute("SELECT tenancy.set_company_module($1, 'chat', false, '{}', '{file_sharing}')", &[&own]).await.unwrap();
    let other = create_tenant(&db, "free", &["chat"]).await;
    let foreign = create_company(&db, other.id, "Elsewhere").await;

    let admin = member_token(t.id, "admin-1", &["tenant_admin"]);
    let (status, rows) =
        call(&server, Method::GET, "/company_configuration?select=company,module", &admin, "api", None).await;
    assert_eq!((status, rows), (200, json!([{"company": "North", "module": "chat"}])));

    let set = |company: Uuid| json!({"company_id": company, "module": "chat", "config": {"max_message_length": 10}});
    let (status, row) = call(&server, Method::POST, "/rpc/set_company_config", &admin, "api", Some(set(own))).await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row[0]["merged_config"], json!({"max_message_length": 10, "retention_days": 90}));
    // The company's switch and features are kept (chat stays off for North, file sharing on).
    let kept = db
        .query_one(
            "SELECT enabled, enabled_features FROM tenancy.company_modules WHERE company_id = $1 AND module = 'chat'",
            &[&own],
        )
        .await
        .unwrap();
    assert_eq!((kept.get::<_, bool>(0), kept.get::<_, Vec<String>>(1)), (false, vec!["file_sharing".to_string()]));

    // Another tenant's company: refused, and nothing written there.
    let (status, body) =
        call(&server, Method::POST, "/rpc/set_company_config", &admin, "api", Some(set(foreign))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("42704")), "{body}");
    let written: i64 = db
        .query_one("SELECT count(*) FROM tenancy.company_modules WHERE company_id = $1", &[&foreign])
        .await
        .unwrap()
        .get(0);
    assert_eq!(written, 0);

    let staff = member_token(t.id, "bob", &["employee"]);
    let (status, body) = call(&server, Method::POST, "/rpc/set_company_config", &staff, "api", Some(set(own))).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("TN071")), "{body}");
}
