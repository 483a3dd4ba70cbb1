//! Helpers for the end-to-end tests. They run against the dev stack that `scripts/up`
//! brings up (or `TENANCY_TEST_DATABASE_URL`), and make their own tenants and roles with
//! unique names, so tests run in parallel and again without cleaning up.
use tokio_postgres::{Client, Config, NoTls};
use uuid::Uuid;

fn base_config() -> Config {
    match std::env::var("TENANCY_TEST_DATABASE_URL") {
        Ok(url) => url.parse().expect("TENANCY_TEST_DATABASE_URL is a connection string"),
        Err(_) => {
            let port = std::env::var("PGPORT").ok().and_then(|p| p.parse().ok()).unwrap_or(54329);
            let mut c = Config::new();
            c.host("127.0.0.1").port(port).dbname("tenancy");
            c
        }
    }
}

/// A connection as `user` (the dev cluster trusts loopback connections).
pub async fn connect_as(user: &str) -> Client {
    let mut config = base_config();
    config.user(user);
    let (client, connection) = config.connect(NoTls).await.unwrap_or_else(|e| panic!("connect as {user}: {e}"));
    tokio::spawn(connection);
    client
}

/// A connection as `user` to another database of the same cluster.
pub async fn connect_to(dbname: &str, user: &str) -> Client {
    let mut config = base_config();
    config.dbname(dbname).user(user);
    let (client, connection) = config.connect(NoTls).await.unwrap_or_else(|e| panic!("connect to {dbname}: {e}"));
    tokio::spawn(connection);
    client
}

/// The URL of `dbname` on the test cluster, as the superuser: for binaries under test.
pub fn database_url(dbname: &str) -> String {
    let config = base_config();
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://postgres@{host}:{port}/{dbname}")
}

/// The URL of the database the tests use (the dev stack's, or `TENANCY_TEST_DATABASE_URL`).
pub fn test_database_url() -> String {
    database_url(base_config().get_dbname().unwrap_or("tenancy"))
}

/// An empty database of the test's own, dropped when this value is (test passed or not).
pub struct ScratchDatabase {
    pub name: String,
}

impl ScratchDatabase {
    pub async fn create(label: &str) -> ScratchDatabase {
        let name = unique(label).replace('-', "_");
        superuser().await.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
        ScratchDatabase { name }
    }

    pub fn url(&self) -> String {
        database_url(&self.name)
    }

    pub async fn connect(&self) -> Client {
        connect_to(&self.name, "postgres").await
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        run_detached(superuser(), sql, "leaving a scratch database behind");
    }
}

/// Runs `sql` on the connection `connect` makes, from a `Drop`: drop cannot wait on the test's
/// runtime, so a thread with its own does the work. A failure is reported, not raised.
pub fn run_detached<F>(connect: F, sql: String, on_failure: &str)
where
    F: std::future::Future<Output = Client> + Send + 'static,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async { connect.await.batch_execute(&sql).await })
    })
    .join()
    .expect("the drop thread ran")
    .unwrap_or_else(|e| eprintln!("{on_failure}: {e}"));
}

/// Arguments that point PostgreSQL's own tools (`pg_dump`, `psql`) at `dbname` as the superuser.
pub fn tool_args(dbname: &str) -> Vec<String> {
    vec!["-d".into(), database_url(dbname)]
}

/// Whether the test database is on Citus (the isolation suites also run on the cluster).
pub async fn on_citus(db: &Client) -> bool {
    db.query_one("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')", &[]).await.unwrap().get(0)
}

/// The superuser, for setting up fixtures and checking results past RLS.
pub async fn superuser() -> Client {
    connect_as("postgres").await
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..10])
}

pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
}

pub async fn create_tenant(db: &Client, plan: &str, modules: &[&str]) -> Tenant {
    let slug = unique("t");
    let modules: Vec<String> = modules.iter().map(|m| m.to_string()).collect();
    let id = db
        .query_one("SELECT tenancy.create_tenant($1, $1, $2, '{}', $3)", &[&slug, &plan, &modules])
        .await
        .unwrap()
        .get(0);
    Tenant { id, slug }
}

