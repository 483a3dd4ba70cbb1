//! `tenancy rebalance`: spreads the shards evenly over the workers (`rebalance_table_shards`),
//! online (reads go on, writes to a shard being copied wait), reporting each move as it copies.
use crate::citus;
use crate::commands::shard_moves;
use tokio_postgres::Client;

pub async fn run(client: &Client, url: Option<&str>) -> anyhow::Result<()> {
    citus::require(client).await?;
    let before = shards_per_worker(client).await?;
    shard_moves::watched(url, async {
        client.execute("SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes')", &[]).await
    })
    .await?;
    let after = shards_per_worker(client).await?;
    for ((node, was), (_, now)) in before.iter().zip(&after) {
        println!("{node}: {was} -> {now} shards");
    }
    Ok(())
}

async fn shards_per_worker(client: &Client) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = client
        .query(
            "SELECT format('%s:%s', n.nodename, n.nodeport), count(pl.shardid)
             FROM pg_dist_node n LEFT JOIN pg_dist_placement pl ON pl.groupid = n.groupid
             WHERE n.noderole = 'primary' AND n.shouldhaveshards
             GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
