//! `tenancy import` reads untrusted input: an archive a tenant hands over. Each test edits an
//! archive as an attacker would (recomputing the sha256 and row count in the manifest, so only
//! the checks on the rows themselves can refuse it), imports it into a database where another
//! tenant (the victim) lives, and asserts the refusal, its message, and that nothing changed
//! in any tenant. The last one erases a tenant and imports it again: its event log must come
//! back as it was, plus `tenant.imported`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use tenancy_e2e::{create_role, superuser, test_database_url, ScratchDatabase, Tenant};
use tokio_postgres::Client;
use uuid::Uuid;

mod common;
mod transfer_fixture;
use common::{assert_ok, assert_refused, migrated_database, stdout, tenancy};
use transfer_fixture::{
    archive_path, data_file, database_state, edited_archive, event_log, export, fingerprint, make_tenant, tampered,
    with_field,
};

/// An archived tenant of the dev database, and a database to import it into, where a victim
/// tenant has rows in every table.
struct Scene {
    dir: tempfile::TempDir,
    archive: PathBuf,
    tenant: Tenant,
    victim: Tenant,
    target: ScratchDatabase,
    db: Client,
}

async fn scene() -> Scene {
    let tenant = make_tenant(&superuser().await).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let target = migrated_database("tenancy_attack").await;
    let db = target.connect().await;
    // The victim's ids must not be the archive's own, or pointing at one would point home.
    db.batch_execute(
        "SELECT setval(s, 1000000000) FROM tenancy.protected_tables p
         JOIN pg_attribute a ON a.attrelid = p.tbl AND a.attnum > 0,
         LATERAL pg_get_serial_sequence(p.tbl::text, a.attname) s WHERE s IS NOT NULL",
    )
    .await
    .unwrap();
    let victim = make_tenant(&db).await;
    Scene { dir, archive, tenant, victim, target, db }
}

/// Everything an import could have written, in every tenant.
#[derive(Debug, PartialEq)]
struct Snapshot {
    rows_per_table: BTreeMap<String, i64>,
    victim: BTreeMap<String, (i64, String)>,
    victim_log: Vec<String>,
}

