//! Modules: entitlements enforced on their tables, manifests, enabling and disabling, and the
//! configuration and features a tenant (and each of its companies) gets.
use serde_json::{json, Value};
use tenancy_e2e::*;
use tokio_postgres::types::FromSql;
use tokio_postgres::Client;
use uuid::Uuid;

/// A module key no other test (or earlier run) uses; keys are `^[a-z][a-z0-9_]{0,39}$`.
fn module_key() -> String {
    format!("m_{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// The DETAIL of a failed statement's database error, one problem a line.
fn detail<T: std::fmt::Debug>(result: Result<T, tokio_postgres::Error>) -> Vec<String> {
    let err = result.expect_err("the statement should have been refused");
    let db = err.as_db_error().unwrap_or_else(|| panic!("not a database error: {err:?}"));
    db.detail().unwrap_or_else(|| panic!("no DETAIL in {db:?}")).lines().map(String::from).collect()
}

/// The single value of `sql` run as superuser in a transaction that entered `tenant` (and
/// `company`); rolled back.
async fn in_context<T>(
    db: &mut Client,
    tenant: Uuid,
    company: Option<Uuid>,
    sql: &str,
) -> Result<T, tokio_postgres::Error>
where
    T: for<'a> FromSql<'a>,
{
    let tx = db.transaction().await?;
    tx.execute("SELECT tenancy.enter_tenant($1, $2)", &[&tenant, &company]).await?;
    let row = tx.query_one(sql, &[]).await?;
    Ok(row.get(0))
}

/// What the catalog says a tenant has: (module, enabled, config).
async fn tenant_modules(db: &Client, tenant: Uuid) -> Vec<(String, bool, Value)> {
    db.query(
        "SELECT module, enabled, config FROM tenancy.tenant_modules WHERE tenant_id = $1 ORDER BY module",
        &[&tenant],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

async fn events(db: &Client, tenant: Uuid) -> Vec<(String, Option<String>)> {
    db.query("SELECT action, detail ->> 'module' FROM tenancy.events WHERE tenant_id = $1 ORDER BY id", &[&tenant])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn valid_manifest(key: &str) -> Value {
    json!({"key": key, "name": "Test module", "version": "1.0.0", "platform": ">=0.1",
           "requires": ["hrms"], "tier": "standard", "permissions": [format!("{key}:read"), format!("{key}:write")],
           "config": {"colour": "blue"}, "features": {"export": false}})
}

#[tokio::test]
async fn reading_or_writing_a_table_of_a_module_not_enabled_names_the_module() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &["hrms"]).await;
    let analyst = connect_as(&create_analyst(&admin, &[a.id]).await).await;
    analyst.query("SELECT * FROM hrms.employees", &[]).await.unwrap();

    let read = analyst.query("SELECT * FROM payroll.payslips", &[]).await;
    let write = analyst
        .execute(
            "INSERT INTO payroll.payslips (employee_id, period_start, period_end, gross)
             VALUES (gen_random_uuid(), '2024-01-01', '2024-01-31', 100)",
            &[],
        )
        .await;
    for (what, refused) in [("read", read.map(|_| ())), ("write", write.map(|_| ()))] {
        let err = refused.expect_err(what);
        assert_eq!(err.code().map(|c| c.code()), Some("TN010"), "{what}: {err:?}");
        assert!(err.as_db_error().unwrap().message().contains("payroll"), "{what}: {err:?}");
    }
}

#[tokio::test]
async fn a_module_switched_off_for_one_company_is_refused_in_that_company_only() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["chat"]).await;
    let off = create_company(&admin, a.id, "Closed Branch").await;
    let on = create_company(&admin, a.id, "Open Branch").await;
    as_tenant(&mut admin, a.id, "INSERT INTO chat.channels (name) VALUES ('general')").await.unwrap();
    admin.execute("SELECT tenancy.set_company_module($1, 'chat', false)", &[&off]).await.unwrap();

    let service = create_role(&admin, "NOINHERIT IN ROLE tenancy_service, tenant_member").await;
    let mut svc = connect_as(&service).await;
    async fn channels(svc: &mut Client, tenant: Uuid, company: Option<Uuid>) -> Result<i64, tokio_postgres::Error> {
        let tx = svc.transaction().await?;
        tx.execute("SELECT tenancy.enter_tenant($1, $2)", &[&tenant, &company]).await?;
        tx.batch_execute("SET LOCAL ROLE tenant_member").await?;
        let n = tx.query_one("SELECT count(*) FROM chat.channels", &[]).await?.get(0);
        tx.commit().await?;
        Ok(n)
    }
    let refused = channels(&mut svc, a.id, Some(off)).await;
    let err = refused.expect_err("chat is off for this company");
    assert_eq!(err.code().map(|c| c.code()), Some("TN010"));
    let text = err.as_db_error().unwrap().message();
    assert!(text.contains("chat") && text.contains("Closed Branch"), "{text}");

    assert_eq!(channels(&mut svc, a.id, Some(on)).await.unwrap(), 1);
    assert_eq!(channels(&mut svc, a.id, None).await.unwrap(), 1);
}

#[tokio::test]
async fn a_bad_manifest_is_refused_with_every_problem_named_by_its_field() {
    let admin = superuser().await;
    let key = module_key();
    let missing = module_key();
    let manifest = json!({"key": key, "version": "1.2", "platform": ">=9",
                          "permissions": ["hrms:read", format!("{key}:read")], "colour": "red",
                          "tier": "gold", "requires": [missing]});
    let refused = admin.execute("SELECT tenancy.install_module($1)", &[&manifest]).await;
    let problems = detail(refused);
    let expected = [
        "colour: unknown field".to_string(),
        "name: required".to_string(),
        "version: \"1.2\" is not a semantic version".to_string(),
        "platform: requires tenancy >=9".to_string(),
        format!("permissions[0]: \"hrms:read\" must be \"{key}:<action>\""),
        "tier: \"gold\" is not a plan".to_string(),
        format!("requires: module \"{missing}\" is not installed"),
    ];
    for e in &expected {
        assert!(problems.iter().any(|p| p.starts_with(e.as_str())), "{e} not in {problems:#?}");
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");

    let refused = admin.execute("SELECT tenancy.install_module($1)", &[&manifest]).await;
    assert_eq!(sqlstate(refused), "TN020");
    let installed: i64 =
        admin.query_one("SELECT count(*) FROM tenancy.modules WHERE key = $1", &[&key]).await.unwrap().get(0);
    assert_eq!(installed, 0);
}

#[tokio::test]
async fn each_manifest_problem_alone_is_refused() {
    let admin = superuser().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("version", json!("1.0"), "version:"),
        ("version", json!("one"), "version:"),
        ("permissions", json!(["chat:read"]), "permissions[0]:"),
        ("platform", json!(">=9"), "platform: requires tenancy >=9"),
        ("platform", json!("recent"), "platform:"),
        ("colour", json!("red"), "colour: unknown field"),
        ("tier", json!("gold"), "tier: \"gold\" is not a plan"),
        (
            "requires",
            json!(["m_not_installed_anywhere"]),
            "requires: module \"m_not_installed_anywhere\" is not installed",
        ),
        ("features", json!({"export": "yes"}), "features.export:"),
        ("config", json!([1, 2]), "config:"),
    ];
    for (field, bad, expected) in cases {
        let key = module_key();
        let mut manifest = valid_manifest(&key);
        manifest[field] = bad.clone();
        let refused = admin.execute("SELECT tenancy.install_module($1)", &[&manifest]).await;
        let err = refused.expect_err(&format!("{field} = {bad}"));
        assert_eq!(err.code().map(|c| c.code()), Some("TN020"), "{field} = {bad}: {err:?}");
        let problems: Vec<&str> = err.as_db_error().unwrap().detail().unwrap_or("").lines().collect();
        assert_eq!(problems.len(), 1, "{field} = {bad}: {problems:#?}");
        assert!(problems[0].starts_with(expected), "{field} = {bad}: {problems:#?}");
    }
    for field in ["key", "name", "version", "platform"] {
        let mut manifest = valid_manifest(&module_key());
        manifest.as_object_mut().unwrap().remove(field);
        let problems = detail(admin.execute("SELECT tenancy.install_module($1)", &[&manifest]).await);
        assert!(problems.iter().any(|p| p.starts_with(&format!("{field}:"))), "{field}: {problems:#?}");
    }
}

#[tokio::test]
async fn a_valid_manifest_installs_and_cannot_go_back_in_version() {
    let admin = superuser().await;
    let key = module_key();
    let manifest = valid_manifest(&key);
    admin.execute("SELECT tenancy.install_module($1)", &[&manifest]).await.unwrap();
    let row = admin
        .query_one(
            "SELECT name, version, required_tier, requires, permissions, config_defaults, features, is_core
             FROM tenancy.modules WHERE key = $1",
            &[&key],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Test module");
    assert_eq!(row.get::<_, String>(1), "1.0.0");
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("standard"));
    assert_eq!(row.get::<_, Vec<String>>(3), vec!["hrms"]);
    assert_eq!(row.get::<_, Vec<String>>(4), vec![format!("{key}:read"), format!("{key}:write")]);
    assert_eq!(row.get::<_, Value>(5), json!({"colour": "blue"}));
    assert_eq!(row.get::<_, Value>(6), json!({"export": false}));
    assert!(!row.get::<_, bool>(7));

    let mut upgrade = manifest.clone();
    upgrade["version"] = json!("1.1.0");
    admin.execute("SELECT tenancy.install_module($1)", &[&upgrade]).await.unwrap();
    let older = admin.execute("SELECT tenancy.install_module($1)", &[&manifest]).await;
    let err = older.expect_err("a downgrade");
    assert_eq!(err.code().map(|c| c.code()), Some("TN020"));
    assert_eq!(err.as_db_error().unwrap().detail(), Some("version: 1.0.0 is older than the installed 1.1.0"));
    let version: String =
        admin.query_one("SELECT version FROM tenancy.modules WHERE key = $1", &[&key]).await.unwrap().get(0);
    assert_eq!(version, "1.1.0");

    let logged: Vec<String> = admin
        .query("SELECT action FROM tenancy.events WHERE detail ->> 'module' = $1 ORDER BY id", &[&key])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(logged, vec!["module.installed", "module.upgraded"]);
}

#[tokio::test]
async fn enabling_is_refused_below_the_tier_without_requirements_or_for_unknown_modules() {
    let admin = superuser().await;
    let free = create_tenant(&admin, "free", &["hrms"]).await;
    let standard = create_tenant(&admin, "standard", &[]).await;
    let enable = |t: Uuid, m: &'static str| {
        let admin = &admin;
        async move { admin.execute("SELECT tenancy.enable_module($1, $2)", &[&t, &m]).await }
    };
    let before = (tenant_modules(&admin, free.id).await, tenant_modules(&admin, standard.id).await);
    let events_before = (events(&admin, free.id).await, events(&admin, standard.id).await);

    let too_low = enable(free.id, "payroll").await;
    assert_eq!(sqlstate(too_low), "TN021", "payroll needs plan standard");
    let missing = enable(standard.id, "payroll").await;
    let err = missing.expect_err("payroll requires hrms");
    assert_eq!(err.code().map(|c| c.code()), Some("TN022"));
    assert!(err.as_db_error().unwrap().message().contains("\"hrms\""), "{err:?}");
    assert_eq!(sqlstate(enable(standard.id, "nope").await), "TN011");
    assert_eq!(sqlstate(enable(Uuid::new_v4(), "chat").await), "TN001");

    assert_eq!((tenant_modules(&admin, free.id).await, tenant_modules(&admin, standard.id).await), before);
    assert_eq!((events(&admin, free.id).await, events(&admin, standard.id).await), events_before);
}

