//! `tenancy migrate`: lint, migrations, policies, then the proof that nothing is unprotected, in
//! one transaction: a lint error, a failing migration or a hole left open applies nothing.
mod in_transaction;
mod scripts;

use crate::{citus, lint};
use anyhow::{bail, Context};
use in_transaction::{run_script, InTransaction};
use refinery::Runner;
pub use scripts::Scripts;
use std::path::PathBuf;
use tokio_postgres::Client;

/// refinery's default, the name `tenant_tables::applied_migrations` (and so the lint step) reads.
const HISTORY_TABLE: &str = "refinery_schema_history";

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// Apply the migrations (V<n>__<name>.sql) of this directory instead of those built in.
    #[arg(long, value_name = "DIR")]
    migrations: Option<PathBuf>,
    /// Apply the policy files (*.sql, in name order) of this directory instead of those built in.
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
}

pub async fn run(client: &mut Client, args: &MigrateArgs) -> anyhow::Result<()> {
    let scripts = Scripts::load(args.migrations.as_deref(), args.policies.as_deref())?;

    // Migrations and policies are written against the extension as built: bring it up to date first.
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS tenancy; ALTER EXTENSION tenancy UPDATE")
        .await
        .context("creating or updating the tenancy extension")?;
    let on_citus = citus::installed(client).await?;
    let distributed = on_citus && citus::distributed(client).await?;
    if distributed {
        let migrations = scripts.migrations.iter().filter_map(|m| m.sql());
        let policies = scripts.policies.iter().map(|(_, sql)| sql.as_str());
        citus::let_switched_roles_reach_workers(client, migrations.chain(policies)).await?;
    }

    let tx = client.transaction().await?;
    if on_citus && !distributed {
        // Until `tenancy distribute`, everything is built on the coordinator, and then taken to
        // the workers by a superuser. Propagating at once, Citus would connect to the workers as
        // the migration's current role (V13 switches to its NOLOGIN owner).
        tx.batch_execute("SET LOCAL citus.enable_ddl_propagation = off").await?;
    }
    // One run at a time: a second waits here, then finds the first one's migrations applied.
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('tenancy migrate'))", &[]).await?;
    let mut runner = Runner::new(&scripts.migrations);
    runner.set_migration_table_name(HISTORY_TABLE);
    let mut conn = InTransaction { tx: &tx, one_statement_at_a_time: on_citus };

    // The lint sees what `tenancy lint` sees against this database: its tables, what is protected,
    // refinery's history (applied migrations are read for context, the rest reported on).
    let existing = lint::live::read(&tx).await?;
    let lint_report = lint::lint(&scripts.lint_sources(&existing), &existing);
    lint::report::text::write_findings(&lint_report.findings, &mut std::io::stderr())?;
    if lint_report.errors() > 0 {
        bail!(
            "tenancy lint found {} error(s) in the pending migrations and policies; nothing was applied",
            lint_report.errors()
        );
    }

    let report = runner.run_async(&mut conn).await.context("applying migrations; nothing was applied")?;
    for m in report.applied_migrations() {
        println!("applied migration {m}");
    }

    for (name, sql) in &scripts.policies {
        run_script(&tx, sql, on_citus)
            .await
            .with_context(|| format!("applying policies/{name}; nothing was applied"))?;
    }
    let holes = tx.query("SELECT table_name::text, problem FROM tenancy.unprotected_tables()", &[]).await?;
    if !holes.is_empty() {
        for row in &holes {
            eprintln!("unprotected: {}: {}", row.get::<_, String>(0), row.get::<_, String>(1));
        }
        bail!("{} problem(s) with tenant tables; nothing was applied", holes.len());
    }
    tx.batch_execute("NOTIFY pgrst, 'reload schema'").await?;
    tx.commit().await?;
    if on_citus && !distributed {
        citus::send_roles_to_workers(client).await?;
    }
    if distributed {
        // a cluster distributed before `tenancy distribute` sent its publications there
        for publication in citus::send_publications_to_workers(client).await? {
            println!("publication {publication}: now on every node");
        }
    }
    let protected: i64 = client.query_one("SELECT count(*) FROM tenancy.protected_tables", &[]).await?.get(0);
    println!(
        "applied {} migration(s) and {} policy file(s); {protected} protected table(s), none unprotected",
        report.applied_migrations().len(),
        scripts.policies.len()
    );
    Ok(())
}
