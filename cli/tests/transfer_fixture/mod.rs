//! The tenant the export/import tests move, and how they look at databases and archives.
//! (Each test file uses part of this.)
#![allow(dead_code)]
use crate::common::{assert_ok, tenancy};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tenancy_e2e::{create_analyst, create_company, create_tenant, grant_tenant_role, test_database_url, Tenant};
use tokio_postgres::Client;
use uuid::Uuid;

/// A tenant with every module, a row or more in every protected table (values COPY must
/// escape among them), a company with its own module settings, a bound analyst holding a
/// tenant role, a tenant role of its own, and an opt-out of cross-tenant analytics.
pub async fn make_tenant(db: &Client) -> Tenant {
    let modules = ["hrms", "payroll", "chat", "pipeline", "school", "library", "events", "attendance"];
    let tenant = create_tenant(db, "premium", &modules).await;
    let company = create_company(db, tenant.id, "Head office").await;
    let analyst = create_analyst(db, &[tenant.id]).await;
    grant_tenant_role(db, tenant.id, &analyst, "hr_manager").await;
    db.execute("SELECT tenancy.define_tenant_role($1, 'night_shift', '{hrms:read}')", &[&tenant.id]).await.unwrap();
    db.execute("SELECT tenancy.set_analytics_opt_out($1, true)", &[&tenant.id]).await.unwrap();
    let sql = TENANT_ROWS.replace("{t}", &tenant.id.to_string()).replace("{c}", &company.to_string());
    db.batch_execute(&sql).await.unwrap();
    tenant
}

/// `{t}`: the tenant, `{c}`: its company. Written as the superuser, past RLS, as a loader would.
pub const TENANT_ROWS: &str = r#"
INSERT INTO core.users (tenant_id, email, display_name)
SELECT '{t}', 'user' || i || '@x.example',
       CASE i WHEN 1 THEN E'tab\there, newline\nthere, backslash \\ and "ünïcode"' ELSE 'User ' || i END
FROM generate_series(1, 5) i;
INSERT INTO core.user_profiles (tenant_id, user_id, bio)
SELECT tenant_id, id, CASE WHEN email LIKE 'user1@%' THEN NULL ELSE E'\\N is not null' END
FROM core.users WHERE tenant_id = '{t}';
INSERT INTO hrms.departments (tenant_id, company_id, name) VALUES ('{t}', '{c}', 'Sales'), ('{t}', NULL, 'Ops');
INSERT INTO hrms.employees (tenant_id, company_id, department_id, user_id, first_name, last_name, email, salary)
SELECT u.tenant_id, '{c}', d.id, u.id, 'First', 'Last', u.email, 1000
FROM core.users u JOIN hrms.departments d ON d.tenant_id = u.tenant_id AND d.name = 'Sales'
WHERE u.tenant_id = '{t}';
INSERT INTO payroll.payslips (tenant_id, employee_id, period_start, period_end, gross, tax)
SELECT tenant_id, id, '2024-01-01', '2024-01-31', 3000, 512.5 FROM hrms.employees WHERE tenant_id = '{t}';
INSERT INTO chat.channels (tenant_id, name) VALUES ('{t}', 'general');
INSERT INTO chat.messages (tenant_id, channel_id, author_id, body)
SELECT c.tenant_id, c.id, u.id, 'hello from ' || u.email
FROM chat.channels c JOIN core.users u ON u.tenant_id = c.tenant_id WHERE c.tenant_id = '{t}';
INSERT INTO pipeline.deals (tenant_id, company_id, title, amount) VALUES ('{t}', '{c}', 'Big', 10), ('{t}', NULL, 'Small', 2);
INSERT INTO school.students (tenant_id, company_id, first_name, last_name, grade)
SELECT '{t}', '{c}', 'Student' || i, 'Last', 1 + i % 12 FROM generate_series(1, 4) i;
INSERT INTO library.books (tenant_id, isbn, title) VALUES ('{t}', '978-0', 'A book');
INSERT INTO library.loans (tenant_id, book_id, student_id, due_on)
SELECT s.tenant_id, b.id, s.id, '2025-01-01'
FROM school.students s JOIN library.books b ON b.tenant_id = s.tenant_id WHERE s.tenant_id = '{t}';
INSERT INTO events.events (tenant_id, company_id, title, starts_at) VALUES ('{t}', '{c}', 'Fair', now());
INSERT INTO attendance.records (tenant_id, student_id, day, status)
SELECT tenant_id, id, '2025-01-02', 'present' FROM school.students WHERE tenant_id = '{t}';
SELECT tenancy.set_company_module('{c}', 'pipeline', true, '{"tax_rate": 0.19}');
"#;