#[tokio::test]
async fn disabling_is_refused_while_required_and_for_core_modules() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "standard", &["hrms", "payroll"]).await;
    let before = tenant_modules(&admin, a.id).await;
    let events_before = events(&admin, a.id).await;

    let required = admin.execute("SELECT tenancy.disable_module($1, 'hrms')", &[&a.id]).await;
    let err = required.expect_err("payroll requires hrms");
    assert_eq!(err.code().map(|c| c.code()), Some("TN023"));
    assert!(err.as_db_error().unwrap().message().contains("\"payroll\""), "{err:?}");
    let core = admin.execute("SELECT tenancy.disable_module($1, 'users')", &[&a.id]).await;
    assert_eq!(sqlstate(core), "TN024");

    assert_eq!(tenant_modules(&admin, a.id).await, before);
    assert_eq!(events(&admin, a.id).await, events_before);

    // Once payroll is off, hrms may go.
    admin.execute("SELECT tenancy.disable_module($1, 'payroll')", &[&a.id]).await.unwrap();
    admin.execute("SELECT tenancy.disable_module($1, 'hrms')", &[&a.id]).await.unwrap();
    let enabled: Vec<bool> = tenant_modules(&admin, a.id).await.into_iter().map(|(_, e, _)| e).collect();
    assert_eq!(enabled, vec![false, false]);
}

