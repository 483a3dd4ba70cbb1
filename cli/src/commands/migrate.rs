//! `tenancy migrate`: migrations, then policies, then the proof that nothing is unprotected.
use anyhow::{bail, Context};
use tokio_postgres::Client;

mod embedded {
    refinery::embed_migrations!("../migrations");
}
include!(concat!(env!("OUT_DIR"), "/policies.rs"));

pub async fn run(client: &mut Client) -> anyhow::Result<()> {
    // Migrations and policies are written against the extension as built: bring it up to date first.
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS tenancy; ALTER EXTENSION tenancy UPDATE")
        .await
        .context("creating or updating the tenancy extension")?;

    let report = embedded::migrations::runner().run_async(client).await.context("applying migrations")?;
    for m in report.applied_migrations() {
        println!("applied migration {m}");
    }

    // Policies are idempotent and applied as one unit with the check: a hole means none land.
    let tx = client.transaction().await?;
    for (name, sql) in POLICIES {
        tx.batch_execute(sql).await.with_context(|| format!("applying policies/{name}"))?;
    }
    let holes = tx.query("SELECT table_name::text, problem FROM tenancy.unprotected_tables()", &[]).await?;
    if !holes.is_empty() {
        for row in &holes {
            eprintln!("unprotected: {}: {}", row.get::<_, String>(0), row.get::<_, String>(1));
        }
        bail!("{} problem(s) with tenant tables; no policy was applied", holes.len());
    }
    tx.batch_execute("NOTIFY pgrst, 'reload schema'").await?;
    tx.commit().await?;
    let protected: i64 = client.query_one("SELECT count(*) FROM tenancy.protected_tables", &[]).await?.get(0);
    println!("applied {} policy file(s); {protected} protected table(s), none unprotected", POLICIES.len());
    Ok(())
}
