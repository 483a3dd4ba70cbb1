//! The cross-tenant aggregation on Citus (scripts/up-citus): `tenancy.aggregate` over a
//! distributed table gives what a superuser's `GROUP BY` gives, and its caller still reads no row.
use tenancy_e2e::citus::{connect, TenantTable, COORDINATOR};
use tenancy_e2e::{sqlstate, unique, INSUFFICIENT_PRIVILEGE};

#[tokio::test]
async fn aggregates_over_the_workers_equal_a_group_by_and_reveal_no_row() {
    let t = TenantTable::create().await;
    let db = connect(COORDINATOR, "postgres").await;
    let analyst = unique("analyst").replace('-', "_");
    // Protecting again on Citus (the table is distributed by now) declares the classes.
    for statement in [
        format!("ALTER TABLE {} ADD COLUMN amount int NOT NULL DEFAULT 1", t.table),
        format!("UPDATE {} SET amount = length(body) * 10", t.table),
        format!(
            "SELECT tenancy.protect('{}', analytics => '{{\"body\": {{\"class\": \"dimension\", \"reason\": \"test\"}}, \"amount\": \"measure\"}}')",
            t.table
        ),
        format!("CREATE ROLE {analyst} LOGIN IN ROLE tenancy_analytics"),
    ] {
        db.batch_execute(&statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    db.batch_execute("SELECT tenancy.set_analytics_policy(1)").await.unwrap();

    let expected: Vec<(String, i64, i64)> = db
        .query(&format!("SELECT body, count(*), sum(amount) FROM {} GROUP BY body ORDER BY body", t.table), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let analytics = connect(COORDINATOR, &analyst).await;
    let got: Vec<(String, i64, i64)> = analytics
        .query(
            "SELECT group_values->>'body', (aggregates->>'count')::bigint, (aggregates->>'sum(amount)')::bigint
             FROM tenancy.aggregate($1, '{count, sum(amount)}', group_by => '{body}') ORDER BY 1",
            &[&t.table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(expected.len(), 5);

    let rows = analytics.query(&format!("SELECT * FROM {}", t.table), &[]).await;
    assert_eq!(sqlstate(rows), INSUFFICIENT_PRIVILEGE);
}