#[tokio::test]
async fn configuration_is_deep_merged_from_module_tenant_and_company() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "standard", &[]).await;
    let tenant_config = json!({"currency": "EUR", "tax_rate": 0.20, "invoice_prefix": "ACME"});
    admin.execute("SELECT tenancy.enable_module($1, 'pipeline', $2)", &[&a.id, &tenant_config]).await.unwrap();
    let de = create_company(&admin, a.id, "ACME Germany").await;
    let company_config = json!({"tax_rate": 0.19, "invoice_prefix": "ACME-DE"});
    admin
        .execute("SELECT tenancy.set_company_module($1, 'pipeline', true, $2)", &[&de, &company_config])
        .await
        .unwrap();
    let plain = create_company(&admin, a.id, "ACME Elsewhere").await;

    let config = "SELECT tenancy.module_config('pipeline')";
    assert_eq!(
        in_context::<Value>(&mut admin, a.id, Some(de), config).await.unwrap(),
        json!({"currency": "EUR", "tax_rate": 0.19, "invoice_prefix": "ACME-DE", "payment_terms_days": 30})
    );
    let tenant_level = json!({"currency": "EUR", "tax_rate": 0.20, "invoice_prefix": "ACME", "payment_terms_days": 30});
    assert_eq!(in_context::<Value>(&mut admin, a.id, None, config).await.unwrap(), tenant_level);
    assert_eq!(in_context::<Value>(&mut admin, a.id, Some(plain), config).await.unwrap(), tenant_level);
}

