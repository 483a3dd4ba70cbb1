//! `tenancy export`: one tenant's catalog rows and every row it owns, from one consistent
//! snapshot, into a checksummed archive. Each table is streamed by COPY into a spool file while
//! it is hashed, so memory stays flat however large the tenant is; the archive is assembled
//! from the spool files once the manifest (which comes first in it) is known.
use crate::progress::TableProgress;
use crate::tenant_archive::{self, HashingWriter, Manifest, TableEntry, TenantRef};
use crate::tenant_tables::{self, TenantTable};
use anyhow::Context;
use futures_util::TryStreamExt;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use tokio_postgres::{Client, IsolationLevel, Transaction};
use uuid::Uuid;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The tenant, by slug or id.
    #[arg(long)]
    tenant: String,
    /// The archive to write (replaced only once it is complete).
    #[arg(short, long)]
    output: PathBuf,
}

pub async fn run(client: &mut Client, args: ExportArgs) -> anyhow::Result<()> {
    let dir = args.output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Spool next to the output: same file system, and nothing half-written under its name.
    let spool = tempfile::Builder::new().prefix(".tenancy-export-").tempdir_in(dir)?;

    let tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
    let (id, slug) = tenant_tables::find_tenant(&tx, &args.tenant).await?;
    let tables = tenant_tables::tables_in_load_order(&tx).await?;
    let mut progress = TableProgress::new("export", tables.len());
    let mut entries = Vec::with_capacity(tables.len());
    for (position, table) in tables.iter().enumerate() {
        progress.start_table(format!("{}.{}", table.schema, table.name));
        entries.push(spool_table(&tx, table, id, position, spool.path(), &progress).await?);
        progress.finish_table();
    }
    progress.finish();
    let manifest = Manifest {
        format: tenant_archive::FORMAT.into(),
        format_version: tenant_archive::FORMAT_VERSION,
        exported_at: tx.query_one("SELECT now()::text", &[]).await?.get(0),
        extension_version: tenant_tables::extension_version(&tx).await?,
        migrations: tenant_tables::applied_migrations(&tx).await?,
        tenant: TenantRef { id, slug },
        role_bindings: role_bindings(&tx, id).await?,
        tables: entries,
    };
    tx.commit().await?;

    let out = tempfile::Builder::new().prefix(".tenancy-export-").tempfile_in(dir)?;
    tenant_archive::write(BufWriter::new(out.as_file()), &manifest, spool.path())?;
    out.persist(&args.output).with_context(|| format!("writing {}", args.output.display()))?;

    let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
    for t in manifest.tables.iter().filter(|t| t.rows > 0) {
        println!("{:>10}  {}", t.rows, t.qualified());
    }
    println!(
        "exported tenant {} ({id}): {rows} rows in {} tables to {}",
        manifest.tenant.slug,
        manifest.tables.len(),
        args.output.display()
    );
    Ok(())
}

async fn spool_table(
    tx: &Transaction<'_>,
    table: &TenantTable,
    tenant: Uuid,
    position: usize,
    spool: &Path,
    progress: &TableProgress,
) -> anyhow::Result<TableEntry> {
    let file = tenant_archive::data_file_name(position, &table.schema, &table.name);
    let path = spool.join(&file);
    std::fs::create_dir_all(path.parent().expect("data files live in a directory"))?;
    let mut out = HashingWriter::new(BufWriter::new(File::create(&path)?));
    let copy = format!("COPY ({}) TO STDOUT", table.select_rows_of(tenant));
    let stream = tx.copy_out(&copy).await.with_context(|| format!("reading {}.{}", table.schema, table.name))?;
    futures_util::pin_mut!(stream);
    while let Some(chunk) = stream.try_next().await? {
        out.write_chunk(&chunk)?;
        progress.rows(out.rows);
    }
    let (rows, sha256) = out.finish()?;
    Ok(TableEntry {
        schema: table.schema.clone(),
        name: table.name.clone(),
        columns: table.columns.clone(),
        file,
        rows,
        sha256,
    })
}

async fn role_bindings(tx: &Transaction<'_>, tenant: Uuid) -> anyhow::Result<Vec<String>> {
    let rows =
        tx.query("SELECT role::text FROM tenancy.role_bindings WHERE tenant_id = $1 ORDER BY 1", &[&tenant]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
