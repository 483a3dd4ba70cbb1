//! Module permissions: tenant roles as sets of the permissions modules declare, held through
//! the token (set_user, by the service role only) or a membership; has_permission for
//! policies; hrms.employees writable only with hrms:write, over SQL and over REST.
use reqwest::StatusCode;
use serde_json::json;
use tenancy_e2e::api::{self, json, token_with};
use tenancy_e2e::*;
use tokio_postgres::Client;
use uuid::Uuid;

/// `sql`'s single value, in a transaction that entered `tenant` as `user` holding `roles`.
async fn acting(
    db: &mut Client,
    tenant: Uuid,
    user: &str,
    roles: Option<&[&str]>,
    sql: &str,
) -> Result<Vec<String>, String> {
    let tx = db.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant]).await.unwrap();
    let roles: Option<Vec<String>> = roles.map(|r| r.iter().map(|s| s.to_string()).collect());
    tx.execute("SELECT tenancy.set_user($1, $2)", &[&user, &roles]).await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    let result = tx.query_one(sql, &[]).await.map(|r| r.get::<_, Vec<String>>(0)).map_err(|e| {
        let db = e.as_db_error().unwrap();
        format!("{} {}", db.code().code(), db.detail().unwrap_or_default())
    });
    tx.rollback().await.unwrap();
    result
}

const PERMISSIONS: &str = "SELECT tenancy.current_permissions()";

#[tokio::test]
async fn a_tenant_role_grants_its_permissions_and_a_tenants_own_definition_wins() {
    let mut admin = superuser().await;
    let (a, b) =
        (create_tenant(&admin, "free", &["hrms", "chat"]).await, create_tenant(&admin, "free", &["hrms"]).await);
    admin
        .execute("SELECT tenancy.define_tenant_role($1, 'recruiter', '{hrms:read,hrms:write}')", &[&a.id])
        .await
        .unwrap();
    assert_eq!(
        acting(&mut admin, a.id, "u", Some(&["recruiter"]), PERMISSIONS).await.unwrap(),
        ["hrms:read", "hrms:write"]
    );
    assert_eq!(
        acting(&mut admin, b.id, "u", Some(&["recruiter"]), PERMISSIONS).await.unwrap(),
        Vec::<String>::new(),
        "A's role only"
    );
    // the default hr_manager is hrms:* (and users:read); A narrows it for itself
    let wildcard = acting(&mut admin, a.id, "u", Some(&["hr_manager"]), PERMISSIONS).await.unwrap();
    assert_eq!(wildcard, ["hrms:*", "users:read"]);
    admin.execute("SELECT tenancy.define_tenant_role($1, 'hr_manager', '{hrms:read}')", &[&a.id]).await.unwrap();
    assert_eq!(acting(&mut admin, a.id, "u", Some(&["hr_manager"]), PERMISSIONS).await.unwrap(), ["hrms:read"]);
    let check = "SELECT ARRAY[tenancy.has_permission('hrms:write')::text, tenancy.has_permission('hrms:manage')::text]";
    assert_eq!(
        acting(&mut admin, b.id, "u", Some(&["hr_manager"]), check).await.unwrap(),
        ["true", "true"],
        "B keeps the default"
    );
    assert_eq!(acting(&mut admin, a.id, "u", Some(&["hr_manager"]), check).await.unwrap(), ["false", "false"]);

    // a permission of a module the tenant does not have grants nothing
    let payroll = "SELECT ARRAY[tenancy.has_permission('payroll:run')::text]";
    assert_eq!(acting(&mut admin, a.id, "u", Some(&["payroll_officer"]), payroll).await.unwrap(), ["false"]);
}

#[tokio::test]
async fn memberships_give_roles_to_users_and_to_analysts() {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let user = unique("user");
    admin.execute("SELECT tenancy.grant_tenant_role($1, $2, 'hr_manager')", &[&t.id, &user]).await.unwrap();
    let roles = "SELECT tenancy.current_tenant_roles()";
    assert_eq!(acting(&mut admin, t.id, &user, None, roles).await.unwrap(), ["hr_manager"]);
    assert_eq!(acting(&mut admin, t.id, &user, Some(&["employee"]), roles).await.unwrap(), ["employee", "hr_manager"]);
    assert_eq!(acting(&mut admin, t.id, "someone-else", None, roles).await.unwrap(), Vec::<String>::new());
    let revoked: bool = admin
        .query_one("SELECT tenancy.revoke_tenant_role($1, $2, 'hr_manager')", &[&t.id, &user])
        .await
        .unwrap()
        .get(0);
    assert!(revoked);
    assert_eq!(acting(&mut admin, t.id, &user, None, roles).await.unwrap(), Vec::<String>::new());

    // an analyst's member name is its database role; a forged claims setting changes nothing
    let analyst_role = create_role(&admin, "IN ROLE tenant_member").await;
    admin.execute("SELECT tenancy.bind_role($1::text::regrole, $2)", &[&analyst_role, &t.id]).await.unwrap();
    let analyst = connect_as(&analyst_role).await;
    let forged = "SELECT set_config('request.jwt.claims', '{\"tenant_role\": \"hr_manager\"}', false)";
    analyst.batch_execute(forged).await.unwrap();
    assert_eq!(value::<Vec<String>>(&analyst, "SELECT tenancy.current_permissions()").await, Vec::<String>::new());
    admin.execute("SELECT tenancy.grant_tenant_role($1, $2, 'employee')", &[&t.id, &analyst_role]).await.unwrap();
    let analyst = connect_as(&analyst_role).await;
    assert!(value::<Vec<String>>(&analyst, "SELECT tenancy.current_permissions()")
        .await
        .contains(&"hrms:read".to_string()));
}

