//! A pg_dump of a Tenancy database restores to a working one: the catalog is extension data,
//! and pg_dump leaves an extension's tables out unless the extension marks them (0.2.0 does).
use std::process::Command;
use tenancy_e2e::*;
use tokio_postgres::Client;

const SETUP: &str = "
    CREATE EXTENSION tenancy;
    SELECT tenancy.install_module('{\"key\": \"notes\", \"name\": \"Notes\", \"version\": \"1.0.0\", \"platform\": \">=0.1\"}');
    CREATE SCHEMA app;
    CREATE TABLE app.notes (tenant_id uuid NOT NULL, id int, body text, PRIMARY KEY (tenant_id, id));
    SELECT tenancy.protect('app.notes', 'notes');
    GRANT USAGE ON SCHEMA app TO tenant_member;
    GRANT SELECT ON app.notes TO tenant_member;
    SELECT tenancy.create_tenant(s, s, 'standard', '{\"color\": \"red\"}', '{notes}') FROM unnest('{dump-a,dump-b}'::text[]) s;
    SELECT tenancy.create_company(id, 'HQ') FROM tenancy.tenants;
    INSERT INTO app.notes SELECT t.id, n, t.slug || n FROM tenancy.tenants t, generate_series(1, 3) n;
";

/// Every catalog table and protected table, as one sorted text per table.
async fn contents(db: &Client) -> Vec<(String, String)> {
    let tables: Vec<String> = db
        .query(
            "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'tenancy'::regnamespace AND c.relkind = 'r'
             UNION SELECT tbl::text FROM tenancy.protected_tables ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = vec![];
    for t in tables {
        let rows: String =
            value(db, &format!("SELECT coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '') FROM {t} r")).await;
        out.push((t, rows));
    }
    out
}

#[tokio::test]
async fn a_dump_restores_the_catalog_and_every_tenants_rows() {
    let (source, target) = (ScratchDatabase::create("dump_src").await, ScratchDatabase::create("dump_dst").await);
    let src = source.connect().await;
    src.batch_execute(SETUP).await.unwrap();
    let dump = Command::new("pg_dump").args(tool_args(&source.name)).output().expect("pg_dump runs");
    assert!(dump.status.success(), "pg_dump: {}", String::from_utf8_lossy(&dump.stderr));
    let dump_file = std::env::temp_dir().join(format!("{}.sql", source.name));
    std::fs::write(&dump_file, &dump.stdout).unwrap();
    let restore = Command::new("psql")
        .args(tool_args(&target.name))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(&dump_file)
        .output()
        .expect("psql runs");
    assert!(restore.status.success(), "restore: {}", String::from_utf8_lossy(&restore.stderr));

    let mut dst = target.connect().await;
    let restored = contents(&dst).await;
    assert_eq!(restored, contents(&src).await);
    assert!(restored.iter().any(|(t, rows)| t == "tenancy.tenants" && rows.contains("dump-a")), "{restored:?}");

    // and the restored database isolates: a tenant sees its own 3 notes
    let tx = dst.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant(id) FROM tenancy.tenants WHERE slug = 'dump-a'", &[]).await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    assert_eq!(value::<i64>(&tx, "SELECT count(*) FROM app.notes WHERE body LIKE 'dump-a%'").await, 3);
    assert_eq!(value::<i64>(&tx, "SELECT count(*) FROM app.notes").await, 3);
    tx.rollback().await.unwrap();

    drop((src, dst));
    std::fs::remove_file(dump_file).ok();
}
