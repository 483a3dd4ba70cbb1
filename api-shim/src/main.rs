//! `tenancy-api [FILE]`: configuration from the file (PostgREST's format, optional) and the
//! environment over it, then serve until SIGTERM or Ctrl-C, finishing requests in flight.
//! `tenancy-api token TENANT_ID|- [ROLE]` prints a day-long token signed with PGRST_JWT_SECRET
//! (`-`: no tenant, e.g. for platform_admin).
use tenancy_api::{app, auth, config::Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("token") {
        let config = Config::from_env()?;
        let Some(tenancy_api::config::JwtSecret::Hs256(secret)) = config.jwt_secret else {
            anyhow::bail!("PGRST_JWT_SECRET must be an HS256 secret to issue tokens");
        };
        let tenant = args
            .get(1)
            .filter(|t| *t != "-")
            .map(|t| t.parse())
            .transpose()
            .map_err(|_| anyhow::anyhow!("TENANT_ID must be a UUID, or - for none"))?;
        let role = args.get(2).map_or("tenant_member", String::as_str);
        println!("{}", auth::issue_token(&secret, role, tenant, 24 * 3600));
        return Ok(());
    }
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    if args.len() > 1 || args.first().is_some_and(|a| a.starts_with('-')) {
        anyhow::bail!("usage: tenancy-api [CONFIG_FILE] | tenancy-api token TENANT_ID|- [ROLE]");
    }
    let config = Config::load(args.first().map(std::path::Path::new))?;
    let address = format!("{}:{}", config.host, config.port);
    let state = app::build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(&address).await?;
    tracing::info!(%address, "tenancy-api listening");
    axum::serve(listener, app::app(state)).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