pub async fn protected_tables(db: &Client) -> Vec<String> {
    let rows = db.query("SELECT tbl::text FROM tenancy.protected_tables ORDER BY 1", &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// Per table: the tenant's rows and an md5 of them in order, catalog and history included.
pub async fn fingerprint(db: &Client, tenant: Uuid) -> BTreeMap<String, (i64, String)> {
    let mut queries: Vec<(String, String)> = protected_tables(db)
        .await
        .into_iter()
        .map(|t| (t.clone(), format!("SELECT x::text AS r FROM {t} x WHERE tenant_id = $1")))
        .collect();
    queries.extend([
        ("tenants".into(), "SELECT x::text AS r FROM tenancy.tenants x WHERE id = $1".into()),
        ("companies".into(), "SELECT x::text AS r FROM tenancy.companies x WHERE tenant_id = $1".into()),
        ("tenant_modules".into(), "SELECT x::text AS r FROM tenancy.tenant_modules x WHERE tenant_id = $1".into()),
        (
            "company_modules".into(),
            "SELECT x::text AS r FROM tenancy.company_modules x JOIN tenancy.companies c ON c.id = x.company_id
             WHERE c.tenant_id = $1"
                .into(),
        ),
        (
            // the history the tenant brings, not what the move itself records
            "events".into(),
            "SELECT row(at, actor, action, detail)::text AS r FROM tenancy.events
             WHERE tenant_id = $1 AND action NOT IN ('tenant.imported', 'tenant.erased')"
                .into(),
        ),
    ]);
    let mut result = BTreeMap::new();
    for (table, rows) in queries {
        let sql = format!("SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '') FROM ({rows}) s");
        let row = db.query_one(&sql, &[&tenant]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        result.insert(table, (row.get(0), row.get(1)));
    }
    result
}

pub fn counts(fingerprint: &BTreeMap<String, (i64, String)>) -> BTreeMap<String, i64> {
    fingerprint.iter().map(|(t, (n, _))| (t.clone(), *n)).collect()
}

/// Every row of a database that an import could have written (a fresh target only).
pub async fn database_state(db: &Client) -> BTreeMap<String, i64> {
    let mut tables = protected_tables(db).await;
    tables.extend(
        [
            "tenants",
            "companies",
            "tenant_modules",
            "company_modules",
            "tenant_roles",
            "tenant_role_members",
            "analytics_opt_outs",
            "events",
        ]
        .map(|t| format!("tenancy.{t}")),
    );
    let mut state = BTreeMap::new();
    for t in tables {
        state.insert(t.clone(), db.query_one(&format!("SELECT count(*) FROM {t}"), &[]).await.unwrap().get(0));
    }
    state
}

pub fn archive_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

pub async fn export(tenant: &Tenant, dir: &tempfile::TempDir) -> PathBuf {
    let file = archive_path(dir, "tenant.tar");
    assert_ok(&tenancy(&test_database_url(), &["export", "--tenant", &tenant.slug, "-o", file.to_str().unwrap()]));
    file
}

/// A copy of `archive` with each entry passed through `edit(path, contents)`.
pub fn edited_archive(archive: &Path, to: &Path, edit: impl Fn(&str, Vec<u8>) -> Vec<u8>) {
    let mut reader = tar::Archive::new(std::fs::File::open(archive).unwrap());
    let mut writer = tar::Builder::new(std::fs::File::create(to).unwrap());
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut contents = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut contents).unwrap();
        let contents = edit(&path, contents);
        let mut header = tar::Header::new_ustar();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        writer.append_data(&mut header, &path, contents.as_slice()).unwrap();
    }
    writer.finish().unwrap();
}

pub fn edited_manifest(archive: &Path, to: &Path, edit: impl Fn(&mut serde_json::Value)) {
    edited_archive(archive, to, |path, contents| {
        if path != "manifest.json" {
            return contents;
        }
        let mut manifest: serde_json::Value = serde_json::from_slice(&contents).unwrap();
        edit(&mut manifest);
        serde_json::to_vec(&manifest).unwrap()
    });
}

/// The entries of a (small) archive, in order.
fn entries(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let mut reader = tar::Archive::new(std::fs::File::open(archive).unwrap());
    let entries = reader.entries().unwrap().map(|entry| {
        let mut entry = entry.unwrap();
        let mut contents = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut contents).unwrap();
        (entry.path().unwrap().to_string_lossy().into_owned(), contents)
    });
    entries.collect()
}

