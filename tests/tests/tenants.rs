//! The tenant lifecycle: creating (slugs, plans, modules), deleting everything a tenant owns,
//! suspending, the event log, and that only tenancy_admin runs any of it.
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tenancy_e2e::*;
use tokio_postgres::Client;
use uuid::Uuid;

async fn slug_exists(db: &impl tokio_postgres::GenericClient, slug: &str) -> bool {
    db.query_one("SELECT EXISTS (SELECT FROM tenancy.tenants WHERE slug = $1)", &[&slug]).await.unwrap().get(0)
}

async fn actions(db: &Client, tenant: Uuid) -> Vec<String> {
    db.query("SELECT action FROM tenancy.events WHERE tenant_id = $1 ORDER BY id", &[&tenant])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn enabled_modules(db: &Client, tenant: Uuid) -> Vec<String> {
    db.query("SELECT module FROM tenancy.tenant_modules WHERE tenant_id = $1 AND enabled ORDER BY module", &[&tenant])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Rows `tenant` owns in each protected table (tables where it owns none are left out).
async fn owned_rows(db: &Client, tenant: Uuid) -> BTreeMap<String, i64> {
    let tables: Vec<String> = db
        .query("SELECT tbl::text FROM tenancy.protected_tables ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.len() >= 10, "{tables:?}");
    let mut owned = BTreeMap::new();
    for table in tables {
        let n: i64 = db
            .query_one(&format!("SELECT count(*) FROM {table} WHERE tenant_id = $1"), &[&tenant])
            .await
            .unwrap()
            .get(0);
        if n > 0 {
            owned.insert(table, n);
        }
    }
    owned
}

/// Users, profiles, departments (one in a company), employees, channels and messages, a payslip.
async fn fill(db: &mut Client, tenant: &Tenant) {
    let company = create_company(db, tenant.id, "Head Office").await;
    let [u1, u2, d1, d2, c1, e1] = [(); 6].map(|_| Uuid::new_v4());
    as_tenant(
        db,
        tenant.id,
        &format!(
            "INSERT INTO core.users (id, email, display_name)
                 VALUES ('{u1}', 'ada@x.example', 'Ada'), ('{u2}', 'bob@x.example', 'Bob');
             INSERT INTO core.user_profiles (user_id, bio) VALUES ('{u1}', 'hi');
             INSERT INTO hrms.departments (id, name, company_id)
                 VALUES ('{d1}', 'Engineering', '{company}'), ('{d2}', 'Sales', NULL);
             INSERT INTO hrms.employees (id, first_name, last_name, email, department_id, user_id, company_id)
                 VALUES ('{e1}', 'Ada', 'L', 'ada@x.example', '{d1}', '{u1}', '{company}'),
                        (DEFAULT, 'Bob', 'M', 'bob@x.example', '{d2}', '{u2}', NULL),
                        (DEFAULT, 'Cy', 'N', 'cy@x.example', NULL, NULL, NULL);
             INSERT INTO payroll.payslips (employee_id, period_start, period_end, gross)
                 VALUES ('{e1}', '2024-01-01', '2024-01-31', 1000);
             INSERT INTO chat.channels (id, name) VALUES ('{c1}', 'general');
             INSERT INTO chat.messages (channel_id, author_id, body)
                 VALUES ('{c1}', '{u1}', 'hello'), ('{c1}', '{u2}', 'hi'), ('{c1}', NULL, 'bye');"
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn invalid_or_reserved_slugs_are_refused() {
    let admin = superuser().await;
    let too_long = "a".repeat(64);
    for slug in ["Acme", "-acme", "acme-", "a_b", too_long.as_str(), "", "acme.com", "ac me", "www", "api", "admin"] {
        let refused = admin.query_one("SELECT tenancy.create_tenant($1, 'Some name')", &[&slug]).await;
        assert_eq!(sqlstate(refused), "TN040", "{slug:?}");
    }
    let null = admin.query_one("SELECT tenancy.create_tenant(NULL, 'Some name')", &[]).await;
    assert_eq!(sqlstate(null), "TN040");
}

#[tokio::test]
async fn slugs_of_one_and_sixty_three_characters_are_accepted() {
    let mut admin = superuser().await;
    // Only 36 one-character slugs exist: create in a transaction that is rolled back.
    let tx = admin.transaction().await.unwrap();
    let one: Option<String> = tx
        .query_one(
            "SELECT min(c) FROM regexp_split_to_table('abcdefghijklmnopqrstuvwxyz0123456789', '') c
             WHERE c NOT IN (SELECT slug FROM tenancy.tenants)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let one = one.expect("some one-character slug is free");
    let long = format!("x-{}-{}", Uuid::new_v4().simple(), "z".repeat(28));
    assert_eq!(long.len(), 63);
    for slug in [&one, &long] {
        tx.query_one("SELECT tenancy.create_tenant($1, 'Some name')", &[slug])
            .await
            .unwrap_or_else(|e| panic!("{slug}: {e}"));
        assert!(slug_exists(&tx, slug).await, "{slug}");
    }
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn a_taken_slug_or_an_unknown_plan_is_refused() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    let taken = admin.query_one("SELECT tenancy.create_tenant($1, 'Another')", &[&a.slug]).await;
    assert_eq!(sqlstate(taken), "23505");

    let slug = unique("t");
    let unknown = admin.query_one("SELECT tenancy.create_tenant($1, 'Gold', 'gold')", &[&slug]).await;
    assert_eq!(sqlstate(unknown), "TN041");
    assert!(!slug_exists(&admin, &slug).await);
}

#[tokio::test]
async fn a_new_tenant_has_the_core_modules_and_those_listed() {
    let mut admin = superuser().await;
    let bare = create_tenant(&admin, "free", &[]).await;
    let with_hrms = create_tenant(&admin, "free", &["hrms"]).await;
    for (t, hrms) in [(&bare, false), (&with_hrms, true)] {
        let tx = admin.transaction().await.unwrap();
        tx.execute("SELECT tenancy.enter_tenant($1)", &[&t.id]).await.unwrap();
        let row = tx
            .query_one(
                "SELECT tenancy.has_module('users'), tenancy.has_module('hrms'), tenancy.has_module('chat')",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            (row.get::<_, bool>(0), row.get::<_, bool>(1), row.get::<_, bool>(2)),
            (true, hrms, false),
            "{}",
            t.slug
        );
        tx.rollback().await.unwrap();
    }
    let row = admin
        .query_one("SELECT status, plan, name FROM tenancy.tenants WHERE id = $1", &[&with_hrms.id])
        .await
        .unwrap();
    let shape = (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, String>(2));
    assert_eq!(shape, ("active".into(), "free".into(), with_hrms.slug.clone()));
    assert_eq!(actions(&admin, with_hrms.id).await, vec!["tenant.created", "module.enabled"]);
}

#[tokio::test]
async fn listed_modules_are_enabled_whatever_their_order() {
    let admin = superuser().await;
    let slug = unique("t");
    let id: Uuid = admin
        .query_one("SELECT tenancy.create_tenant($1, 'Ordered', 'standard', '{}', ARRAY['payroll', 'hrms'])", &[&slug])
        .await
        .unwrap()
        .get(0);
    assert_eq!(enabled_modules(&admin, id).await, vec!["hrms", "payroll"]);
}

#[tokio::test]
async fn a_module_that_cannot_be_enabled_leaves_no_tenant_behind() {
    let admin = superuser().await;
    for (plan, modules, code) in [
        ("free", vec!["payroll"], "TN021"),
        ("free", vec!["hrms", "payroll"], "TN021"),
        ("standard", vec!["payroll"], "TN022"),
        ("free", vec!["chat", "nope"], "TN011"),
    ] {
        let slug = unique("t");
        let refused = admin
            .query_one("SELECT tenancy.create_tenant($1, 'Doomed', $2, '{}', $3)", &[&slug, &plan, &modules])
            .await;
        assert_eq!(sqlstate(refused), code, "{plan} {modules:?}");
        assert!(!slug_exists(&admin, &slug).await, "{plan} {modules:?}");
        let logged: i64 = admin
            .query_one(
                "SELECT count(*) FROM tenancy.events WHERE action = 'tenant.created' AND detail ->> 'slug' = $1",
                &[&slug],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(logged, 0, "{plan} {modules:?}");
    }
}

#[tokio::test]
async fn erasing_a_tenant_removes_every_row_it_owns_and_nothing_else() {
    let mut admin = superuser().await;
    let doomed = create_tenant(&admin, "standard", &["hrms", "payroll", "chat"]).await;
    let kept = create_tenant(&admin, "standard", &["hrms", "payroll", "chat"]).await;
    fill(&mut admin, &doomed).await;
    fill(&mut admin, &kept).await;
    let company: Uuid =
        admin.query_one("SELECT id FROM tenancy.companies WHERE tenant_id = $1", &[&doomed.id]).await.unwrap().get(0);
    admin.execute("SELECT tenancy.set_company_module($1, 'chat', false)", &[&company]).await.unwrap();
    let analyst = create_analyst(&admin, &[doomed.id, kept.id]).await;

    let expected: BTreeMap<String, i64> = [
        ("chat.channels", 1),
        ("chat.messages", 3),
        ("core.user_profiles", 1),
        ("core.users", 2),
        ("hrms.departments", 2),
        ("hrms.employees", 3),
        ("payroll.payslips", 1),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_string(), n))
    .collect();
    assert_eq!(owned_rows(&admin, doomed.id).await, expected);
    let kept_before = owned_rows(&admin, kept.id).await;
    assert_eq!(kept_before, expected);

    let removed: Value = admin.query_one("SELECT tenancy.erase_tenant($1)", &[&doomed.id]).await.unwrap().get(0);
    let removed = removed.as_object().expect("an object of table -> rows removed");
    for (table, n) in removed {
        assert_eq!(n.as_i64(), Some(expected.get(table).copied().unwrap_or(0)), "{table} in {removed:?}");
    }
    for table in expected.keys() {
        assert!(removed.contains_key(table), "{table} missing from {removed:?}");
    }

    assert_eq!(owned_rows(&admin, doomed.id).await, BTreeMap::new(), "no protected table keeps a row");
    let catalog: Vec<i64> = admin
        .query_one(
            "SELECT ARRAY[(SELECT count(*) FROM tenancy.tenants WHERE id = $1),
                          (SELECT count(*) FROM tenancy.companies WHERE tenant_id = $1),
                          (SELECT count(*) FROM tenancy.company_modules WHERE company_id = $2),
                          (SELECT count(*) FROM tenancy.tenant_modules WHERE tenant_id = $1),
                          (SELECT count(*) FROM tenancy.role_bindings WHERE tenant_id = $1)]",
            &[&doomed.id, &company],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(catalog, vec![0, 0, 0, 0, 0], "tenant, companies, company modules, tenant modules, bindings");

    assert_eq!(owned_rows(&admin, kept.id).await, kept_before, "the other tenant is untouched");
    let bound: Vec<Uuid> = admin
        .query("SELECT tenant_id FROM tenancy.role_bindings WHERE role = $1::text::regrole", &[&analyst])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(bound, vec![kept.id]);

    let deleted = admin
        .query_one("SELECT detail FROM tenancy.events WHERE tenant_id = $1 AND action = 'tenant.erased'", &[&doomed.id])
        .await
        .unwrap();
    let detail: Value = deleted.get(0);
    assert_eq!(detail["slug"], json!(doomed.slug));
    assert_eq!(detail["rows_removed"].as_object(), Some(removed));

    let again = admin.query_one("SELECT tenancy.erase_tenant($1)", &[&doomed.id]).await;
    assert_eq!(sqlstate(again), "TN001");
}

#[tokio::test]
async fn deleting_or_erasing_an_unknown_tenant_is_refused() {
    let admin = superuser().await;
    for f in ["delete_tenant", "erase_tenant", "restore_tenant"] {
        let refused = admin.query_one(&format!("SELECT tenancy.{f}($1)"), &[&Uuid::new_v4()]).await;
        assert_eq!(sqlstate(refused), "TN001", "{f}");
    }
}

/// delete_tenant is soft: the tenant is suspended at once and keeps every row until its grace
/// period is over; restore_tenant gives it back the status it had; erase_due_tenants erases the
/// due ones only.
#[tokio::test]
async fn a_deleted_tenant_is_suspended_restorable_and_erased_only_when_due() {
    let mut admin = superuser().await;
    let doomed = create_tenant(&admin, "standard", &["hrms", "payroll", "chat"]).await;
    let later = create_tenant(&admin, "standard", &["hrms", "payroll", "chat"]).await;
    fill(&mut admin, &doomed).await;
    fill(&mut admin, &later).await;
    let rows = owned_rows(&admin, doomed.id).await;

    let scheduled: Value = admin.query_one("SELECT tenancy.delete_tenant($1)", &[&doomed.id]).await.unwrap().get(0);
    assert_eq!(
        (scheduled["status"].as_str(), scheduled["slug"].as_str()),
        (Some("suspended"), Some(doomed.slug.as_str()))
    );
    let grace: bool = value(
        &admin,
        &format!(
            "SELECT erase_after BETWEEN now() + interval '30 days' - interval '1 minute' AND now() + interval '30 days'
                  FROM tenancy.tenant_deletions WHERE tenant_id = '{}'",
            doomed.id
        ),
    )
    .await;
    assert!(grace, "30 days by default: {scheduled}");
    assert_eq!(owned_rows(&admin, doomed.id).await, rows, "nothing is erased before it is due");
    assert_eq!(sqlstate(as_tenant(&mut admin, doomed.id, "SELECT 1").await), "TN002", "its users are shut out");
    for (sql, code) in [
        ("SELECT tenancy.delete_tenant($1)", "TN043"),
        ("SELECT tenancy.activate_tenant($1)", "TN043"),
        ("SELECT tenancy.delete_tenant($1, interval '-1 day')", "TN043"),
    ] {
        assert_eq!(sqlstate(admin.execute(sql, &[&doomed.id]).await), code, "{sql}");
    }
    assert_eq!(
        sqlstate(admin.execute("SELECT tenancy.delete_tenant($1, interval '-1 day')", &[&later.id]).await),
        "22023"
    );
    assert_eq!(sqlstate(admin.execute("SELECT tenancy.restore_tenant($1)", &[&later.id]).await), "TN044");

    admin.execute("SELECT tenancy.restore_tenant($1)", &[&doomed.id]).await.unwrap();
    as_tenant(&mut admin, doomed.id, "SELECT 1").await.expect("restored: active again");
    // a tenant that was suspended before it was deleted is suspended again when restored
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&doomed.id]).await.unwrap();
    admin.execute("SELECT tenancy.delete_tenant($1, interval '0')", &[&doomed.id]).await.unwrap();
    admin.execute("SELECT tenancy.delete_tenant($1, interval '1 day')", &[&later.id]).await.unwrap();
    admin.execute("SELECT tenancy.restore_tenant($1)", &[&doomed.id]).await.unwrap();
    let status: String = value(&admin, &format!("SELECT status FROM tenancy.tenants WHERE id = '{}'", doomed.id)).await;
    assert_eq!(status, "suspended");

    admin.execute("SELECT tenancy.delete_tenant($1, interval '0')", &[&doomed.id]).await.unwrap();
    let erased: Vec<(Uuid, Value)> = admin
        .query(
            "SELECT tenant_id, rows_removed FROM tenancy.erase_due_tenants() WHERE tenant_id = ANY ($1)",
            &[&vec![doomed.id, later.id]],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(erased.len(), 1, "only the due one: {erased:?}");
    assert_eq!(erased[0].0, doomed.id);
    assert_eq!(erased[0].1["hrms.employees"].as_i64(), rows.get("hrms.employees").copied());
    assert_eq!(owned_rows(&admin, doomed.id).await, BTreeMap::new());
    assert!(!owned_rows(&admin, later.id).await.is_empty(), "not due yet: kept");
    let actions: Vec<String> = admin
        .query("SELECT action FROM tenancy.events WHERE tenant_id = $1 ORDER BY id", &[&doomed.id])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .filter(|a: &String| a.starts_with("tenant."))
        .collect();
    assert_eq!(
        actions,
        [
            "tenant.created",
            "tenant.deletion_scheduled",
            "tenant.restored",
            "tenant.suspended",
            "tenant.deletion_scheduled",
            "tenant.restored",
            "tenant.deletion_scheduled",
            "tenant.erased"
        ]
    );
}

#[tokio::test]
async fn events_are_append_only_even_for_a_superuser() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    let event: i64 = admin
        .query_one("SELECT id FROM tenancy.events WHERE tenant_id = $1 AND action = 'tenant.created'", &[&a.id])
        .await
        .unwrap()
        .get(0);
    // In a transaction that is rolled back, so a broken guard could not lose history.
    let mut tx = admin.transaction().await.unwrap();
    for statement in [
        format!("UPDATE tenancy.events SET action = 'tenant.forged' WHERE id = {event}"),
        format!("UPDATE tenancy.events SET detail = '{{}}', tenant_id = NULL WHERE id = {event}"),
        format!("DELETE FROM tenancy.events WHERE id = {event}"),
        format!("DELETE FROM tenancy.events WHERE tenant_id = '{}'", a.id),
        "TRUNCATE tenancy.events".to_string(),
    ] {
        let attempt = tx.savepoint("attempt").await.unwrap();
        let refused = attempt.batch_execute(&statement).await;
        assert_eq!(sqlstate(refused), "TN050", "{statement}");
        drop(attempt);
    }
    tx.rollback().await.unwrap();
    assert_eq!(actions(&admin, a.id).await, vec!["tenant.created"]);
}

#[tokio::test]
async fn lifecycle_functions_are_refused_outside_tenancy_admin() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &["hrms"]).await;
    let company = create_company(&admin, a.id, "Branch").await;
    let manifest = json!({"key": format!("m_{}", &Uuid::new_v4().simple().to_string()[..12]), "name": "X",
                          "version": "1.0.0", "platform": ">=0.1"});
    let analyst = create_analyst(&admin, &[a.id]).await;
    let plain = create_role(&admin, "").await;
    for role in [analyst, plain] {
        let db = connect_as(&role).await;
        let slug = unique("t");
        let attempts = [
            db.execute("SELECT tenancy.create_tenant($1, 'Mine')", &[&slug]).await,
            db.execute("SELECT tenancy.suspend_tenant($1)", &[&a.id]).await,
            db.execute("SELECT tenancy.activate_tenant($1)", &[&a.id]).await,
            db.execute("SELECT tenancy.delete_tenant($1)", &[&a.id]).await,
            db.execute("SELECT tenancy.restore_tenant($1)", &[&a.id]).await,
            db.execute("SELECT tenancy.erase_tenant($1)", &[&a.id]).await,
            db.execute("SELECT tenancy.erase_due_tenants()", &[]).await,
            db.execute("SELECT tenancy.create_company($1, 'Mine')", &[&a.id]).await,
            db.execute("SELECT tenancy.enable_module($1, 'chat')", &[&a.id]).await,
            db.execute("SELECT tenancy.disable_module($1, 'hrms')", &[&a.id]).await,
            db.execute("SELECT tenancy.set_company_module($1, 'hrms', false)", &[&company]).await,
            db.execute("SELECT tenancy.install_module($1)", &[&manifest]).await,
            db.execute("SELECT tenancy.bind_role(current_user::regrole, $1)", &[&a.id]).await,
            db.execute("SELECT tenancy.unbind_role(current_user::regrole, $1)", &[&a.id]).await,
        ];
        for (i, r) in attempts.into_iter().enumerate() {
            assert_eq!(sqlstate(r), INSUFFICIENT_PRIVILEGE, "{role}: attempt {i}");
        }
        assert!(!slug_exists(&admin, &slug).await);
    }
    let row = admin
        .query_one(
            "SELECT t.status, (SELECT count(*) FROM tenancy.companies c WHERE c.tenant_id = t.id),
                    (SELECT count(*) FROM tenancy.modules m WHERE m.key = $2)
             FROM tenancy.tenants t WHERE t.id = $1",
            &[&a.id, &manifest["key"].as_str().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, i64>(1), row.get::<_, i64>(2)), ("active".into(), 1, 0));
    assert_eq!(enabled_modules(&admin, a.id).await, vec!["hrms"]);
    let company_modules: i64 = admin
        .query_one("SELECT count(*) FROM tenancy.company_modules WHERE company_id = $1", &[&company])
        .await
        .unwrap()
        .get(0);
    assert_eq!(company_modules, 0);
}

#[tokio::test]
async fn a_member_of_tenancy_admin_can_create_a_tenant() {
    let admin = superuser().await;
    let operator = connect_as(&create_role(&admin, "IN ROLE tenancy_admin").await).await;
    let slug = unique("t");
    let id: Uuid = operator
        .query_one("SELECT tenancy.create_tenant($1, 'By an operator', 'standard', '{}', ARRAY['hrms'])", &[&slug])
        .await
        .unwrap()
        .get(0);
    operator.execute("SELECT tenancy.create_company($1, 'First')", &[&id]).await.unwrap();
    let found: Uuid = admin.query_one("SELECT id FROM tenancy.tenants WHERE slug = $1", &[&slug]).await.unwrap().get(0);
    assert_eq!(found, id);
    assert_eq!(enabled_modules(&admin, id).await, vec!["hrms"]);
    // Administering is not reading: the catalog stays closed to it.
    let read = operator.query("SELECT * FROM tenancy.tenants", &[]).await;
    assert_eq!(sqlstate(read), INSUFFICIENT_PRIVILEGE);
}

#[tokio::test]
async fn suspending_and_activating_are_events() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    for f in ["suspend_tenant", "suspend_tenant", "activate_tenant", "activate_tenant", "suspend_tenant"] {
        admin.execute(&format!("SELECT tenancy.{f}($1)"), &[&a.id]).await.unwrap();
    }
    assert_eq!(
        actions(&admin, a.id).await,
        vec!["tenant.created", "tenant.suspended", "tenant.activated", "tenant.suspended"],
        "a call that changes nothing records nothing"
    );
    let status: String =
        admin.query_one("SELECT status FROM tenancy.tenants WHERE id = $1", &[&a.id]).await.unwrap().get(0);
    assert_eq!(status, "suspended");
    for f in ["suspend_tenant", "activate_tenant"] {
        let unknown = admin.execute(&format!("SELECT tenancy.{f}($1)"), &[&Uuid::new_v4()]).await;
        assert_eq!(sqlstate(unknown), "TN001", "{f}");
    }
}