#[tokio::test]
async fn module_config_needs_the_module_enabled_and_a_tenant_context() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["hrms"]).await;
    let hrms: Value = in_context(&mut admin, a.id, None, "SELECT tenancy.module_config('hrms')").await.unwrap();
    assert_eq!(hrms, json!({"probation_days": 90, "work_week": ["mon", "tue", "wed", "thu", "fri"]}));

    let not_enabled = in_context::<Value>(&mut admin, a.id, None, "SELECT tenancy.module_config('chat')").await;
    let err = not_enabled.expect_err("chat is not enabled");
    assert_eq!(err.code().map(|c| c.code()), Some("TN010"));
    assert!(err.as_db_error().unwrap().message().contains("chat"));

    let no_context = admin.query_one("SELECT tenancy.module_config('hrms')", &[]).await;
    assert_eq!(sqlstate(no_context), "TN004");
}

#[tokio::test]
async fn core_modules_are_always_on_and_unknown_modules_are_errors() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["chat"]).await;
    let has = |m: &str| format!("SELECT tenancy.has_module('{m}')");
    assert!(in_context::<bool>(&mut admin, a.id, None, &has("users")).await.unwrap());
    assert!(in_context::<bool>(&mut admin, a.id, None, &has("chat")).await.unwrap());
    assert!(!in_context::<bool>(&mut admin, a.id, None, &has("hrms")).await.unwrap());
    assert_eq!(sqlstate(in_context::<bool>(&mut admin, a.id, None, &has("nope")).await), "TN011");

    let company = create_company(&admin, a.id, "No Chat Here").await;
    admin.execute("SELECT tenancy.set_company_module($1, 'chat', false)", &[&company]).await.unwrap();
    assert!(!in_context::<bool>(&mut admin, a.id, Some(company), &has("chat")).await.unwrap());
    assert!(in_context::<bool>(&mut admin, a.id, Some(company), &has("users")).await.unwrap());
}