impl Scene {
    async fn snapshot(&self) -> Snapshot {
        Snapshot {
            rows_per_table: database_state(&self.db).await,
            victim: fingerprint(&self.db, self.victim.id).await,
            victim_log: event_log(&self.db, self.victim.id).await,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        archive_path(&self.dir, name)
    }

    fn import(&self, archive: &Path, args: &[&str]) -> Output {
        tenancy(&self.target.url(), &[&["import", archive.to_str().unwrap()], args].concat())
    }

    /// The archive with field `column` of row `line` of `table`'s data file set to `value`.
    fn with_field(&self, name: &str, table: &str, line: usize, column: &str, value: &str) -> PathBuf {
        let (_, columns) = data_file(&self.archive, table);
        let column = columns.iter().position(|c| c == column).unwrap_or_else(|| panic!("{table} has no {column}"));
        let path = self.path(name);
        tampered(&self.archive, &path, table, |copy| with_field(&copy, line, column, value));
        path
    }

    /// The archive with a row added to `table`'s data file: its row 1 with `changes` made.
    fn with_row(&self, name: &str, table: &str, changes: &[(&str, &str)]) -> PathBuf {
        let (_, columns) = data_file(&self.archive, table);
        let path = self.path(name);
        tampered(&self.archive, &path, table, |copy| {
            let mut row = copy.lines().next().unwrap_or_else(|| panic!("{table} has no row")).to_string() + "\n";
            for (column, value) in changes {
                row = with_field(&row, 1, columns.iter().position(|c| c == column).unwrap(), value);
            }
            copy + &row
        });
        path
    }

    /// `sql`'s one value in the target database.
    async fn victim_value(&self, sql: &str) -> String {
        self.db.query_one(sql, &[&self.victim.id]).await.unwrap().get(0)
    }
}

fn file_of(archive: &Path, table: &str) -> String {
    data_file(archive, table).0
}

#[tokio::test]
async fn a_row_of_another_tenant_is_refused_naming_its_file_and_line() {
    let scene = scene().await;
    let before = scene.snapshot().await;
    let (tenant, victim) = (scene.tenant.id.to_string(), scene.victim.id.to_string());

    // An edit with the manifest left alone: the checksum refuses it, before anything is read.
    let unsigned = scene.path("unsigned.tar");
    let users = file_of(&scene.archive, "core.users.copy");
    edited_archive(&scene.archive, &unsigned, |path, contents| match path == users {
        true => String::from_utf8(contents).unwrap().replacen(&tenant, &victim, 1).into_bytes(),
        false => contents,
    });
    assert_refused(&scene.import(&unsigned, &[]), "checksum mismatch");

    // With the checksum recomputed, the row itself is refused: as it is, moved to a new id,
    // a NULL owner (a platform-wide event), or the victim's row pointing at the victim's rows.
    let not_ours = |value: &str| format!("{value:?} is not the archive's tenant ({tenant})");
    let cases: [(&str, &str, &str, &[&str]); 6] = [
        ("core.users.copy", "tenant_id", &victim, &[]),
        ("core.users.copy", "tenant_id", &victim, &["--as-new-tenant", "--slug", "moved-in"]),
        ("hrms.employees.copy", "tenant_id", &victim, &[]),
        ("library.loans.copy", "tenant_id", &victim, &[]),
        ("tenancy.events.copy", "tenant_id", &victim, &[]),
        ("tenancy.events.copy", "tenant_id", "\\N", &[]),
    ];
    for (table, column, value, args) in cases {
        let archive = scene.with_field("foreign.tar", table, 2, column, value);
        let refused = scene.import(&archive, args);
        let file = file_of(&archive, table);
        assert_refused(&refused, &format!("refused: {file}: line 2, column {column}: {}", not_ours(value)));
    }
    let department = scene.victim_value("SELECT id::text FROM hrms.departments WHERE tenant_id = $1 LIMIT 1").await;
    let archive = scene.path("victims.tar");
    tampered(&scene.archive, &archive, "hrms.employees.copy", |copy| {
        let (_, columns) = data_file(&scene.archive, "hrms.employees.copy");
        let at = |name: &str| columns.iter().position(|c| c == name).unwrap();
        with_field(&with_field(&copy, 1, at("tenant_id"), &victim), 1, at("department_id"), &department)
    });
    assert_refused(&scene.import(&archive, &[]), &format!("line 1, column tenant_id: {}", not_ours(&victim)));

    assert_eq!(scene.snapshot().await, before, "nothing written in any tenant");
}

#[tokio::test]
async fn a_foreign_key_cannot_point_into_another_tenant() {
    let scene = scene().await;
    let before = scene.snapshot().await;

    // Keys include tenant_id, and tenant_id is the archive's tenant: the victim's department
    // is not there for the archive's tenant (foreign keys are checked past RLS).
    let department = scene.victim_value("SELECT id::text FROM hrms.departments WHERE tenant_id = $1 LIMIT 1").await;
    let remaps: [&[&str]; 2] = [&[], &["--as-new-tenant", "--slug", "moved-in"]];
    for args in remaps {
        let archive = scene.with_field("department.tar", "hrms.employees.copy", 1, "department_id", &department);
        let refused = scene.import(&archive, args);
        assert_refused(
            &refused,
            &format!("refused: {}: insert or update on table", file_of(&archive, "employees.copy")),
        );
        assert_refused(&refused, "is not present in table \"departments\"");
    }
    // Companies are the catalog's, keyed by id alone: a company of someone else is refused by name.
    let company = scene.victim_value("SELECT id::text FROM tenancy.companies WHERE tenant_id = $1 LIMIT 1").await;
    for table in ["pipeline.deals.copy", "tenancy.company_modules.copy"] {
        let archive = scene.with_field("company.tar", table, 1, "company_id", &company);
        let expected = format!(
            "{}: line 1, column company_id: {company:?} is not a company of the archive's tenant",
            file_of(&archive, table)
        );
        assert_refused(&scene.import(&archive, &[]), &expected);
    }

    assert_eq!(scene.snapshot().await, before, "nothing written in any tenant");
}

#[tokio::test]
async fn the_catalog_part_cannot_name_another_tenant() {
    let scene = scene().await;
    let before = scene.snapshot().await;
    let victim = scene.victim.id.to_string();
    let not_ours = |value: &str| format!("{value:?} is not the archive's tenant ({})", scene.tenant.id);

    // a second tenant beside the archive's
    let stranger = Uuid::new_v4().to_string();
    let archive = scene.with_row("extra.tar", "tenancy.tenants.copy", &[("id", &stranger), ("slug", "stranger")]);
    assert_refused(&scene.import(&archive, &[]), "does not start with its tenant's row (tenancy.tenants, one row)");
    let archive = scene.with_field("renamed.tar", "tenancy.tenants.copy", 1, "id", &stranger);
    assert_refused(&scene.import(&archive, &[]), &format!("line 1, column id: {}", not_ours(&stranger)));

    // a company for the victim, an administrator in the victim, a default role for every
    // tenant, the victim opted out of analytics
    let intruder = [("tenant_id", victim.as_str()), ("member", "intruder"), ("role_name", "tenant_admin")];
    for (name, table, archive) in [
        (
            "company",
            "tenancy.companies.copy",
            scene.with_field("c.tar", "tenancy.companies.copy", 1, "tenant_id", &victim),
        ),
        (
            "member",
            "tenancy.tenant_role_members.copy",
            scene.with_row("m.tar", "tenancy.tenant_role_members.copy", &intruder),
        ),
        (
            "role",
            "tenancy.tenant_roles.copy",
            scene.with_row("r.tar", "tenancy.tenant_roles.copy", &[("tenant_id", "\\N"), ("name", "everyone")]),
        ),
        (
            "opt-out",
            "tenancy.analytics_opt_outs.copy",
            scene.with_field("o.tar", "tenancy.analytics_opt_outs.copy", 1, "tenant_id", &victim),
        ),
    ] {
        let refused = scene.import(&archive, &[]);
        let value = if name == "role" { "\\N" } else { victim.as_str() };
        assert_refused(&refused, &format!("refused: {}: ", file_of(&archive, table)));
        assert_refused(&refused, &format!("column tenant_id: {}", not_ours(value)));
    }

    assert_eq!(scene.snapshot().await, before, "nothing written in any tenant");
}

/// Identity columns draw from one sequence for every tenant: an archive whose id sits near its
/// end would leave the other tenants no ids to insert with.
#[tokio::test]
async fn an_id_that_would_exhaust_a_shared_sequence_is_refused() {
    let scene = scene().await;
    let before = scene.snapshot().await;
    let archive = scene.with_field("huge.tar", "chat.messages.copy", 1, "id", "9223372036854775000");
    assert_refused(
        &scene.import(&archive, &[]),
        "refused: chat.messages.id holds 9223372036854775000, past half of the range of chat.messages_id_seq",
    );
    assert_eq!(scene.snapshot().await, before, "nothing written in any tenant");
    // the victim can still insert
    let mut db = scene.target.connect().await;
    tenancy_e2e::as_tenant(
        &mut db,
        scene.victim.id,
        "INSERT INTO chat.messages (channel_id, body) SELECT id, 'still works' FROM chat.channels LIMIT 1",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn rows_of_a_module_the_tenant_never_had_are_refused() {
    let scene = scene().await;
    let before = scene.snapshot().await;
    let archive = scene.path("no-library.tar");
    tampered(&scene.archive, &archive, "tenancy.tenant_modules.copy", |copy| {
        copy.lines().filter(|row| row.split('\t').nth(1) != Some("library")).map(|row| format!("{row}\n")).collect()
    });
    let refused = scene.import(&archive, &[]);
    assert_refused(&refused, "rows of module library, which the archive's tenant does not have (its modules: ");
    assert_refused(&refused, "library.");
    assert_eq!(scene.snapshot().await, before, "nothing written in any tenant");

    // A module the tenant disabled keeps its rows (disable_module deletes nothing): they move.
    let source = superuser().await;
    source.execute("SELECT tenancy.disable_module($1, 'library')", &[&scene.tenant.id]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let disabled = export(&scene.tenant, &dir).await;
    assert_ok(&scene.import(&disabled, &[]));
    let books: i64 = scene
        .db
        .query_one("SELECT count(*) FROM library.books WHERE tenant_id = $1", &[&scene.tenant.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(books, 1, "the disabled module's rows came along");
}

#[tokio::test]
async fn erase_then_import_leaves_the_event_log_as_it_was_plus_tenant_imported() {
    let source = superuser().await;
    let tenant = make_tenant(&source).await;
    // The rows, apart from the log (checked below: the erase logs its deletes).
    let rows_of = async |tenant| {
        let mut rows = fingerprint(&source, tenant).await;
        rows.remove("events");
        rows
    };
    let rows = rows_of(tenant.id).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = export(&tenant, &dir).await;
    let archived = event_log(&source, tenant.id).await;
    assert!(archived.iter().any(|e| e.contains("row.insert")), "the fixture's writes were logged: {archived:?}");
    assert_ok(&tenancy(&test_database_url(), &["erase", "--tenant", &tenant.slug, "--yes"]));
    let before = event_log(&source, tenant.id).await;
    assert_eq!(before[..archived.len()], archived[..], "the log is append-only");
    assert!(before.last().unwrap().contains("tenant.erased"), "{before:?}");

    let imported = tenancy(&test_database_url(), &["import", archive.to_str().unwrap()]);
    assert_ok(&imported);
    let already = format!("{} events of its history were in this database's log already", archived.len());
    assert!(stdout(&imported).contains(&already), "{already:?} in {}", stdout(&imported));
    let after = event_log(&source, tenant.id).await;
    assert_eq!(after[..after.len() - 1], before[..], "the history once, as it was");
    assert!(after.last().unwrap().contains("tenant.imported"), "{after:?}");
    assert_eq!(rows_of(tenant.id).await, rows, "and the rows");

    // as the tenant's administrator reads it (GET /events)
    let service = create_role(&source, "IN ROLE tenancy_service, tenant_member").await;
    let mut api = tenancy_e2e::connect_as(&service).await;
    let tx = api.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant.id]).await.unwrap();
    tx.execute("SELECT tenancy.set_user('auditor', '{tenant_admin}')", &[]).await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    let rows = tx.query("SELECT row(at, actor, action, detail)::text FROM api.events ORDER BY id", &[]).await.unwrap();
    let seen: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(seen, after);
}
