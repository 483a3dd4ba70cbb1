//! What every handler shares: configuration, the pool, and the schema cache (swapped
//! whole on reload).
use crate::config::Config;
use crate::schema_cache::SchemaCache;
use deadpool_postgres::Pool;
use std::sync::{Arc, RwLock};

pub struct AppState {
    pub config: Config,
    pub pool: Pool,
    schema: RwLock<Arc<SchemaCache>>,
}

impl AppState {
    pub fn new(config: Config, pool: Pool, schema: SchemaCache) -> Self {
        AppState { config, pool, schema: RwLock::new(Arc::new(schema)) }
    }

    pub fn schema(&self) -> Arc<SchemaCache> {
        self.schema.read().expect("schema cache lock").clone()
    }

    pub fn replace_schema(&self, schema: SchemaCache) {
        *self.schema.write().expect("schema cache lock") = Arc::new(schema);
    }
}
