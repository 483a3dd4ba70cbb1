//! `NOTIFY pgrst, 'reload schema'` (sent by `tenancy migrate`) reloads the schema cache, as
//! PostgREST does; the listener reconnects when its connection drops.
use crate::schema_cache::SchemaCache;
use crate::state::AppState;
use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{AsyncMessage, NoTls};

pub async fn listen(config: tokio_postgres::Config, state: Arc<AppState>) {
    loop {
        if let Err(e) = listen_once(&config, &state).await {
            tracing::warn!(error = %e, "schema reload listener lost its connection; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen_once(config: &tokio_postgres::Config, state: &AppState) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(message) = poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) if n.channel() == "pgrst" => {
                    let _ = tx.send(n.payload().to_string());
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    client.batch_execute("LISTEN pgrst").await?;
    while let Some(payload) = rx.recv().await {
        if payload.is_empty() || payload == "reload schema" {
            let schema = SchemaCache::load(&client, &state.config.db_schemas).await?;
            tracing::info!(relations = schema.len(), "schema cache reloaded");
            state.replace_schema(schema);
            // Statements prepared against the old schema may no longer plan.
            state.pool.manager().statement_caches.clear();
        }
    }
    driver.await.unwrap_or(Ok(()))
}
