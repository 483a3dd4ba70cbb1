//! `tenancy erase`: `tenancy.erase_tenant` with a confirmation and a report. The function
//! deletes every row the tenant owns in every protected table and its catalog rows, and
//! records `tenant.erased`, in one transaction; its history in `tenancy.events` stays
//! (the log is append-only).
use crate::tenant_tables::{self, TenantTable};
use anyhow::{bail, ensure};
use std::io::{BufRead, IsTerminal, Write};
use tokio_postgres::Client;
use uuid::Uuid;

#[derive(clap::Args)]
pub struct EraseArgs {
    /// The tenant, by slug or id.
    #[arg(long)]
    tenant: String,
    /// Do not ask (required when stdin is not a terminal).
    #[arg(long)]
    yes: bool,
}

pub async fn run(client: &mut Client, args: EraseArgs) -> anyhow::Result<()> {
    let (id, slug) = tenant_tables::find_tenant(client, &args.tenant).await?;
    if !args.yes {
        confirm(&slug)?;
    }
    let removed: serde_json::Value = client.query_one("SELECT tenancy.erase_tenant($1)", &[&id]).await?.get(0);
    let mut removed: Vec<(String, u64)> = removed
        .as_object()
        .map(|o| o.iter().map(|(table, n)| (table.clone(), n.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    removed.sort();
    for (table, rows) in removed.iter().filter(|(_, rows)| *rows > 0) {
        println!("{rows:>10}  {table}");
    }
    let total: u64 = removed.iter().map(|(_, rows)| rows).sum();
    let left = rows_left(client, id).await?;
    ensure!(left.is_empty(), "rows of tenant {id} are still there: {}", left.join(", "));
    println!("erased tenant {slug} ({id}): {total} rows in {} protected tables; none left", removed.len());
    Ok(())
}

/// Asks for the slug to be typed; refuses when nobody can be asked.
fn confirm(slug: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("refused: erasing tenant {slug} needs --yes when stdin is not a terminal");
    }
    eprint!("This deletes every row of tenant {slug}. Type its slug to confirm: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    ensure!(answer.trim() == slug, "refused: {:?} is not {slug:?}; nothing was erased", answer.trim());
    Ok(())
}

/// Protected tables still holding a row of the tenant (a concurrent writer could add one).
async fn rows_left(client: &Client, tenant: Uuid) -> anyhow::Result<Vec<String>> {
    let mut left = Vec::new();
    for table in tenant_tables::tables_in_load_order(client).await?.iter().filter(|t| !t.is_catalog()) {
        if holds_rows(client, table, tenant).await? {
            left.push(format!("{}.{}", table.schema, table.name));
        }
    }
    Ok(left)
}

async fn holds_rows(client: &Client, table: &TenantTable, tenant: Uuid) -> anyhow::Result<bool> {
    let sql = format!("SELECT EXISTS (SELECT FROM {} WHERE tenant_id = $1)", table.quoted_name());
    Ok(client.query_one(&sql, &[&tenant]).await?.get(0))
}
