//! The Citus cluster `scripts/up-citus` brings up: a coordinator on `TENANCY_CITUS_PORT`
//! (54331) and workers on the next two ports, database `tenancy`, trusted loopback logins.
use crate::api::{self, Api};
use crate::{run_detached, unique};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio_postgres::{Client, Config, NoTls};
use uuid::Uuid;

pub const COORDINATOR: u16 = 0;
pub const WORKERS: [u16; 2] = [1, 2];

/// The port of a node of the cluster.
pub fn port(node: u16) -> u16 {
    std::env::var("TENANCY_CITUS_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(54331) + node
}

/// The URL of a node of the cluster's database, as `user`: for binaries and servers under test.
pub fn url(node: u16, user: &str) -> String {
    format!("postgres://{user}@127.0.0.1:{}/tenancy", port(node))
}

/// A connection as `user` to a node of the cluster (`COORDINATOR` or one of `WORKERS`).
pub async fn connect(node: u16, user: &str) -> Client {
    let mut config = Config::new();
    config.host("127.0.0.1").port(port(node)).dbname("tenancy").user(user);
    let (client, connection) = config
        .connect(NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to Citus node {node} as {user} (is scripts/up-citus up?): {e}"));
    tokio::spawn(connection);
    client
}

/// A protected (so distributed) table with rows of two tenants `a` (2 rows) and `b` (3 rows), a
/// service role that may enter tenants and a member role it switches to, both able to log in on
/// every node as Citus needs.
pub struct TenantTable {
    pub table: String,
    pub service: String,
    pub member: String,
    pub a: Uuid,
    pub b: Uuid,
}

impl TenantTable {
    /// Made for one test: unique names, so tests run in parallel and again.
    pub async fn create() -> TenantTable {
        let db = connect(COORDINATOR, "postgres").await;
        let slug = unique("c");
        let name = slug.replace('-', "_");
        let (table, service, member) =
            (format!("public.notes_{name}"), format!("svc_{name}"), format!("member_{name}"));
        let tenant = |slug: String| {
            let db = &db;
            async move {
                db.query_one("SELECT tenancy.create_tenant($1, $1, 'free', '{}', '{}')", &[&slug]).await.unwrap().get(0)
            }
        };
        let (a, b): (Uuid, Uuid) = (tenant(format!("a-{slug}")).await, tenant(format!("b-{slug}")).await);
        // One statement at a time: Citus creates roles over one connection per node, which a
        // transaction that already wrote to shards in parallel cannot give it.
        for statement in [
            format!("CREATE ROLE {member} LOGIN"),
            format!("CREATE ROLE {service} LOGIN IN ROLE tenancy_service"),
            format!("GRANT {member} TO {service}"),
            format!(
                "CREATE TABLE {table} (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, body text,
                                       PRIMARY KEY (tenant_id, id))"
            ),
            format!("SELECT tenancy.protect('{table}')"),
            format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {member}"),
            format!("INSERT INTO {table} (tenant_id, body) VALUES ('{a}', 'a1'), ('{a}', 'a2'), ('{b}', 'b1'), ('{b}', 'b2'), ('{b}', 'b3')"),
        ] {
            db.batch_execute(&statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        TenantTable { table, service, member, a, b }
    }

    /// The bodies `sql` returns in a transaction that entered `tenant` and switched to the member.
    pub async fn as_tenant(&self, tenant: Uuid, sql: &str) -> Result<Vec<String>, tokio_postgres::Error> {
        let mut db = connect(COORDINATOR, &self.service).await;
        let tx = db.transaction().await?;
        tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant]).await?;
        tx.batch_execute(&format!("SET LOCAL ROLE {}", self.member)).await?;
        let rows = tx.query(sql, &[]).await?;
        tx.commit().await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// A sealed context the coordinator made for `tenant`, as the service role could read it.
    pub async fn sealed_for(&self, tenant: Uuid) -> String {
        let mut db = connect(COORDINATOR, &self.service).await;
        let tx = db.transaction().await.unwrap();
        tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant]).await.unwrap();
        let sealed = tx.query_one("SELECT current_setting('tenancy.context')", &[]).await.unwrap().get(0);
        tx.rollback().await.unwrap();
        sealed
    }

    pub async fn slug(&self, tenant: Uuid) -> String {
        let db = connect(COORDINATOR, "postgres").await;
        db.query_one("SELECT slug FROM tenancy.tenants WHERE id = $1", &[&tenant]).await.unwrap().get(0)
    }

    /// A REST server for the table on the coordinator (as its service role), a token of tenant
    /// `a`'s member, and the table's URL.
    pub async fn rest(&self) -> (Api, String, String) {
        let api = api::start_with(&[
            ("PGRST_DB_URI", &url(COORDINATOR, &self.service)),
            ("PGRST_DB_SCHEMAS", "public"),
            ("PGRST_DB_ANON_ROLE", &self.member),
        ])
        .await;
        let token = api::token_with(serde_json::json!({"role": self.member, "tenant_id": self.a, "sub": "tests"}));
        let resource = format!("{}/{}", api.url, self.table.trim_start_matches("public."));
        (api, token, resource)
    }

    pub async fn count_as_superuser(&self, tenant: Uuid) -> i64 {
        let db = connect(COORDINATOR, "postgres").await;
        let sql = format!("SELECT count(*) FROM {} WHERE tenant_id = $1", self.table);
        db.query_one(&sql, &[&tenant]).await.unwrap().get(0)
    }
}

