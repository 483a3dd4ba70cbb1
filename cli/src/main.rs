//! `tenancy`: the DBA's command-line tool.
mod commands;
mod connection;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "tenancy", version, about = "Operate a Tenancy database")]
struct Cli {
    /// Connection string; without it the libpq PG* variables, then the dev stack
    /// (postgres@127.0.0.1:54329/tenancy).
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the extension if missing, apply pending migrations, then every policies/ file,
    /// and fail (applying no policy) if any table is left unprotected.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut client = connection::connect(cli.database_url.as_deref()).await?;
    match cli.command {
        Command::Migrate => commands::migrate::run(&mut client).await,
    }
}
