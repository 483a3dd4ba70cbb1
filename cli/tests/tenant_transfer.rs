//! `tenancy export`, `import` and `erase`, driven through the built binary against the dev
//! stack: a tenant of the test's own moves to a fresh database made for the test (migrated by
//! `tenancy migrate`), and every refusal is shown to change nothing.
use std::path::Path;
use tenancy_e2e::{connect_to, create_role, superuser, test_database_url, unique};
use uuid::Uuid;

mod common;
mod transfer_fixture;
use common::{assert_ok, assert_refused, migrated_database, tenancy};
use transfer_fixture::{
    archive_path, counts, database_state, edited_archive, edited_manifest, export, fingerprint, make_tenant,
};

// ---- moving a tenant ----

#[tokio::test]
async fn moving_a_tenant_keeps_every_row_and_erase_leaves_none() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    let before = fingerprint(&source, tenant.id).await;
    assert!(before.values().all(|(rows, _)| *rows > 0), "the fixture fills every table: {before:?}");

    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let target = migrated_database("tenancy_xfer").await;
    let imported = tenancy(&target.url(), &["import", archive.to_str().unwrap()]);
    assert_ok(&imported);
    assert!(String::from_utf8_lossy(&imported.stdout).contains("role bindings not restored"));
    let db = target.connect().await;
    assert_eq!(fingerprint(&db, tenant.id).await, before, "the same rows on both sides");

    let erased = tenancy(&test_database_url(), &["erase", "--tenant", &tenant.slug, "--yes"]);
    assert_ok(&erased);
    assert!(String::from_utf8_lossy(&erased.stdout).contains("hrms.employees"), "erase reports per table");
    let after = counts(&fingerprint(&source, tenant.id).await);
    let left: Vec<_> = after.iter().filter(|(table, rows)| **rows > 0 && table.as_str() != "events").collect();
    assert!(left.is_empty(), "rows of the erased tenant are left: {left:?}");

    // Through RLS, as the API reads it: the service role enters the tenant in the target.
    let service = create_role(&source, "IN ROLE tenancy_service, tenant_member").await;
    let mut api = connect_to(&target.name, &service).await;
    let tx = api.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant.id]).await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    for (table, (rows, _)) in before.iter().filter(|(t, _)| t.contains('.')) {
        let seen: i64 = tx.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.unwrap().get(0);
        assert_eq!(seen, *rows, "{table} through RLS");
    }
    tx.commit().await.unwrap();
    drop(api);
    drop(target);
}

#[tokio::test]
async fn import_with_a_new_id_rewrites_every_tenant_id() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    let before = counts(&fingerprint(&source, tenant.id).await);
    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let target = migrated_database("tenancy_xfer").await;
    let (new_id, new_slug) = (Uuid::new_v4(), unique("moved"));
    let args = ["import", archive.to_str().unwrap(), "--tenant-id", &new_id.to_string(), "--slug", &new_slug];
    assert_ok(&tenancy(&target.url(), &args));

    let db = target.connect().await;
    assert_eq!(counts(&fingerprint(&db, new_id).await), before, "every row carries the new id");
    let old = counts(&fingerprint(&db, tenant.id).await);
    assert!(old.values().all(|n| *n == 0), "no row carries the old id: {old:?}");
    let slug: String = db.query_one("SELECT slug FROM tenancy.tenants WHERE id = $1", &[&new_id]).await.unwrap().get(0);
    assert_eq!(slug, new_slug);
    drop(target);
}

#[tokio::test]
async fn as_new_tenant_clones_beside_the_original_with_new_company_ids() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    let before = fingerprint(&source, tenant.id).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let clone_slug = unique("clone");
    assert_ok(&tenancy(
        &test_database_url(),
        &["import", archive.to_str().unwrap(), "--as-new-tenant", "--slug", &clone_slug],
    ));

    let clone: Uuid =
        source.query_one("SELECT id FROM tenancy.tenants WHERE slug = $1", &[&clone_slug]).await.unwrap().get(0);
    assert_eq!(counts(&fingerprint(&source, clone).await), counts(&before));
    assert_eq!(fingerprint(&source, tenant.id).await, before, "the original is untouched");
    let shared: i64 = source
        .query_one(
            "SELECT count(*) FROM tenancy.companies a JOIN tenancy.companies b ON a.name = b.name
             WHERE a.tenant_id = $1 AND b.tenant_id = $2 AND a.id = b.id",
            &[&tenant.id, &clone],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(shared, 0, "the clone's companies have ids of their own");
    assert_ok(&tenancy(&test_database_url(), &["erase", "--tenant", &clone_slug, "--yes"]));
}

// ---- refusals change nothing ----

