//! `tenancy status`: where a database stands: the extension installed and available, pending
//! migrations, unprotected tables, the real-time replication slots. True when nothing needs
//! doing.
use super::migrate::Scripts;
use crate::{citus, tenant_tables};
use std::collections::HashSet;
use tokio_postgres::Client;

pub async fn run(client: &Client) -> anyhow::Result<bool> {
    let row = client
        .query_one(
            "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'tenancy'),
                    (SELECT default_version FROM pg_available_extensions WHERE name = 'tenancy'),
                    (SELECT string_agg(version, ', ' ORDER BY string_to_array(version, '.')::int[])
                     FROM pg_available_extension_versions WHERE name = 'tenancy'),
                    to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await?;
    let (installed, available, versions, has_history): (Option<String>, Option<String>, Option<String>, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let mut up_to_date = true;

    match (&installed, &available) {
        (_, None) => {
            println!("extension: not available on this server (install the tenancy library)");
            up_to_date = false;
        }
        (None, Some(a)) => {
            println!("extension: not installed; {a} available (tenancy migrate installs it)");
            up_to_date = false;
        }
        (Some(i), Some(a)) if i != a => {
            println!("extension: {i} installed, {a} available: ALTER EXTENSION tenancy UPDATE (or tenancy migrate)");
            up_to_date = false;
        }
        (Some(i), Some(_)) => println!("extension: {i} (up to date)"),
    }
    println!("  versions on this server: {}", versions.unwrap_or_default());

    let applied: HashSet<i64> = if has_history {
        tenant_tables::applied_migrations(client).await?.iter().map(|m| i64::from(m.version)).collect()
    } else {
        HashSet::new()
    };
    let scripts = Scripts::load(None, None)?;
    let pending: Vec<String> = scripts
        .migrations
        .iter()
        .filter(|m| !applied.contains(&i64::from(m.version())))
        .map(|m| m.to_string())
        .collect();
    println!("migrations: {} applied, {} pending", applied.len(), pending.len());
    for m in &pending {
        println!("  pending: {m}");
    }
    up_to_date &= pending.is_empty();

    if installed.is_some() {
        let holes = client.query("SELECT table_name::text, problem FROM tenancy.unprotected_tables()", &[]).await?;
        println!("unprotected tables: {}", holes.len());
        for row in &holes {
            println!("  {}: {}", row.get::<_, String>(0), row.get::<_, String>(1));
        }
        up_to_date &= holes.is_empty();
    }
    realtime_slots(client).await?;
    if installed.is_some() && citus::installed(client).await? {
        tenant_placement(client).await?;
    }
    Ok(up_to_date)
}

/// On Citus: how many tenants each worker holds, and which of them have shards of their own,
/// in the co-location group of the first protected table (`tenancy isolate` shows every group).
async fn tenant_placement(client: &Client) -> anyhow::Result<()> {
    let rows = client
        .query(
            "WITH anchor AS (
                 SELECT p.logicalrelid FROM pg_dist_partition p JOIN tenancy.protected_tables t ON t.tbl = p.logicalrelid
                 WHERE p.partmethod = 'h' ORDER BY p.colocationid, p.logicalrelid::text LIMIT 1
             )
             SELECT format('%s:%s', n.nodename, n.nodeport), count(*),
                    string_agg(t.slug, ', ' ORDER BY t.slug) FILTER (WHERE s.shardminvalue = s.shardmaxvalue)
             FROM tenancy.tenants t CROSS JOIN anchor a
             JOIN pg_dist_shard s ON s.shardid = get_shard_id_for_distribution_column(a.logicalrelid, t.id)
             JOIN pg_dist_placement pl ON pl.shardid = s.shardid
             JOIN pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
             GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await?;
    println!("tenants on the Citus workers:");
    if rows.is_empty() {
        println!("  none: no protected table is distributed");
    }
    for row in &rows {
        let (node, tenants, isolated): (String, i64, Option<String>) = (row.get(0), row.get(1), row.get(2));
        println!("  {node}: {tenants} tenants; isolated: {}", isolated.as_deref().unwrap_or("none"));
    }
    busiest_tenants(client).await
}

/// The tenants Citus saw most in this period and the last (`citus_stat_tenants`, single-shard
/// queries only; up-citus turns the tracking on): the candidates for `tenancy isolate`.
async fn busiest_tenants(client: &Client) -> anyhow::Result<()> {
    let rows = client
        .query(
            "SELECT coalesce(t.slug, s.tenant_attribute), sum(s.query_count_in_this_period + s.query_count_in_last_period)::bigint,
                    round(sum(s.cpu_usage_in_this_period + s.cpu_usage_in_last_period)::numeric, 3)::text
             FROM citus_stat_tenants s LEFT JOIN tenancy.tenants t ON t.id::text = s.tenant_attribute
             GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
            &[],
        )
        .await?;
    println!("busiest tenants (citus_stat_tenants: queries, CPU seconds):");
    if rows.is_empty() {
        println!("  none counted (citus.stat_tenants_track = 'all' counts them)");
    }
    for row in &rows {
        let (tenant, queries, cpu): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        println!("  {tenant}: {queries} queries, {cpu} s");
    }
    Ok(())
}

/// The logical slots the real-time servers read (`pgoutput`, one per server instance, and on
/// Citus one on every worker too), and how far behind each is: a slot nobody reads holds WAL
/// (`tenancy doctor` warns about it).
async fn realtime_slots(client: &Client) -> anyhow::Result<()> {
    let mut slots = client
        .query(
            "SELECT slot_name::text, active,
                    pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))
             FROM pg_replication_slots
             WHERE plugin = 'pgoutput' AND database = current_database() ORDER BY slot_name",
            &[],
        )
        .await?;
    if citus::installed(client).await? {
        let on_workers = format!(
            "SELECT format('%s on %s', slot, node), active, behind FROM ({}) s WHERE plugin = 'pgoutput' ORDER BY node, slot",
            citus::WORKER_SLOTS
        );
        slots.extend(client.query(&on_workers, &[]).await?);
    }
    println!("real-time slots: {}", slots.len());
    for row in &slots {
        let (name, active, lag): (String, bool, Option<String>) = (row.get(0), row.get(1), row.get(2));
        let reader = if active { "read" } else { "not read" };
        println!("  {name}: {reader}, {} behind", lag.unwrap_or_else(|| "?".into()));
    }
    Ok(())
}
