//! The routers (the API's, and the admin port's), and how the server comes up: pool, schema
//! cache, reload listener.
use crate::config::Config;
use crate::schema_cache::SchemaCache;
use crate::state::AppState;
use crate::{console, handlers, health, keep_alive, observe, request_id, server_status, sign_in};
use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::get;
use axum::Router;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::sync::Arc;
use tokio_postgres::NoTls;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// Browsers may call from any origin unless PGRST_SERVER_CORS_ALLOWED_ORIGINS lists them;
/// the response headers a PostgREST client reads are exposed.
fn cors(origins: Option<&[String]>) -> CorsLayer {
    let allow = match origins {
        None => AllowOrigin::any(),
        Some(list) => AllowOrigin::list(list.iter().filter_map(|o| HeaderValue::from_str(o).ok())),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers([header::CONTENT_RANGE, header::LOCATION, HeaderName::from_static(request_id::HEADER)])
        .max_age(std::time::Duration::from_secs(86400))
}

pub fn app(state: Arc<AppState>) -> Router {
    let cors = cors(state.config.cors_origins.as_deref());
    let realtime = crate::realtime::start(state.clone());
    Router::new()
        .route("/", get(handlers::openapi))
        .route("/health", get(health::health))
        .route("/rpc/{function}", get(handlers::rpc).head(handlers::rpc).post(handlers::rpc))
        .nest_service("/realtime/v1", crate::realtime::router(realtime.clone()))
        .route(
            "/{resource}",
            get(handlers::read)
                .head(handlers::read)
                .post(handlers::create)
                .put(handlers::replace)
                .patch(handlers::update)
                .delete(handlers::remove),
        )
        .nest("/auth/v1", sign_in::router(&state))
        .merge(console::router(state.config.console_dir.as_deref()))
        .merge(server_status::router(realtime))
        .method_not_allowed_fallback(keep_alive::unsupported_method)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), observe::track))
        .fallback(keep_alive::unknown_path)
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes))
        // Request ids (the last layer added runs first): a client's odd id is dropped, a missing
        // one generated, and the id returned on the response.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(request_id::drop_unacceptable))
        .layer(cors)
        .layer(axum::middleware::from_fn(keep_alive::close_unless_read))
        .with_state(state)
}

/// The admin port (PGRST_ADMIN_SERVER_PORT), for the operator's probes and scrapers only:
/// `/live`, `/ready` and the Prometheus text at `/metrics`.
pub fn admin(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/live", get(health::live))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<Arc<AppState>>) -> ([(header::HeaderName, &'static str); 1], String) {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(&state.pool))
}

#[derive(Debug)]
pub struct StartError(pub String);

impl std::error::Error for StartError {}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Connects, loads the schema cache, and starts listening for `NOTIFY pgrst, 'reload schema'`.
pub async fn build_state(config: Config) -> Result<Arc<AppState>, StartError> {
    let pg: tokio_postgres::Config = config.db_uri.parse().map_err(|e| StartError(format!("PGRST_DB_URI: {e}")))?;
    let manager = Manager::from_config(
        with_app_settings(pg.clone(), &config.app_settings),
        NoTls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    let pool = Pool::builder(manager)
        .max_size(config.pool_size)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| StartError(format!("pool: {e}")))?;
    let schema = {
        let client = pool.get().await.map_err(|e| StartError(format!("cannot connect to PostgreSQL: {e}")))?;
        SchemaCache::load(&client, &config.db_schemas).await.map_err(|e| StartError(format!("schema cache: {e}")))?
    };
    let state = Arc::new(AppState::new(config, pool, schema));
    tokio::spawn(crate::reload::listen(pg, state.clone()));
    tokio::spawn(crate::housekeeping::run(Arc::downgrade(&state)));
    Ok(state)
}

/// Serves until the process is told to stop; what `main` and the tests run.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    // The peer address: sign-in throttles per address.
    axum::serve(listener, app(state).into_make_service_with_connect_info::<std::net::SocketAddr>()).await
}

/// Serves the admin port until the process is told to stop.
pub async fn serve_admin(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    axum::serve(listener, admin(state)).await
}

/// Every pool connection starts with the `app.settings.*` (PostgreSQL's `-c name=value` startup
/// options; in them a space or a backslash is escaped with a backslash): set once per
/// connection, not in every request's statement.
fn with_app_settings(mut pg: tokio_postgres::Config, settings: &[(String, String)]) -> tokio_postgres::Config {
    if settings.is_empty() {
        return pg;
    }
    let escape = |text: &str| text.replace('\\', "\\\\").replace(' ', "\\ ");
    let given = pg.get_options().map(str::to_string);
    let ours = settings.iter().map(|(name, value)| format!("-c {}={}", escape(name), escape(value)));
    let options: Vec<String> = given.into_iter().chain(ours).collect();
    pg.options(options.join(" "));
    pg
}
