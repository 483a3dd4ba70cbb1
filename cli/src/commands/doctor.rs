//! `tenancy doctor`: the linter's rules checked on a live database, each finding with its fix.
use tokio_postgres::Client;

const FINDINGS: &str = include_str!("doctor.sql");

/// Prints every finding; true when none is an error.
pub async fn run(client: &Client, service_roles: &[String]) -> anyhow::Result<bool> {
    let rows = client.query(FINDINGS, &[&service_roles]).await?;
    for row in &rows {
        let (check, severity, subject, problem, fix): (&str, &str, &str, &str, &str) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        println!("{severity} {check} {subject}: {problem}\n  fix: {fix}");
    }
    let errors = rows.iter().filter(|r| r.get::<_, &str>(1) == "error").count();
    println!("{} finding(s), {errors} error(s)", rows.len());
    Ok(errors == 0)
}