#[tokio::test]
async fn features_follow_the_manifest_default_then_the_company_override() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["hrms"]).await;
    let plain = create_company(&admin, a.id, "Plain").await;
    let flipped = create_company(&admin, a.id, "Flipped").await;
    admin
        .execute(
            "SELECT tenancy.set_company_module($1, 'hrms', true, '{}', ARRAY['self_service'], ARRAY['org_chart'])",
            &[&flipped],
        )
        .await
        .unwrap();
    let features =
        "SELECT ARRAY[tenancy.has_feature('hrms', 'org_chart'), tenancy.has_feature('hrms', 'self_service')]";
    assert_eq!(in_context::<Vec<bool>>(&mut admin, a.id, None, features).await.unwrap(), vec![true, false]);
    assert_eq!(in_context::<Vec<bool>>(&mut admin, a.id, Some(plain), features).await.unwrap(), vec![true, false]);
    assert_eq!(in_context::<Vec<bool>>(&mut admin, a.id, Some(flipped), features).await.unwrap(), vec![false, true]);

    // A module the tenant does not have has no features on.
    let b = create_tenant(&admin, "free", &[]).await;
    assert_eq!(in_context::<Vec<bool>>(&mut admin, b.id, None, features).await.unwrap(), vec![false, false]);
}

#[tokio::test]
async fn undeclared_features_are_refused() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &["hrms"]).await;
    let company = create_company(&admin, a.id, "Branch").await;
    let asked = in_context::<bool>(&mut admin, a.id, None, "SELECT tenancy.has_feature('hrms', 'teleport')").await;
    assert_eq!(sqlstate(asked), "TN012");
    for (on, off) in [(vec!["teleport"], vec![]), (vec![], vec!["teleport"])] {
        let set = admin
            .execute("SELECT tenancy.set_company_module($1, 'hrms', true, '{}', $2, $3)", &[&company, &on, &off])
            .await;
        assert_eq!(sqlstate(set), "TN012", "{on:?} {off:?}");
    }
    let rows: i64 = admin
        .query_one("SELECT count(*) FROM tenancy.company_modules WHERE company_id = $1", &[&company])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn each_module_lifecycle_step_is_an_event() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    let company = create_company(&admin, a.id, "Branch").await;
    admin.execute("SELECT tenancy.enable_module($1, 'chat', '{\"retention_days\": 30}')", &[&a.id]).await.unwrap();
    admin.execute("SELECT tenancy.set_company_module($1, 'chat', false)", &[&company]).await.unwrap();
    admin.execute("SELECT tenancy.disable_module($1, 'chat')", &[&a.id]).await.unwrap();

    let logged: Vec<(String, Option<String>)> = events(&admin, a.id)
        .await
        .into_iter()
        .filter(|(action, _)| action.starts_with("module") || action.starts_with("company_module"))
        .collect();
    let chat = Some("chat".to_string());
    assert_eq!(
        logged,
        vec![
            ("module.enabled".to_string(), chat.clone()),
            ("company_module.set".to_string(), chat.clone()),
            ("module.disabled".to_string(), chat.clone()),
        ]
    );
    let details = admin
        .query(
            "SELECT detail FROM tenancy.events
             WHERE tenant_id = $1 AND action IN ('module.enabled', 'company_module.set') ORDER BY id",
            &[&a.id],
        )
        .await
        .unwrap();
    assert_eq!(details[0].get::<_, Value>(0)["config"], json!({"retention_days": 30}));
    assert_eq!(details[1].get::<_, Value>(0)["company"], json!(company.to_string()));
    assert_eq!(details[1].get::<_, Value>(0)["enabled"], json!(false));
}
