//! `tenancy import`: an archive written by `tenancy export`, into a database with the same
//! extension version and migrations, in one transaction, parents first. Refusals (versions,
//! an existing tenant, unknown tables) come before anything is written; the data is
//! checked against the manifest's checksums as it streams in, and every row against the
//! archive's tenant (tenant_remap.rs): an archive is untrusted input, and any refusal rolls
//! the whole import back.
use crate::progress::TableProgress;
use crate::tenant_archive::{self, Manifest, Migration, TableEntry, VerifyingReader};
use crate::tenant_remap::{Remap, RowRewriter};
use crate::tenant_tables::{self, quote_ident, TenantTable};
use anyhow::{anyhow, bail, ensure, Context};
use bytes::Bytes;
use futures_util::SinkExt;
use std::io::Read;
use std::path::PathBuf;
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// An archive written by `tenancy export`.
    file: PathBuf,
    /// Give the tenant a new random id (and its companies new ids).
    #[arg(long, conflicts_with = "tenant_id")]
    as_new_tenant: bool,
    /// Give the tenant this id (and its companies new ids).
    #[arg(long, value_name = "UUID")]
    tenant_id: Option<Uuid>,
    /// Give the tenant this slug (slugs are unique in a database).
    #[arg(long)]
    slug: Option<String>,
}

/// What is read from the archive per round trip to the server.
const CHUNK_BYTES: usize = 256 * 1024;

pub async fn run(client: &mut Client, args: ImportArgs) -> anyhow::Result<()> {
    let manifest = tenant_archive::read_manifest(&args.file)?;
    let old = &manifest.tenant;
    let id = match (args.tenant_id, args.as_new_tenant) {
        (Some(id), _) => id,
        (None, true) => Uuid::new_v4(),
        (None, false) => old.id,
    };
    let slug = args.slug.unwrap_or_else(|| old.slug.clone());

    let tx = client.transaction().await?;
    // The archive carries the tenant's history: its rows are restored, not written anew, so
    // tables that log writes (tenancy.record_writes) do not log them again.
    tx.batch_execute("SET LOCAL tenancy.restoring = on").await?;
    check_same_schema(&tx, &manifest).await?;
    check_tenant_is_new(&tx, id, &slug).await?;
    let targets = target_tables(&tx, &manifest).await?;
    // A first pass, so that a damaged archive is refused before anything is written; the
    // load checks again (the file could change in between) and rolls back on a mismatch.
    tenant_archive::for_each_table(&args.file, &manifest, async |_, _| Ok(())).await.context("refused")?;
    let logged_before = history_here(&tx, id).await?;
    let mut remap = Remap::new((old.id, &old.slug), (id, &slug));
    let mut already_logged = None;
    let mut progress = TableProgress::new("import", manifest.tables.len());
    tenant_archive::for_each_table(
        &args.file,
        &manifest,
        async |entry: &TableEntry, data: &mut VerifyingReader<'_>| {
            let target = &targets[manifest.tables.iter().position(|t| t.file == entry.file).expect("a manifest table")];
            progress.start_table(entry.qualified());
            if !target.is_catalog() {
                refuse_foreign_module(&tx, target, entry, id).await?;
            }
            let rows = RowRewriter::new(&mut remap, target.columns.len(), tenant_tables::id_fields(&tx, target).await?);
            if target.is("tenancy", "events") && logged_before {
                already_logged = Some(append_history(&tx, target, entry, data, rows, &progress, id).await?);
            } else {
                copy_in(&tx, &target.quoted_name(), target, entry, data, rows, &progress).await?;
            }
            progress.finish_table();
            Ok(())
        },
    )
    .await?;
    progress.finish();

    for table in targets.iter().filter(|t| !t.is_catalog()) {
        advance_sequences(&tx, table, id).await?;
    }
    tx.execute(
        "SELECT tenancy._record($1, 'tenant.imported', jsonb_build_object('from', $2::text, 'slug', $3::text, 'exported_at', $4::text))",
        &[&id, &old.id.to_string(), &old.slug, &manifest.exported_at],
    )
    .await?;
    tx.commit().await.context("committing the import")?;

    for t in manifest.tables.iter().filter(|t| t.rows > 0) {
        println!("{:>10}  {}", t.rows, t.qualified());
    }
    let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
    println!("imported tenant {slug} ({id}): {rows} rows in {} tables", manifest.tables.len());
    if let Some(n) = already_logged {
        println!("{n} events of its history were in this database's log already and were not added again");
    }
    if !manifest.role_bindings.is_empty() {
        println!(
            "role bindings not restored (roles are cluster-wide; bind again with tenancy.bind_role): {}",
            manifest.role_bindings.join(", ")
        );
    }
    Ok(())
}

