//! `tenancy`: the DBA's command-line tool.
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use tenancy_cli::{commands, connection};

#[derive(Parser)]
#[command(name = "tenancy", version, about = "Operate a Tenancy database")]
struct Cli {
    /// Connection string; without it the libpq PG* variables, then the dev stack
    /// (postgres@127.0.0.1:54329/tenancy). `lint` reads a database only when this is given.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint migrations and policies for tenant-isolation holes and lock hazards. With a database
    /// (--database-url / DATABASE_URL only) it knows the tables that exist there and the
    /// migrations applied; without, --applied says what already ran. Exit 0 when clean
    /// (warnings allowed), 1 on an error finding, 2 when a file cannot be read or nothing is found.
    Lint(commands::lint::LintArgs),
    #[command(flatten)]
    Database(DatabaseCommand),
}

/// The commands that work on a database.
#[derive(Subcommand)]
enum DatabaseCommand {
    /// Create or update the extension, lint the pending migrations and every policies/ file,
    /// then apply them in one transaction: a lint error, a failing migration or a table left
    /// unprotected applies nothing.
    Migrate(commands::migrate::MigrateArgs),
    /// Show the extension installed and available, pending migrations and unprotected tables.
    /// Exits 1 when any of them needs doing.
    Status,
    /// Check a live database: protected tables intact, who may enter tenants, BYPASSRLS roles,
    /// views that read past RLS, PUBLIC grants, the guard, the extension version. Prints each
    /// finding with the SQL that fixes it; exits 1 when any is an error.
    Doctor {
        /// A role that may enter tenants (the REST server's login role); repeatable.
        #[arg(long = "service-role", default_value = "authenticator")]
        service_roles: Vec<String>,
    },
    /// Write one tenant (catalog rows and every row it owns) to a checksummed archive, from one
    /// consistent snapshot.
    Export(commands::export::ExportArgs),
    /// Load an archive written by `export` into a database with the same extension version and
    /// migrations, keeping or replacing the tenant's id and slug; all or nothing.
    Import(commands::import::ImportArgs),
    /// Erase a tenant and every row it owns now (tenancy.erase_tenant), and report what went.
    Erase(commands::erase::EraseArgs),
    /// On Citus: give a tenant shards of its own in every group of protected tables and, with
    /// --to, move them to that worker; online, with progress.
    Isolate(commands::isolate::IsolateArgs),
    /// On Citus: spread the shards evenly over the workers; online, with progress.
    Rebalance,
    /// On Citus, once after the first `migrate`: the catalog as reference tables on every node and
    /// every protected table distributed by tenant_id, rows and foreign keys included.
    Distribute,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // A DBA reads the error and its causes on one line, not a backtrace.
    run(cli).await.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = match cli.command {
        // Linting needs a database only when one is named.
        Command::Lint(args) => {
            return Ok(ExitCode::from(commands::lint::run(&args, cli.database_url.as_deref()).await as u8))
        }
        Command::Database(command) => command,
    };
    let mut client = connection::connect(cli.database_url.as_deref()).await?;
    let clean = match command {
        DatabaseCommand::Migrate(args) => commands::migrate::run(&mut client, &args).await.map(|()| true),
        DatabaseCommand::Status => commands::status::run(&client).await,
        DatabaseCommand::Doctor { service_roles } => commands::doctor::run(&client, &service_roles).await,
        DatabaseCommand::Export(args) => commands::export::run(&mut client, args).await.map(|()| true),
        DatabaseCommand::Import(args) => commands::import::run(&mut client, args).await.map(|()| true),
        DatabaseCommand::Erase(args) => commands::erase::run(&mut client, args).await.map(|()| true),
        DatabaseCommand::Isolate(args) => {
            commands::isolate::run(&client, cli.database_url.as_deref(), args).await.map(|()| true)
        }
        DatabaseCommand::Distribute => commands::distribute::run(&mut client).await.map(|()| true),
        DatabaseCommand::Rebalance => {
            commands::rebalance::run(&client, cli.database_url.as_deref()).await.map(|()| true)
        }
    }?;
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
