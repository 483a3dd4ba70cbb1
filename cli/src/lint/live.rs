//! What exists, read from a live database: its tables, which of them `tenancy.protect`
//! registered, which columns have an analytics class, and refinery's history. Each catalog
//! table is read only where it exists: a database without the extension, without migrations
//! or with an extension older than analytics classes is linted with what it has.
use super::existing::{Existing, ExistingTable};
use super::names::QualifiedName;
use crate::tenant_tables;
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use tokio_postgres::GenericClient;

const TABLES: &str = include_str!("live_tables.sql");
const PROTECTED: &str = "SELECT tbl::oid FROM tenancy.protected_tables";
const ANALYTICS_COLUMNS: &str = "SELECT tbl::oid, col::text FROM tenancy.analytics_columns";

async fn exists(db: &impl GenericClient, relation: &str) -> anyhow::Result<bool> {
    Ok(db.query_one("SELECT to_regclass($1) IS NOT NULL", &[&relation]).await?.get(0))
}

async fn protected(db: &impl GenericClient) -> anyhow::Result<HashSet<u32>> {
    if !exists(db, "tenancy.protected_tables").await? {
        return Ok(HashSet::new());
    }
    Ok(db.query(PROTECTED, &[]).await?.iter().map(|r| r.get(0)).collect())
}

async fn analytics_columns(db: &impl GenericClient) -> anyhow::Result<HashMap<u32, Vec<String>>> {
    let mut columns: HashMap<u32, Vec<String>> = HashMap::new();
    if exists(db, "tenancy.analytics_columns").await? {
        for row in db.query(ANALYTICS_COLUMNS, &[]).await? {
            columns.entry(row.get(0)).or_default().push(row.get(1));
        }
    }
    Ok(columns)
}

async fn applied_migrations(db: &impl GenericClient) -> anyhow::Result<HashSet<(u32, String)>> {
    if !exists(db, "refinery_schema_history").await? {
        return Ok(HashSet::new());
    }
    let history = tenant_tables::applied_migrations(db).await?;
    Ok(history.into_iter().filter_map(|m| Some((u32::try_from(m.version).ok()?, m.name))).collect())
}

async fn distributed_on_citus(db: &impl GenericClient) -> anyhow::Result<bool> {
    let known: bool = db.query_one("SELECT to_regproc('tenancy._catalog_distributed') IS NOT NULL", &[]).await?.get(0);
    Ok(known && db.query_one("SELECT tenancy._catalog_distributed()", &[]).await?.get(0))
}

/// Reads everything in the caller's transaction, so it is one snapshot when that is repeatable read.
pub async fn read(db: &impl GenericClient) -> anyhow::Result<Existing> {
    let protected = protected(db).await.context("reading tenancy.protected_tables")?;
    let mut analytics = analytics_columns(db).await.context("reading tenancy.analytics_columns")?;
    let rows = db.query(TABLES, &[]).await.context("reading the database's tables")?;
    let tables = rows
        .iter()
        .map(|row| {
            let oid: u32 = row.get(0);
            ExistingTable {
                name: QualifiedName { schema: row.get(1), name: row.get(2) },
                columns: row.get(3),
                primary_key: row.get(4),
                protected: protected.contains(&oid),
                analytics_columns: analytics.remove(&oid).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Existing {
        tables,
        applied_migrations: applied_migrations(db).await?,
        distributed_on_citus: distributed_on_citus(db).await.context("reading whether the database is distributed")?,
    })
}
