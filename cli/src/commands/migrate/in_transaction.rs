//! refinery, run inside a transaction of ours. Its tokio-postgres driver commits each migration
//! (or the group) itself; through this adapter the migrations join the transaction that also
//! lints, applies the policies and checks for holes, so a failure anywhere applies nothing.
use async_trait::async_trait;
use refinery::Migration;
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::Transaction;

pub struct InTransaction<'a, 'b> {
    pub tx: &'a Transaction<'b>,
    /// On Citus: see `run_script`.
    pub one_statement_at_a_time: bool,
}

/// Runs a script of many statements. On Citus one statement at a time: Citus forwards some
/// commands to the workers with the text of the whole script they came in, and the workers refuse
/// it ("cannot insert multiple commands into a prepared statement"). A script that does not parse
/// goes as it is, for PostgreSQL to report where.
pub async fn run_script(
    tx: &Transaction<'_>,
    sql: &str,
    one_statement_at_a_time: bool,
) -> Result<(), tokio_postgres::Error> {
    match pg_query::split_with_parser(sql) {
        Ok(statements) if one_statement_at_a_time => {
            for statement in statements {
                tx.batch_execute(statement).await?;
            }
            Ok(())
        }
        _ => tx.batch_execute(sql).await,
    }
}

#[async_trait]
impl AsyncTransaction for InTransaction<'_, '_> {
    type Error = tokio_postgres::Error;

    async fn execute(&mut self, queries: &[&str]) -> Result<usize, Self::Error> {
        for query in queries {
            run_script(self.tx, query, self.one_statement_at_a_time).await?;
        }
        Ok(queries.len())
    }
}

#[async_trait]
impl AsyncQuery<Vec<Migration>> for InTransaction<'_, '_> {
    /// refinery's history rows, read as its own driver reads them.
    async fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let rows = self.tx.query(query, &[]).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let applied_on: String = row.get(2);
                let checksum: String = row.get(3);
                Migration::applied(
                    row.get(0),
                    row.get(1),
                    // refinery writes both; a row it cannot read compares as changed, and refinery refuses it.
                    OffsetDateTime::parse(&applied_on, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    checksum.parse().unwrap_or_default(),
                )
            })
            .collect())
    }
}

impl AsyncMigrate for InTransaction<'_, '_> {}
