//! `tenancy distribute`: a database spread over its Citus cluster, once: the catalog as reference
//! tables, the protected tables distributed by tenant_id with their rows, foreign keys kept
//! (`tenancy.distribute`, sql/citus.sql), and the publications on every node (real-time reads
//! the workers' WAL). Later migrations' tables are distributed by protect.
use crate::citus;
use tokio_postgres::Client;

pub async fn run(client: &mut Client) -> anyhow::Result<()> {
    citus::require(client).await?;
    let made = client.query("SELECT table_name::text, made FROM tenancy.distribute()", &[]).await?;
    if made.is_empty() {
        println!("already distributed: nothing to do");
    }
    for row in &made {
        println!("{}: {}", row.get::<_, String>(0), row.get::<_, String>(1));
    }
    for publication in citus::send_publications_to_workers(client).await? {
        println!("publication {publication}: on every node");
    }
    Ok(())
}
