//! `tenancy import`: an archive written by `tenancy export`, into a database with the same
//! extension version and migrations, in one transaction, parents first. Refusals (versions,
//! an existing tenant) come before anything is written; the data is checked against the
//! manifest's checksums as it streams in, and a mismatch rolls the whole import back.
use crate::progress::TableProgress;
use crate::tenant_archive::{self, Manifest, Migration, TableEntry, VerifyingReader};
use crate::tenant_remap::{IdColumn, Remap, RowRewriter};
use crate::tenant_tables::{self, quote_ident, TenantTable};
use anyhow::{bail, ensure, Context};
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
    let mut remap = if id != old.id || slug != old.slug { Some(Remap::new(old.id, id, &slug)) } else { None };
    let mut progress = TableProgress::new("import", manifest.tables.len());
    tenant_archive::for_each_table(
        &args.file,
        &manifest,
        async |entry: &TableEntry, data: &mut VerifyingReader<'_>| {
            let target = &targets[manifest.tables.iter().position(|t| t.file == entry.file).expect("a manifest table")];
            progress.start_table(entry.qualified());
            let rewrite = match remap.as_mut() {
                Some(remap) => Some(RowRewriter::new(remap, id_columns(&tx, target).await?)),
                None => None,
            };
            copy_in(&tx, target, data, rewrite, &progress).await?;
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
/// are written, and only with columns they have.
async fn target_tables(tx: &Transaction<'_>, manifest: &Manifest) -> anyhow::Result<Vec<TenantTable>> {
    let here = tenant_tables::tables_in_load_order(tx).await?;
    manifest
        .tables
        .iter()
        .map(|entry| {
            let table = here.iter().find(|t| t.is(&entry.schema, &entry.name));
            match table {
                Some(t) if t.columns == entry.columns => Ok(t.clone()),
                Some(t) => bail!(
                    "refused: {} has columns {:?} here, {:?} in the archive",
                    entry.qualified(),
                    t.columns,
                    entry.columns
                ),
                None => bail!("refused: {} is not a tenant table in this database", entry.qualified()),
            }
        })
        .collect()
}

/// The columns of `table` that hold the tenant's id, a company id or the slug.
async fn id_columns(tx: &Transaction<'_>, table: &TenantTable) -> anyhow::Result<Vec<(usize, IdColumn)>> {
    let company_references = tx
        .query(
            "SELECT a.attname::text
             FROM pg_constraint c
             CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, refcol)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
             JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = k.refcol
             WHERE c.contype = 'f' AND c.conrelid = $1::text::regclass
               AND c.confrelid = 'tenancy.companies'::regclass AND r.attname = 'id'",
            &[&table.quoted_name()],
        )
        .await?;
    let company_references: Vec<String> = company_references.iter().map(|r| r.get(0)).collect();
    let kind = |column: &str| match (table.schema.as_str(), table.name.as_str(), column) {
        ("tenancy", "tenants", "id") | (_, _, "tenant_id") => Some(IdColumn::Tenant),
        ("tenancy", "tenants", "slug") => Some(IdColumn::Slug),
        ("tenancy", "companies", "id") => Some(IdColumn::Company),
        _ if company_references.iter().any(|c| c == column) => Some(IdColumn::Company),
        _ => None,
    };
    Ok(table.columns.iter().enumerate().filter_map(|(i, c)| kind(c).map(|k| (i, k))).collect())
}

/// Streams one table's data into `COPY ... FROM STDIN`, rewritten on the way when remapping.
async fn copy_in(
    tx: &Transaction<'_>,
    table: &TenantTable,
    data: &mut VerifyingReader<'_>,
    mut rewrite: Option<RowRewriter<'_>>,
    progress: &TableProgress,
) -> anyhow::Result<()> {
    let copy = format!("COPY {} ({}) FROM STDIN", table.quoted_name(), table.quoted_columns());
    let sink = tx.copy_in::<_, Bytes>(&copy).await?;
    futures_util::pin_mut!(sink);
    let mut chunk = vec![0; CHUNK_BYTES];
    let mut rows = 0;
    loop {
        let n = data.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        rows += tenant_archive::count_rows(&chunk[..n]);
        let bytes = match rewrite.as_mut() {
            Some(rewrite) => {
                let mut out = Vec::with_capacity(n + 64);
                rewrite.push(&chunk[..n], &mut out)?;
                Bytes::from(out)
            }
            None => Bytes::copy_from_slice(&chunk[..n]),
        };
        sink.send(bytes).await?;
        progress.rows(rows);
    }
    if let Some(rewrite) = rewrite {
        rewrite.finish()?;
    }
    sink.as_mut().finish().await?;
    Ok(())
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
        let max = format!("SELECT max({}) FROM {name} WHERE tenant_id = $2", quote_ident(&column));
        tx.execute(
            &format!("SELECT setval($1::text::regclass, greatest(({max}), nextval($1::text::regclass)))"),
            &[&sequence, &tenant],
        )
        .await
        .with_context(|| format!("advancing {sequence}"))?;
    }
    Ok(())
}