#[tokio::test]
async fn only_the_service_role_names_the_user_and_only_administrators_define_roles() {
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let analyst = connect_as(&create_analyst(&admin, &[t.id]).await).await;
    let refused = analyst.execute("SELECT tenancy.set_user('boss', '{hr_manager}')", &[]).await;
    assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE);
    assert_eq!(
        sqlstate(admin.execute("SELECT tenancy.set_user('boss', '{hr_manager}')", &[]).await),
        "TN004",
        "no tenant entered"
    );
    for call in [
        "SELECT tenancy.define_tenant_role(NULL, 'boss', '{hrms:*}')",
        "SELECT tenancy.grant_tenant_role(NULL, 'me', 'hr_manager')",
    ] {
        assert_eq!(sqlstate(analyst.execute(call, &[]).await), INSUFFICIENT_PRIVILEGE, "{call}");
    }
    // what is unknown is named
    let unknown = admin.execute("SELECT tenancy.define_tenant_role($1, 'x', '{hrms:fly,nope:read}')", &[&t.id]).await;
    assert_eq!(message(unknown), "unknown permission(s) hrms:fly, nope:read");
    let undefined = admin.execute("SELECT tenancy.grant_tenant_role($1, 'u', 'astronaut')", &[&t.id]).await;
    assert_eq!(sqlstate(undefined), "TN070");
    assert_eq!(sqlstate(analyst.execute("SELECT tenancy.has_permission('hrms:fly')", &[]).await), "TN070");
}

#[tokio::test]
async fn employees_are_written_only_with_hrms_write_checked_once_per_statement() {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let insert = "INSERT INTO hrms.employees (first_name, last_name, email) VALUES ('Ada', 'L', 'ada@x.example') RETURNING ARRAY[first_name]";
    assert_eq!(
        acting(&mut admin, t.id, "u", Some(&["employee"]), insert).await,
        Err("TN071 permission=hrms:write".into())
    );
    assert_eq!(acting(&mut admin, t.id, "u", Some(&["hr_manager"]), insert).await.unwrap(), ["Ada"]);

    as_tenant(
        &mut admin,
        t.id,
        "INSERT INTO hrms.employees (first_name, last_name, email) VALUES ('Bo', 'M', 'bo@x.example')",
    )
    .await
    .unwrap();
    let read = "SELECT array_agg(first_name) FROM hrms.employees";
    assert_eq!(
        acting(&mut admin, t.id, "u", Some(&["employee"]), read).await.unwrap(),
        ["Bo"],
        "reading needs no write permission"
    );
    let update =
        "WITH u AS (UPDATE hrms.employees SET job_title = 'x' RETURNING 1) SELECT ARRAY[count(*)::text] FROM u";
    assert_eq!(
        acting(&mut admin, t.id, "u", Some(&["employee"]), update).await,
        Err("TN071 permission=hrms:write".into())
    );

    let tx = admin.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&t.id]).await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    let plan: String = tx
        .query("EXPLAIN (VERBOSE, COSTS OFF) UPDATE hrms.employees SET job_title = 'x'", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0) + "\n")
        .collect();
    // an InitPlan (evaluated once per statement) for the rows read and one for the rows
    // written; the per-row filter only compares with their results
    let lines: Vec<&str> = plan.lines().collect();
    for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.contains("require_permission")) {
        assert!(lines[i - 2].trim_start().starts_with("InitPlan"), "{line} is not an InitPlan:\n{plan}");
    }
    assert!(
        plan.contains("InitPlan") && lines.iter().any(|l| l.contains("Filter: $") || l.contains("Filter: ($")),
        "{plan}"
    );
}

#[tokio::test]
async fn over_rest_a_denied_write_is_403_naming_the_permission() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let as_role = |roles: serde_json::Value| {
        api.client(Some(&token_with(
            json!({"role": "tenant_member", "tenant_id": t.id, "sub": "u-7", "tenant_role": roles}),
        )))
        .schema("hrms")
    };
    let row = r#"{"first_name": "Ada", "last_name": "L", "email": "ada@x.example"}"#;

    let (status, err) = json(as_role(json!("employee")).from("employees").insert(row).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(
        (err["code"].as_str(), err["error"].as_str(), err["permission"].as_str()),
        (Some("TN071"), Some("Permission denied"), Some("hrms:write"))
    );
    assert!(err["hint"].as_str().unwrap().contains("hr_manager"), "{err}");
    let (status, rows) = json(as_role(json!("employee")).from("employees").execute().await.unwrap()).await;
    assert_eq!((status, rows), (StatusCode::OK, json!([])), "reading is allowed, and nothing was written");

    let (status, _) =
        json(as_role(json!(["employee", "hr_manager"])).from("employees").insert(row).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) = json(as_role(json!(7)).from("employees").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
}
