//! The views that read the catalog for roles granted none of it, on the Citus cluster
//! (scripts/up-citus): Citus checks the querying role's rights on each shard, so these views read
//! through definer functions (migration V20, the extension's analytics views). A tenant
//! administrator's views show its tenant's rows and no other's, the analytics views count every
//! tenant, and neither role may read the catalog itself.
use tenancy_e2e::citus::{connect, TenantTable, COORDINATOR};
use tenancy_e2e::{create_company, sqlstate, INSUFFICIENT_PRIVILEGE};
use tokio_postgres::Client;
use uuid::Uuid;

/// `sql`'s first column, as tenant_member of `tenant` with users:write, in one transaction.
async fn as_tenant_admin(db: &mut Client, tenant: Uuid, sql: &str) -> Result<Vec<String>, tokio_postgres::Error> {
    let tx = db.transaction().await?;
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant]).await?;
    tx.execute("SELECT tenancy.set_user($1, '{tenant_admin}')", &[&Uuid::new_v4().to_string()]).await?;
    tx.batch_execute("SET LOCAL ROLE tenant_member").await?;
    let rows = tx.query(sql, &[]).await;
    tx.rollback().await?;
    Ok(rows?.iter().map(|r| r.get(0)).collect())
}

#[tokio::test]
async fn a_tenant_administrator_reads_its_own_catalog_rows_and_nothing_else() {
    let t = TenantTable::create().await;
    let mut db = connect(COORDINATOR, "postgres").await;
    db.execute("SELECT tenancy.enable_module($1, 'chat')", &[&t.a]).await.unwrap();
    db.execute("SELECT tenancy.enable_module($1, 'chat')", &[&t.b]).await.unwrap();
    let ours = create_company(&db, t.a, "North of a").await;
    create_company(&db, t.b, "South of b").await;
    db.execute("SELECT tenancy.define_tenant_role($1, 'auditor_of_b', '{users:read}', 'b''s own')", &[&t.b])
        .await
        .unwrap();

    let companies = as_tenant_admin(&mut db, t.a, "SELECT DISTINCT company FROM api.company_configuration").await;
    assert_eq!(companies.unwrap(), vec!["North of a".to_string()]);
    let ids = as_tenant_admin(&mut db, t.a, "SELECT DISTINCT company_id::text FROM api.company_configuration").await;
    assert_eq!(ids.unwrap(), vec![ours.to_string()]);
    let roles = as_tenant_admin(&mut db, t.a, "SELECT name FROM api.tenant_roles ORDER BY 1").await.unwrap();
    assert!(roles.contains(&"tenant_admin".to_string()), "{roles:?}");
    assert!(!roles.contains(&"auditor_of_b".to_string()), "another tenant's role: {roles:?}");
    let members = as_tenant_admin(&mut db, t.a, "SELECT id::text FROM api.members").await;
    assert!(members.is_ok(), "{members:?}");

    // The catalog itself stays closed to the tenant's role.
    for table in ["tenancy.companies", "tenancy.tenant_roles", "tenancy.tenants"] {
        let direct = as_tenant_admin(&mut db, t.a, &format!("SELECT count(*)::text FROM {table}")).await;
        assert_eq!(sqlstate(direct), INSUFFICIENT_PRIVILEGE, "{table}");
    }
}

#[tokio::test]
async fn the_analytics_views_count_every_tenant_and_the_analyst_reads_no_catalog_row() {
    let _t = TenantTable::create().await;
    let mut db = connect(COORDINATOR, "postgres").await;
    let tenants: i64 = db.query_one("SELECT count(*) FROM tenancy.tenants", &[]).await.unwrap().get(0);
    let modules: i64 = db.query_one("SELECT count(*) FROM tenancy.modules", &[]).await.unwrap().get(0);
    let tx = db.transaction().await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenancy_analytics").await.unwrap();
    let by_plan: i64 =
        tx.query_one("SELECT sum(tenants)::bigint FROM analytics.tenants_by_plan", &[]).await.unwrap().get(0);
    assert_eq!(by_plan, tenants);
    let adoption = tx.query("SELECT module, total_tenants FROM analytics.module_adoption", &[]).await.unwrap();
    assert_eq!(adoption.len() as i64, modules);
    assert!(adoption.iter().all(|r| r.get::<_, i64>(1) == tenants));
    tx.query("SELECT * FROM analytics.tenant_daily_events", &[]).await.unwrap();
    tx.query("SELECT * FROM analytics.tenant_table_usage", &[]).await.unwrap();
    let direct = tx.query("SELECT slug FROM tenancy.tenants LIMIT 1", &[]).await;
    assert_eq!(sqlstate(direct), INSUFFICIENT_PRIVILEGE);
}
