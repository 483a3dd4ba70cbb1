//! `tenancy-api [CONFIG_FILE]`: configuration from the file (PostgREST's format, optional) and
//! the environment over it, then serve until SIGTERM or Ctrl-C, finishing requests in flight;
//! the admin port too, when PGRST_ADMIN_SERVER_PORT names one.
//! `tenancy-api token TENANT_ID|- [ROLE] [--sub USER] [--tenant-role NAME]...` prints a day-long
//! token signed with PGRST_JWT_SECRET (`-`: no tenant, for a role that needs none, e.g.
//! platform_admin), naming who acts and the tenant roles they hold.
//! `tenancy-api keys generate|rotate FILE` writes sign-in's signing keys (TENANCY_AUTH_KEYS_FILE);
//! `tenancy-api password` prints the argon2id hash of the password read from stdin.
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tenancy_api::{app, auth, config::Config};
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

/// The REST server of Tenancy: PostgREST's URL grammar over the exposed schemas, with the
/// tenant of each request entered from its token.
#[derive(Parser)]
#[command(name = "tenancy-api", version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// A configuration file in PostgREST's format (`db-uri = "..."`); variables set in the
    /// environment (PGRST_DB_URI, ...) override its keys.
    config_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print a day-long token signed with PGRST_JWT_SECRET (an HS256 secret).
    Token {
        /// The tenant the token acts for, or - for none (platform_admin, tenancy_analytics).
        #[arg(value_name = "TENANT_ID|-", value_parser = tenant_argument)]
        tenant: Tenant,
        /// The token's role.
        #[arg(default_value = "tenant_member")]
        role: String,
        /// Who acts (the `sub` claim): the user tenancy.set_user names, written to the event log.
        #[arg(long, value_name = "USER")]
        sub: Option<String>,
        /// A tenant role the user holds (the `tenant_role` claim), e.g. hr_manager; repeatable.
        #[arg(long = "tenant-role", value_name = "NAME")]
        tenant_roles: Vec<String>,
    },
    /// Sign-in's signing keys (TENANCY_AUTH_KEYS_FILE): a JWK set of private ES256 keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Print the argon2id hash of the password on stdin (for auth.set_password_hash).
    Password,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Write a file with one new key, unless the file exists (then leave it as it is).
    Generate { file: PathBuf },
    /// Add a new key that signs from now on; keep the old ones while tokens they signed may live.
    Rotate {
        file: PathBuf,
        /// How long an old key keeps verifying after it is retired: at least the access token lifetime.
        #[arg(long, default_value_t = 3600)]
        keep_seconds: u64,
    },
}

#[derive(Clone)]
struct Tenant(Option<Uuid>);

fn tenant_argument(value: &str) -> Result<Tenant, String> {
    match value {
        "-" => Ok(Tenant(None)),
        id => id.parse().map(|id| Tenant(Some(id))).map_err(|_| "a UUID, or - for none".to_string()),
    }
}

fn main() -> ExitCode {
    // Usage mistakes exit 2 with the usage on stderr; --help and --version exit 0.
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Token { tenant, role, sub, tenant_roles }) => {
            token(tenant.0, &role, auth::UserClaims { sub, tenant_roles })
        }
        Some(Command::Keys { action }) => keys(action),
        Some(Command::Password) => password(),
        None => serve(cli.config_file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tenancy-api: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn token(tenant: Option<Uuid>, role: &str, user: auth::UserClaims) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let Some(tenancy_api::config::JwtSecret::Hs256(secret)) = &config.jwt_secret else {
        anyhow::bail!("PGRST_JWT_SECRET must be an HS256 secret to issue tokens");
    };
    if tenant.is_none() && !config.acts_without_tenant(role) {
        // The server would refuse it (TN102): say so now.
        let mut cli = Cli::command().bin_name("tenancy-api");
        cli.build();
        cli.find_subcommand_mut("token")
            .expect("a declared subcommand")
            .error(
                clap::error::ErrorKind::ValueValidation,
                format!("the role {role} acts for a tenant: give its TENANT_ID (TENANCY_TENANTLESS_ROLES lists the roles that need none)"),
            )
            .exit();
    }
    println!("{}", auth::issue_token(secret, role, tenant, &user, 24 * 3600));
    Ok(())
}

fn keys(action: KeysAction) -> anyhow::Result<()> {
    use tenancy_api::sign_in::keys::SigningKeys;
    match action {
        KeysAction::Generate { file } if file.exists() => {
            SigningKeys::read(&file).map_err(anyhow::Error::msg)?;
            println!("{} exists: kept", file.display());
        }
        KeysAction::Generate { file } => {
            SigningKeys::generate().write(&file)?;
            println!("{}: a new signing key", file.display());
        }
        KeysAction::Rotate { file, keep_seconds } => {
            let keys = SigningKeys::read(&file).map_err(anyhow::Error::msg)?.rotate(keep_seconds);
            keys.write(&file)?;
            println!(
                "{}: {} signs; {} key(s) verify (restart the server to use them)",
                file.display(),
                keys.signing_kid(),
                keys.kids().count()
            );
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn password() -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    use tenancy_api::sign_in::passwords::{check_strength, hash, MAX_LENGTH, MIN_LENGTH};
    check_strength(&password).map_err(|_| anyhow::anyhow!("a password has {MIN_LENGTH} to {MAX_LENGTH} characters"))?;
    println!("{}", hash(password).await.map_err(|e| anyhow::anyhow!("{e:?}"))?);
    Ok(())
}

#[tokio::main]
async fn serve(config_file: Option<PathBuf>) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = Config::load(config_file.as_deref())?;
    let address = format!("{}:{}", config.host, config.port);
    let admin_address = config.admin_port.map(|port| format!("{}:{port}", config.admin_host));
    let state = app::build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(&address).await?;
    if let Some(admin_address) = admin_address {
        let admin = tokio::net::TcpListener::bind(&admin_address).await?;
        tracing::info!(address = %admin_address, "admin server listening");
        tokio::spawn(app::serve_admin(admin, state.clone()));
    }
    tracing::info!(%address, "tenancy-api listening");
    axum::serve(listener, app::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
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
