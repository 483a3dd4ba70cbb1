//! `tenancy isolate`: gives a heavy tenant shards of its own (`isolate_tenant_to_new_shard`, in
//! every co-location group of protected tables, cascading to the group's tables) and, with
//! `--to`, moves them to a chosen worker, online: the tenant reads throughout, and its writes
//! wait (they do not fail) while its shards are copied.
use crate::citus::{self, Node, Placement};
use crate::commands::shard_moves;
use crate::tenant_tables;
use anyhow::bail;
use tokio_postgres::Client;
use uuid::Uuid;

#[derive(clap::Args)]
pub struct IsolateArgs {
    /// The tenant, by slug or id.
    #[arg(long)]
    tenant: String,
    /// Move the tenant's shards to this worker once isolated.
    #[arg(long, value_name = "HOST:PORT")]
    to: Option<Node>,
}

pub async fn run(client: &Client, url: Option<&str>, args: IsolateArgs) -> anyhow::Result<()> {
    citus::require(client).await?;
    let (tenant, slug) = tenant_tables::find_tenant(client, &args.tenant).await?;
    if let Some(target) = &args.to {
        let workers = citus::workers(client).await?;
        if !workers.contains(target) {
            let known: Vec<String> = workers.iter().map(Node::to_string).collect();
            bail!("{target} is not a worker that holds shards; the workers are: {}", known.join(", "));
        }
    }
    for p in citus::placements(client, tenant).await?.iter().filter(|p| !p.isolated) {
        println!("isolating {slug} in the group of {} (shard {} on {})", p.table, p.shard, p.node);
        client
            .execute(
                "SELECT isolate_tenant_to_new_shard($1::text::regclass, $2::uuid, 'CASCADE', 'block_writes')",
                &[&p.table, &tenant],
            )
            .await?;
    }
    if let Some(target) = &args.to {
        move_to(client, url, tenant, target).await?;
    }
    for p in citus::placements(client, tenant).await? {
        println!("{slug}: {} shard {} on {}{}", p.table, p.shard, p.node, if p.isolated { " (isolated)" } else { "" });
    }
    Ok(())
}

async fn move_to(client: &Client, url: Option<&str>, tenant: Uuid, target: &Node) -> anyhow::Result<()> {
    let away: Vec<Placement> =
        citus::placements(client, tenant).await?.into_iter().filter(|p| &p.node != target).collect();
    for p in away {
        println!("moving shard {} ({}) from {} to {target}", p.shard, p.table, p.node);
        shard_moves::watched(url, async {
            client
                .execute(
                    "SELECT citus_move_shard_placement($1, $2, $3, $4, $5, 'block_writes')",
                    &[&p.shard, &p.node.host, &p.node.port, &target.host, &target.port],
                )
                .await
        })
        .await?;
    }
    Ok(())
}
