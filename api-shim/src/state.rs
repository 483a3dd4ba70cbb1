//! What every handler shares: configuration, the pool, and the schema cache (swapped
//! whole on reload).
use crate::config::Config;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::schema_cache::SchemaCache;
use deadpool_postgres::Pool;
use std::sync::{Arc, RwLock};

pub struct AppState {
    pub config: Config,
    pub pool: Pool,
    schema: RwLock<Arc<SchemaCache>>,
    pub rate_limiter: Option<RateLimiter>,
    pub metrics: Metrics,
    /// `tx::setup_sql` for this configuration.
    pub setup_sql: String,
}

impl AppState {
    pub fn new(config: Config, pool: Pool, schema: SchemaCache) -> Self {
        let rate_limiter =
            (config.rate_limit_rps > 0).then(|| RateLimiter::new(config.rate_limit_rps, config.rate_limit_burst));
        let setup_sql = crate::tx::setup_sql(config.pre_request.as_deref());
        AppState {
            config,
            pool,
            schema: RwLock::new(Arc::new(schema)),
            rate_limiter,
            metrics: Metrics::default(),
            setup_sql,
        }
    }

    pub fn schema(&self) -> Arc<SchemaCache> {
        self.schema.read().expect("schema cache lock").clone()
    }

    pub fn replace_schema(&self, schema: SchemaCache) {
        *self.schema.write().expect("schema cache lock") = Arc::new(schema);
    }
}