async fn check_same_schema(tx: &Transaction<'_>, manifest: &Manifest) -> anyhow::Result<()> {
    let version = tenant_tables::extension_version(tx).await?;
    ensure!(
        version == manifest.extension_version,
        "refused: the archive was exported with extension tenancy {}, this database has {version}; \
         update the older side first (ALTER EXTENSION tenancy UPDATE)",
        manifest.extension_version
    );
    let applied = tenant_tables::applied_migrations(tx).await?;
    if applied != manifest.migrations {
        bail!(
            "refused: the migrations differ (run `tenancy migrate` with the same migrations on both sides)\n  \
             archive:  {}\n  database: {}",
            describe(&manifest.migrations),
            describe(&applied)
        );
    }
    Ok(())
}

fn describe(migrations: &[Migration]) -> String {
    migrations.iter().map(|m| format!("V{}__{} ({})", m.version, m.name, m.checksum)).collect::<Vec<_>>().join(", ")
}

async fn check_tenant_is_new(tx: &Transaction<'_>, id: Uuid, slug: &str) -> anyhow::Result<()> {
    let taken = tx.query_opt("SELECT slug FROM tenancy.tenants WHERE id = $1", &[&id]).await?;
    if let Some(row) = taken {
        bail!(
            "refused: tenant {id} already exists here (as {:?}); import it --as-new-tenant or --tenant-id",
            row.get::<_, String>(0)
        );
    }
    let taken = tx.query_opt("SELECT id FROM tenancy.tenants WHERE slug = $1", &[&slug]).await?;
    if let Some(row) = taken {
        bail!("refused: slug {slug:?} is taken here (by tenant {}); import it with --slug", row.get::<_, Uuid>(0));
    }
    // the same rules create_tenant applies (TN040)
    tx.execute("SELECT tenancy._check_slug($1)", &[&slug]).await.context("refused")?;
    Ok(())
}

/// The database's own description of each archived table: only catalog and protected tables
/// are written, each once and only with columns they have, the tenant's row first. (The other
/// tables' order is checked by what needs it: a foreign key, a company or module not loaded
/// yet is refused.)
async fn target_tables(tx: &Transaction<'_>, manifest: &Manifest) -> anyhow::Result<Vec<TenantTable>> {
    let first = manifest.tables.first();
    ensure!(
        first.is_some_and(|t| t.schema == "tenancy" && t.name == "tenants" && t.rows == 1),
        "refused: the archive does not start with its tenant's row (tenancy.tenants, one row)"
    );
    let here = tenant_tables::tables_in_load_order(tx).await?;
    let mut targets: Vec<TenantTable> = Vec::with_capacity(manifest.tables.len());
    for entry in &manifest.tables {
        let Some(table) = here.iter().find(|t| t.is(&entry.schema, &entry.name)) else {
            bail!("refused: {} is not a tenant table in this database", entry.qualified());
        };
        ensure!(
            table.columns == entry.columns,
            "refused: {} has columns {:?} here, {:?} in the archive",
            entry.qualified(),
            table.columns,
            entry.columns
        );
        ensure!(!targets.contains(table), "refused: the archive holds {} twice", entry.qualified());
        targets.push(table.clone());
    }
    Ok(targets)
}

/// Rows of a module's table need the module among the tenant's (the catalog rows are loaded
/// by now): the archive cannot bring data the tenant never had.
async fn refuse_foreign_module(
    tx: &Transaction<'_>,
    table: &TenantTable,
    entry: &TableEntry,
    tenant: Uuid,
) -> anyhow::Result<()> {
    // `entry.rows` is what the file holds: the first pass checked it, and the load checks again.
    if entry.rows == 0 {
        return Ok(());
    }
    if let Some((module, held)) = tenant_tables::module_not_held(tx, table, tenant).await? {
        bail!(
            "refused: {} holds {} rows of module {module}, which the archive's tenant does not have (its modules: {held})",
            entry.file,
            entry.rows
        );
    }
    Ok(())
}

/// Streams one data file into `COPY into (columns) FROM STDIN`, every row checked and
/// rewritten on the way. Returns the number of rows.
async fn copy_in(
    tx: &Transaction<'_>,
    into: &str,
    table: &TenantTable,
    entry: &TableEntry,
    data: &mut VerifyingReader<'_>,
    mut rows: RowRewriter<'_>,
    progress: &TableProgress,
) -> anyhow::Result<u64> {
    let refused = |e| server_refusal(&entry.file, e);
    let copy = format!("COPY {into} ({}) FROM STDIN", table.quoted_columns());
    let sink = tx.copy_in::<_, Bytes>(&copy).await?;
    futures_util::pin_mut!(sink);
    let mut chunk = vec![0; CHUNK_BYTES];
    loop {
        let n = data.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        let mut out = Vec::with_capacity(n + 64);
        rows.push(&chunk[..n], &mut out).with_context(|| format!("refused: {}", entry.file))?;
        sink.send(Bytes::from(out)).await.map_err(refused)?;
        progress.rows(rows.rows());
    }
    let rows = rows.finish().with_context(|| format!("refused: {}", entry.file))?;
    let copied = sink.as_mut().finish().await.map_err(refused)?;
    ensure!(copied == rows, "refused: {}: the server read {copied} rows of its {rows}", entry.file);
    Ok(rows)
}

