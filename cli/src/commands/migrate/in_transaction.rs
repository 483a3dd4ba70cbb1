//! refinery, run inside a transaction of ours. Its tokio-postgres driver commits each migration
//! (or the group) itself; through this adapter the migrations join the transaction that also
//! lints, applies the policies and checks for holes, so a failure anywhere applies nothing.
use async_trait::async_trait;
use refinery::Migration;
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::Transaction;

pub struct InTransaction<'a, 'b>(pub &'a Transaction<'b>);

#[async_trait]
impl AsyncTransaction for InTransaction<'_, '_> {
    type Error = tokio_postgres::Error;

    async fn execute(&mut self, queries: &[&str]) -> Result<usize, Self::Error> {
        for query in queries {
            self.0.batch_execute(query).await?;
        }
        Ok(queries.len())
    }
}

#[async_trait]
impl AsyncQuery<Vec<Migration>> for InTransaction<'_, '_> {
    /// refinery's history rows, read as its own driver reads them.
    async fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let rows = self.0.query(query, &[]).await?;
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