/// The data file of `archive` whose name ends with `table` (e.g. `hrms.employees.copy`), and
/// the columns the manifest lists for it.
pub fn data_file(archive: &Path, table: &str) -> (String, Vec<String>) {
    let (_, manifest) = entries(archive).into_iter().next().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let entry = manifest["tables"].as_array().unwrap().iter().find(|t| t["file"].as_str().unwrap().ends_with(table));
    let entry = entry.unwrap_or_else(|| panic!("no {table} in the archive"));
    let columns = entry["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    (entry["file"].as_str().unwrap().to_string(), columns)
}

/// A copy of `archive` whose data file ending with `table` is passed through `edit`, with its
/// sha256 and row count in the manifest made to match: as an attacker would, so that only
/// the checks on the rows themselves can refuse it.
pub fn tampered(archive: &Path, to: &Path, table: &str, edit: impl Fn(String) -> String) {
    let (file, _) = data_file(archive, table);
    let (_, original) = entries(archive).into_iter().find(|(path, _)| *path == file).unwrap();
    let contents = edit(String::from_utf8(original).unwrap());
    let sha256 = format!("{:x}", Sha256::digest(contents.as_bytes()));
    let rows = contents.matches('\n').count();
    edited_archive(archive, to, |path, original| match path {
        "manifest.json" => {
            let mut manifest: serde_json::Value = serde_json::from_slice(&original).unwrap();
            let tables = manifest["tables"].as_array_mut().unwrap();
            let entry = tables.iter_mut().find(|t| t["file"] == file.as_str()).unwrap();
            entry["sha256"] = sha256.clone().into();
            entry["rows"] = rows.into();
            serde_json::to_vec(&manifest).unwrap()
        }
        _ if path == file => contents.clone().into_bytes(),
        _ => original,
    });
}

/// COPY text with field `column` of row `line` (1-based) replaced by `value`.
pub fn with_field(copy: &str, line: usize, column: usize, value: &str) -> String {
    let mut rows: Vec<String> = copy.lines().map(String::from).collect();
    let mut fields: Vec<&str> = rows[line - 1].split('\t').collect();
    fields[column] = value;
    rows[line - 1] = fields.join("\t");
    rows.iter().map(|row| format!("{row}\n")).collect()
}

/// The tenant's event log as `api.events` shows it, oldest first (read as the superuser, so
/// an erased tenant's log can be read too).
pub async fn event_log(db: &Client, tenant: Uuid) -> Vec<String> {
    let rows = db
        .query(
            "SELECT row(at, actor, action, detail)::text FROM tenancy.events WHERE tenant_id = $1 ORDER BY id",
            &[&tenant],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}