/// A COPY the server refused, said so the operator finds the row: the archive's file, its
/// line when the server names one (a foreign key is checked at the end of the COPY, so its
/// refusal names the key instead), the message and its detail.
fn server_refusal(file: &str, error: tokio_postgres::Error) -> anyhow::Error {
    let Some(db) = error.as_db_error() else {
        return anyhow::Error::new(error).context(format!("loading {file}"));
    };
    // The server's context reads "COPY employees, line 3, column id: ..."
    let line = db.where_().and_then(|w| w.split(", ").find_map(|part| part.strip_prefix("line ")));
    let line = line.map(|n| format!(" line {}:", n.chars().take_while(char::is_ascii_digit).collect::<String>()));
    let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
    anyhow!("refused: {file}:{} {}{detail}", line.unwrap_or_default(), db.message())
}

/// Whether this database's log already holds events of the tenant: it was erased here (the
/// log is append-only), or another tenant had its id.
async fn history_here(tx: &Transaction<'_>, tenant: Uuid) -> anyhow::Result<bool> {
    Ok(tx.query_one("SELECT EXISTS (SELECT FROM tenancy.events WHERE tenant_id = $1)", &[&tenant]).await?.get(0))
}

/// The archive's events when the log already holds some of the tenant's: they are staged, and
/// only those the log does not hold yet are appended, in their order, so an erase followed
/// by an import of the same tenant leaves its history as it was (plus `tenant.imported`).
/// Events are compared whole (time, actor, action, detail), each counted as often as it
/// occurs. Returns how many were in the log already.
async fn append_history(
    tx: &Transaction<'_>,
    table: &TenantTable,
    entry: &TableEntry,
    data: &mut VerifyingReader<'_>,
    rows: RowRewriter<'_>,
    progress: &TableProgress,
    tenant: Uuid,
) -> anyhow::Result<u64> {
    let columns = table.quoted_columns();
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE archived_events ON COMMIT DROP AS SELECT {columns} FROM {} WITH NO DATA;
         ALTER TABLE pg_temp.archived_events ADD COLUMN archive_order bigint GENERATED ALWAYS AS IDENTITY",
        table.quoted_name()
    ))
    .await?;
    let archived = copy_in(tx, "pg_temp.archived_events", table, entry, data, rows, progress).await?;
    let nth = |order: &str| format!("row_number() OVER (PARTITION BY {columns} ORDER BY {order})");
    let appended = tx
        .execute(
            &format!(
                "INSERT INTO {table} ({columns})
                 SELECT {columns} FROM (SELECT *, {archived_nth} AS nth FROM pg_temp.archived_events) archived
                 WHERE ({columns}, nth) NOT IN (SELECT {columns}, {logged_nth} FROM {table} WHERE tenant_id = $1)
                 ORDER BY archive_order",
                table = table.quoted_name(),
                archived_nth = nth("archive_order"),
                logged_nth = nth("id"),
            ),
            &[&tenant],
        )
        .await?;
    Ok(archived - appended)
}

/// Identity and serial columns: their sequences must be past the imported values, or the
/// tenant's next insert would collide with its own rows.
async fn advance_sequences(tx: &Transaction<'_>, table: &TenantTable, tenant: Uuid) -> anyhow::Result<()> {
    let name = table.quoted_name();
    let sequences = tx
        .query(
            "SELECT a.attname::text, pg_get_serial_sequence($1::text, a.attname)
             FROM pg_attribute a
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
               AND pg_get_serial_sequence($1::text, a.attname) IS NOT NULL",
            &[&name],
        )
        .await?;
    for row in sequences {
        let (column, sequence): (String, String) = (row.get(0), row.get(1));
        // The tenant's highest value (read once) and the sequence's limit. The sequence is every
        // tenant's: an archive's value near its end would leave the others no ids to insert with;
        // half the range is far beyond any real database.
        let bounds = tx
            .query_one(
                &format!(
                    "SELECT (SELECT max({})::bigint FROM {name} WHERE tenant_id = $2), s.max_value
                     FROM pg_sequences s WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass = $1::text::regclass",
                    quote_ident(&column)
                ),
                &[&sequence, &tenant],
            )
            .await
            .with_context(|| format!("reading {sequence}"))?;
        let (highest, limit): (Option<i64>, i64) = (bounds.get(0), bounds.get(1));
        if let Some(highest) = highest.filter(|h| *h > limit / 2) {
            bail!(
                "refused: {}.{}.{column} holds {highest}, past half of the range of {sequence} (max {limit}), \
                 which every tenant's inserts draw from",
                table.schema,
                table.name
            );
        }
        tx.execute(
            "SELECT setval($1::text::regclass, greatest($2, nextval($1::text::regclass)))",
            &[&sequence, &highest],
        )
        .await
        .with_context(|| format!("advancing {sequence}"))?;
    }
    Ok(())
}