#[tokio::test]
async fn import_refuses_a_tenant_that_exists_by_id_or_by_slug() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let before = fingerprint(&source, tenant.id).await;

    assert_refused(&tenancy(&test_database_url(), &["import", archive.to_str().unwrap()]), "already exists");
    let other = Uuid::new_v4();
    let args = ["import", archive.to_str().unwrap(), "--tenant-id", &other.to_string()];
    assert_refused(&tenancy(&test_database_url(), &args), "is taken");

    assert_eq!(fingerprint(&source, tenant.id).await, before);
    assert!(counts(&fingerprint(&source, other).await).values().all(|n| *n == 0), "nothing of the new id");
}

#[tokio::test]
async fn import_refuses_other_migrations_or_extension_version() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let target = migrated_database("tenancy_xfer").await;
    let db = target.connect().await;
    let state = database_state(&db).await;

    let migrations = archive_path(&dir, "migrations.tar");
    edited_manifest(&archive, &migrations, |m| m["migrations"][1]["checksum"] = "1".into());
    assert_refused(&tenancy(&target.url(), &["import", migrations.to_str().unwrap()]), "migrations differ");
    let fewer = archive_path(&dir, "fewer.tar");
    edited_manifest(&archive, &fewer, |m| {
        m["migrations"].as_array_mut().unwrap().pop();
    });
    assert_refused(&tenancy(&target.url(), &["import", fewer.to_str().unwrap()]), "migrations differ");
    let version = archive_path(&dir, "version.tar");
    edited_manifest(&archive, &version, |m| m["extension_version"] = "0.0.1".into());
    assert_refused(&tenancy(&target.url(), &["import", version.to_str().unwrap()]), "extension tenancy 0.0.1");
    let format = archive_path(&dir, "format.tar");
    edited_manifest(&archive, &format, |m| m["format_version"] = 99.into());
    assert_refused(&tenancy(&target.url(), &["import", format.to_str().unwrap()]), "version 99");

    assert_eq!(database_state(&db).await, state, "nothing written");
    drop(target);
}

#[tokio::test]
async fn import_refuses_a_tampered_truncated_or_foreign_archive() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let target = migrated_database("tenancy_xfer").await;
    let db = target.connect().await;
    let state = database_state(&db).await;
    let import = |file: &Path| tenancy(&target.url(), &["import", file.to_str().unwrap()]);

    // a valid value changed in a late table: only the checksum can tell
    let tampered = archive_path(&dir, "tampered.tar");
    edited_archive(&archive, &tampered, |path, contents| {
        if path.ends_with("attendance.records.copy") {
            return String::from_utf8(contents).unwrap().replacen("present", "excused", 1).into_bytes();
        }
        contents
    });
    assert_refused(&import(&tampered), "checksum mismatch");

    let bytes = std::fs::read(&archive).unwrap();
    for (name, cut) in [("truncated.tar", bytes.len() * 2 / 3), ("headless.tar", 300)] {
        let truncated = archive_path(&dir, name);
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        assert_eq!(import(&truncated).status.code(), Some(1), "{name}");
    }
    let garbage = archive_path(&dir, "garbage.tar");
    std::fs::write(&garbage, b"not a tar file at all").unwrap();
    assert_refused(&import(&garbage), "not a tenant archive");

    // a manifest naming a table that is not a tenant table here
    let foreign = archive_path(&dir, "foreign.tar");
    edited_manifest(&archive, &foreign, |m| m["tables"][4]["name"] = "pg_authid".into());
    assert_refused(&import(&foreign), "is not a tenant table");

    assert_eq!(database_state(&db).await, state, "nothing written");
    drop(target);
}

#[tokio::test]
async fn export_and_erase_refuse_an_unknown_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let file = archive_path(&dir, "nobody.tar");
    let nobody = unique("nobody");
    assert_refused(
        &tenancy(&test_database_url(), &["export", "--tenant", &nobody, "-o", file.to_str().unwrap()]),
        "no tenant",
    );
    assert!(!file.exists(), "no archive is left behind");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nor any spool file");
    let id = Uuid::new_v4().to_string();
    assert_refused(&tenancy(&test_database_url(), &["erase", "--tenant", &id, "--yes"]), "no tenant");
}

#[tokio::test]
async fn erase_refuses_without_yes_when_stdin_is_not_a_terminal() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    let before = fingerprint(&source, tenant.id).await;
    assert_refused(&tenancy(&test_database_url(), &["erase", "--tenant", &tenant.slug]), "needs --yes");
    assert_eq!(fingerprint(&source, tenant.id).await, before);
    assert_ok(&tenancy(&test_database_url(), &["erase", "--tenant", &tenant.id.to_string(), "--yes"]));
}

#[test]
fn usage_errors_exit_2_and_every_command_has_help() {
    for args in [&["export"][..], &["import"], &["erase"], &["import", "x.tar", "--as-new-tenant", "--tenant-id", "x"]]
    {
        assert_eq!(tenancy(&test_database_url(), args).status.code(), Some(2), "{args:?}");
    }
    for command in ["export", "import", "erase"] {
        let help = tenancy(&test_database_url(), &[command, "--help"]);
        assert_ok(&help);
        assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: tenancy"));
    }
}