pub async fn create_company(db: &Client, tenant: Uuid, name: &str) -> Uuid {
    db.query_one("SELECT tenancy.create_company($1, $2)", &[&tenant, &name]).await.unwrap().get(0)
}

/// A new login role with the given attributes (e.g. `"IN ROLE tenant_member"`); its name.
pub async fn create_role(db: &Client, attributes: &str) -> String {
    let name = unique("role").replace('-', "_");
    db.batch_execute(&format!("CREATE ROLE {name} LOGIN {attributes}")).await.unwrap();
    name
}

/// A login role of `tenant_member` bound to `tenants`: an analyst.
pub async fn create_analyst(db: &Client, tenants: &[Uuid]) -> String {
    let role = create_role(db, "IN ROLE tenant_member").await;
    for t in tenants {
        db.execute("SELECT tenancy.bind_role($1::text::regrole, $2)", &[&role, t]).await.unwrap();
    }
    role
}

/// Gives `member` (a user id or a role name) the tenant role `role` in `tenant`.
pub async fn grant_tenant_role(db: &Client, tenant: Uuid, member: &str, role: &str) {
    db.execute("SELECT tenancy.grant_tenant_role($1, $2, $3)", &[&tenant, &member, &role]).await.unwrap();
}

/// The SQLSTATE of a failed statement (panics if it succeeded or failed without one).
pub fn sqlstate<T: std::fmt::Debug>(result: Result<T, tokio_postgres::Error>) -> String {
    let err = result.expect_err("the statement should have been refused");
    err.code().unwrap_or_else(|| panic!("no SQLSTATE in {err:?}")).code().to_string()
}

/// The message of a failed statement's database error.
pub fn message<T: std::fmt::Debug>(result: Result<T, tokio_postgres::Error>) -> String {
    let err = result.expect_err("the statement should have been refused");
    err.as_db_error().map(|e| e.message().to_string()).unwrap_or_else(|| err.to_string())
}

pub const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// Runs `sql` in one transaction acting for `tenant`, as an application does: enter the
/// tenant (the caller must be allowed to) as a user with the tenant role `hr_manager`, switch
/// to `tenant_member`, run, commit.
pub async fn as_tenant(db: &mut Client, tenant: Uuid, sql: &str) -> Result<(), tokio_postgres::Error> {
    let tx = db.transaction().await?;
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant]).await?;
    tx.execute("SELECT tenancy.set_user('tests', '{hr_manager}')", &[]).await?;
    tx.batch_execute("SET LOCAL ROLE tenant_member").await?;
    tx.batch_execute(sql).await?;
    tx.commit().await
}

/// Runs `sql` and returns the single value of its single row.
pub async fn value<T>(db: &impl tokio_postgres::GenericClient, sql: &str) -> T
where
    T: for<'a> tokio_postgres::types::FromSql<'a>,
{
    db.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

pub mod api;
pub mod citus;
pub mod client_calls;
pub mod console;
pub mod demo_tenants;
pub mod driver;
pub mod fuzz;
pub mod node;
pub mod postgrest_spec;
pub mod python;
pub mod realtime;
pub mod sign_in;
pub mod smtp_sink;

/// A database of the test's own whose function `slow.nap(seconds)` sleeps, callable by
/// `web_anon`: a request that stays in flight while the test acts.
pub async fn sleepy_database(label: &str) -> ScratchDatabase {
    let scratch = ScratchDatabase::create(label).await;
    scratch
        .connect()
        .await
        .batch_execute(
            "CREATE EXTENSION tenancy;
             CREATE SCHEMA slow;
             GRANT USAGE ON SCHEMA slow TO web_anon;
             CREATE FUNCTION slow.nap(seconds float8) RETURNS text LANGUAGE sql
                 AS $$ SELECT 'rested ' || seconds FROM pg_sleep(seconds) $$;",
        )
        .await
        .unwrap();
    scratch
}