/// Dropped with the test: the cluster's database also holds the demo, whose isolation suites
/// attack every protected table and expect the demo's rows in each.
impl Drop for TenantTable {
    fn drop(&mut self) {
        // A transaction of the test still open on the table would block this: fail, not hang.
        // (Tests end their transactions before they end.)
        let sql = format!("SET lock_timeout = '10s'; DROP TABLE IF EXISTS {}", self.table);
        run_detached(connect(COORDINATOR, "postgres"), sql, "leaving a table behind");
    }
}

/// Writes for one tenant through the coordinator until stopped: the rows a test may then look for.
pub struct Writer {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(Vec<String>, Vec<String>)>,
}

impl Writer {
    /// Inserts one row per transaction, in SQL as the member of `tenant`.
    pub fn start(table: Arc<TenantTable>, tenant: Uuid) -> Writer {
        Writer::start_with(move |n| {
            let table = table.clone();
            async move {
                // Naming the tenant, as the REST server does: Citus counts the query for it.
                let sql =
                    format!("INSERT INTO {} (tenant_id, body) VALUES ('{tenant}', 'w{n}') RETURNING body", table.table);
                table.as_tenant(tenant, &sql).await.map_err(|e| e.to_string())
            }
        })
    }

    /// Calls `write(n)` for n = 1, 2, … until stopped: the bodies it acknowledged, or why not.
    pub fn start_with<W, F>(write: W) -> Writer
    where
        W: Fn(u32) -> F + Send + 'static,
        F: Future<Output = Result<Vec<String>, String>> + Send,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let (mut acknowledged, mut failed) = (Vec::new(), Vec::new());
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    match write(n).await {
                        Ok(bodies) => acknowledged.extend(bodies),
                        Err(e) => failed.push(e),
                    }
                }
                (acknowledged, failed)
            }
        });
        Writer { stop, task }
    }

    /// Stops writing: the bodies of the acknowledged inserts, and the errors of the others.
    pub async fn finish(self) -> (Vec<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the writer does not panic")
    }
}

pub const NODES: [u16; 3] = [COORDINATOR, WORKERS[0], WORKERS[1]];

impl TenantTable {
    /// The node (`host:port`) holding `tenant`'s shard of the table.
    pub async fn node_of(&self, tenant: Uuid) -> String {
        let db = connect(COORDINATOR, "postgres").await;
        let sql = "SELECT format('%s:%s', nodename, nodeport) FROM pg_dist_shard_placement
                   WHERE shardid = get_shard_id_for_distribution_column($1::text::regclass, $2::uuid)";
        db.query_one(sql, &[&self.table, &tenant]).await.unwrap().get(0)
    }

    /// `b` when its shard is on another worker than `a`'s, else a new tenant whose shard is.
    pub async fn tenant_apart_from_a(&self) -> Uuid {
        let a_node = self.node_of(self.a).await;
        if self.node_of(self.b).await != a_node {
            return self.b;
        }
        let db = connect(COORDINATOR, "postgres").await;
        for _ in 0..64 {
            let slug = unique("apart");
            let tenant: Uuid = db
                .query_one("SELECT tenancy.create_tenant($1, $1, 'free', '{}', '{}')", &[&slug])
                .await
                .unwrap()
                .get(0);
            if self.node_of(tenant).await != a_node {
                return tenant;
            }
        }
        panic!("no tenant hashed to another worker than {a_node} in 64 tries");
    }

    /// The REST server with real-time on, as the table's service role: its slot (a new one) on
    /// every node, and every node's stream read before it returns.
    pub async fn realtime_server(&self) -> crate::api::Api {
        let slot = crate::realtime::slot_name("tenancy_test");
        for node in NODES {
            crate::realtime::drop_stale_slots_on(&connect(node, "postgres").await).await;
        }
        let publish = format!("SELECT realtime.publish('{}')", self.table);
        connect(COORDINATOR, "postgres").await.batch_execute(&publish).await.unwrap();
        let api = crate::api::start_with(&[
            ("PGRST_DB_URI", &url(COORDINATOR, &self.service)),
            ("PGRST_DB_SCHEMAS", "public"),
            ("PGRST_DB_ANON_ROLE", &self.member),
            ("TENANCY_REALTIME_REPLICATION_URI", &url(COORDINATOR, "tenancy_realtime")),
            ("TENANCY_REALTIME_SLOT", &slot),
        ])
        .await;
        for node in NODES {
            crate::realtime::wait_for_stream_on(&connect(node, "postgres").await, &slot).await;
        }
        api
    }

    /// A token of the table's member role acting for `tenant`.
    pub fn token(&self, tenant: Uuid) -> String {
        crate::api::token_with(serde_json::json!({"role": self.member, "tenant_id": tenant, "sub": "tests"}))
    }
}
