//! Citus shard moves, as Tenancy makes them: `block_writes`, because Citus's logical-replication
//! mode cannot copy a table with row-level security (PostgreSQL 15 refuses its subscription role:
//! "cannot replicate into relation with row-level security enabled", and Citus retries forever),
//! and every protected table has it. Their progress is read from `get_rebalance_progress()` on a
//! second connection while the move runs on the first, and printed to stderr as the copy grows.
use crate::connection;
use std::future::Future;
use std::time::Duration;

/// Runs `work` (a statement that moves shards) and reports the moves' progress until it ends.
pub async fn watched<T, E>(url: Option<&str>, work: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    anyhow::Error: From<E>,
{
    let watcher = connection::connect(url).await?;
    let report = async {
        let mut last = String::new();
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let Ok(rows) = watcher
                .query(
                    "SELECT format('  %s shard %s: %s of %s copied', table_name, shardid,
                                   pg_size_pretty(target_shard_size), pg_size_pretty(source_shard_size))
                     FROM get_rebalance_progress() ORDER BY shardid",
                    &[],
                )
                .await
            else {
                continue;
            };
            let now: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            let now = now.join("\n");
            if !now.is_empty() && now != last {
                eprintln!("{now}");
                last = now;
            }
        }
    };
    tokio::select! {
        result = work => Ok(result?),
        () = report => unreachable!("the report loops until the work ends"),
    }
}
