//! The Citus cluster `scripts/up-citus` brings up: a coordinator on `TENANCY_CITUS_PORT`
//! (54331) and workers on the next two ports, database `tenancy`, trusted loopback logins.
use tokio_postgres::{Client, Config, NoTls};

pub const COORDINATOR: u16 = 0;
pub const WORKERS: [u16; 2] = [1, 2];

fn port(node: u16) -> u16 {
    std::env::var("TENANCY_CITUS_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(54331) + node
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
