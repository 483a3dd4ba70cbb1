//! `tenancy doctor`: the linter's rules checked on a live database, each finding with its fix.
use tokio_postgres::Client;

const FINDINGS: &str = include_str!("doctor.sql");
/// Needs the analytics classes of tenancy 0.2.0: skipped on an older extension, which the
/// `extension-behind` finding reports.
const ANALYTICS_FINDINGS: &str = include_str!("doctor_analytics.sql");
/// Sign-in's schema `auth` (migration V13): checked where it exists.
const SIGN_IN_FINDINGS: &str = include_str!("doctor_sign_in.sql");
/// The nodes of a Citus cluster: checked where the citus extension is installed.
const CITUS_FINDINGS: &str = include_str!("doctor_citus.sql");

/// Each worker's slots, as `doctor.sql` reports the coordinator's: a slot nobody reads holds
/// that worker's WAL for ever (real-time reads one slot on every node).
fn worker_slot_findings() -> String {
    format!(
        "SELECT 'replication-slot', CASE WHEN s.active THEN 'info' ELSE 'warning' END, format('%s on %s', s.slot, s.node),
                format('%s, %s behind', CASE WHEN s.active THEN 'read' ELSE 'not read by anyone' END, s.behind),
                CASE WHEN s.active THEN 'nothing to do'
                     ELSE format('start the server that reads it, or on %s: SELECT pg_drop_replication_slot(%L);', s.node, s.slot) END
         FROM ({}) s",
        crate::citus::WORKER_SLOTS
    )
}

/// Prints every finding; true when none is an error.
pub async fn run(client: &Client, service_roles: &[String]) -> anyhow::Result<bool> {
    let mut rows = client.query(FINDINGS, &[&service_roles]).await?;
    let has_classes: bool =
        client.query_one("SELECT to_regclass('tenancy.analytics_classes') IS NOT NULL", &[]).await?.get(0);
    if has_classes {
        rows.extend(client.query(ANALYTICS_FINDINGS, &[]).await?);
    }
    let has_sign_in: bool = client.query_one("SELECT to_regnamespace('auth') IS NOT NULL", &[]).await?.get(0);
    if has_sign_in {
        rows.extend(client.query(SIGN_IN_FINDINGS, &[]).await?);
    }
    if crate::citus::installed(client).await? {
        rows.extend(client.query(CITUS_FINDINGS, &[]).await?);
        rows.extend(client.query(&worker_slot_findings(), &[]).await?);
    }
    rows.sort_by(|a, b| (a.get::<_, &str>(0), a.get::<_, &str>(2)).cmp(&(b.get(0), b.get(2))));
    for row in &rows {
        let (check, severity, subject, problem, fix): (&str, &str, &str, &str, &str) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        println!("{severity} {check} {subject}: {problem}\n  fix: {fix}");
    }
    let errors = rows.iter().filter(|r| r.get::<_, &str>(1) == "error").count();
    println!("{} finding(s), {errors} error(s)", rows.len());
    Ok(errors == 0)
}
