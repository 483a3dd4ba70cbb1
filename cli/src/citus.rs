//! Where tenants live on Citus. The protected tables are distributed by `tenant_id` in one or
//! more co-location groups (all of them in one, unless a table was distributed by hand); in each
//! group a tenant's rows sit in one shard, on one node, alone there once isolated.
use crate::lint::tree::{self, RoleChange};
use anyhow::{bail, Context};
use std::fmt;
use tokio_postgres::GenericClient;
use uuid::Uuid;

/// The replication slots of this database on each worker (`citus_slots.sql`): a query to select from.
pub const WORKER_SLOTS: &str = include_str!("citus_slots.sql");

pub async fn installed(db: &impl GenericClient) -> anyhow::Result<bool> {
    Ok(db.query_one("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')", &[]).await?.get(0))
}

pub async fn require(db: &impl GenericClient) -> anyhow::Result<()> {
    if !installed(db).await? {
        bail!("this database is not on Citus (no citus extension): there is one node and nothing to place");
    }
    Ok(())
}

/// Whether `tenancy.distribute` has run here.
pub async fn distributed(db: &impl GenericClient) -> anyhow::Result<bool> {
    Ok(db.query_one("SELECT tenancy._catalog_distributed()", &[]).await?.get(0))
}

/// The roles made on the coordinator alone (a first `migrate` runs without propagation) made the
/// same on every worker: Citus connects to the workers as the roles requests switch to, and
/// creates a role there only as it propagates a role's own creation.
pub async fn send_roles_to_workers(db: &impl GenericClient) -> anyhow::Result<()> {
    let commands: String = db.query_one(include_str!("citus_roles.sql"), &[]).await?.get(0);
    let failures = db
        .query(
            "SELECT nodename || ':' || nodeport || ': ' || result FROM run_command_on_workers($1) WHERE NOT success",
            &[&commands],
        )
        .await?;
    if let Some(failure) = failures.first() {
        bail!("the roles could not be made on worker {}", failure.get::<_, String>(0));
    }
    Ok(())
}

/// The publications made on the coordinator alone that publish distributed tables, made again
/// through Citus so every worker has them (`citus_publications.sql`): real-time reads each
/// worker's WAL through its own copy. Their names; none once done.
pub async fn send_publications_to_workers(db: &mut tokio_postgres::Client) -> anyhow::Result<Vec<String>> {
    let missing = db.query(include_str!("citus_publications.sql"), &[]).await?;
    let mut sent = Vec::new();
    for row in &missing {
        let (name, commands): (String, String) = (row.get(0), row.get(1));
        let tx = db.transaction().await?;
        tx.batch_execute(&commands).await.with_context(|| format!("making publication {name} on the workers"))?;
        tx.commit().await?;
        sent.push(name);
    }
    Ok(sent)
}

/// The roles scripts switch to (`SET [LOCAL] ROLE r`, as V13 does to its `NOLOGIN` owner), made
/// able to log in on the workers before the scripts run on a distributed database: Citus carries
/// their DDL to the workers over connections as the current role. They stay `NOLOGIN` on the
/// coordinator; the workers are told alone (Citus would carry the change back to every node).
pub async fn let_switched_roles_reach_workers<'a>(
    db: &impl GenericClient,
    scripts: impl Iterator<Item = &'a str>,
) -> anyhow::Result<()> {
    let mut roles: Vec<String> = scripts.flat_map(switched_roles).collect();
    roles.sort();
    roles.dedup();
    for role in roles {
        let failures = db
            .query(
                "SELECT nodename || ':' || nodeport || ': ' || result
                 FROM run_command_on_workers(format(
                     'SET citus.enable_ddl_propagation = off; ALTER ROLE %I LOGIN', $1::text)) WHERE NOT success",
                &[&role],
            )
            .await?;
        if let Some(failure) = failures.first() {
            bail!(
                "role {role}, which a migration switches to, cannot log in on worker {}",
                failure.get::<_, String>(0)
            );
        }
    }
    Ok(())
}

/// The roles `SET [LOCAL] ROLE` names in `sql` (none when it does not parse: the run reports that).
fn switched_roles(sql: &str) -> Vec<String> {
    let Ok(parsed) = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) else { return Vec::new() };
    parsed
        .protobuf
        .stmts
        .iter()
        .filter_map(|s| match s.stmt.as_ref()?.node.as_ref().and_then(tree::role_change)? {
            RoleChange::To(role) => Some(role.to_string()),
            RoleChange::Back => None,
        })
        .collect()
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Node {
    pub host: String,
    pub port: i32,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl std::str::FromStr for Node {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Node> {
        match s.rsplit_once(':').map(|(h, p)| (h, p.parse::<i32>())) {
            Some((host, Ok(port))) if !host.is_empty() => Ok(Node { host: host.to_string(), port }),
            _ => bail!("{s:?} is not HOST:PORT"),
        }
    }
}

/// The workers that may hold shards.
pub async fn workers(db: &impl GenericClient) -> anyhow::Result<Vec<Node>> {
    let rows = db
        .query(
            "SELECT nodename, nodeport FROM pg_dist_node
             WHERE isactive AND noderole = 'primary' AND shouldhaveshards ORDER BY nodename, nodeport",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| Node { host: r.get(0), port: r.get(1) }).collect())
}

/// A tenant's shard in one co-location group (named by one of its tables).
pub struct Placement {
    pub table: String,
    pub shard: i64,
    pub node: Node,
    pub isolated: bool,
}

/// The tenant's shard in every co-location group of protected tables.
pub async fn placements(db: &impl GenericClient, tenant: Uuid) -> anyhow::Result<Vec<Placement>> {
    let rows = db
        .query(
            "WITH groups AS (
                 SELECT DISTINCT ON (p.colocationid) p.logicalrelid
                 FROM pg_dist_partition p JOIN tenancy.protected_tables t ON t.tbl = p.logicalrelid
                 WHERE p.partmethod = 'h'
                 ORDER BY p.colocationid, p.logicalrelid::text
             )
             SELECT g.logicalrelid::text, s.shardid, n.nodename, n.nodeport, s.shardminvalue = s.shardmaxvalue
             FROM groups g
             JOIN pg_dist_shard s ON s.shardid = get_shard_id_for_distribution_column(g.logicalrelid, $1::uuid)
             JOIN pg_dist_placement pl ON pl.shardid = s.shardid
             JOIN pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
             ORDER BY 1",
            &[&tenant],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Placement {
            table: r.get(0),
            shard: r.get(1),
            node: Node { host: r.get(2), port: r.get(3) },
            isolated: r.get(4),
        })
        .collect())
}
