//! One connection, configured the way libpq tools are.
use anyhow::Context;
use std::env;
use tokio_postgres::{Client, Config, NoTls};

fn config(url: Option<&str>) -> anyhow::Result<Config> {
    if let Some(url) = url {
        return url.parse().context("DATABASE_URL is not a valid connection string");
    }
    let var = |name: &str, default: &str| env::var(name).unwrap_or_else(|_| default.to_string());
    let mut config = Config::new();
    config
        .host(var("PGHOST", "127.0.0.1"))
        .port(var("PGPORT", "54329").parse().context("PGPORT is not a port number")?)
        .user(var("PGUSER", "postgres"))
        .dbname(var("PGDATABASE", "tenancy"))
        .application_name("tenancy");
    if let Ok(password) = env::var("PGPASSWORD") {
        config.password(password);
    }
    Ok(config)
}

pub async fn connect(url: Option<&str>) -> anyhow::Result<Client> {
    let config = config(url)?;
    let (client, connection) = config.connect(NoTls).await.context("cannot connect to PostgreSQL")?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection error: {e}");
        }
    });
    Ok(client)
}
