//! Configuration from an optional file and the environment, under PostgREST's names where
//! PostgREST has the setting, and `TENANCY_*` / `tenancy-*` for what is ours.
//!
//! As in PostgREST, the file is the server's one argument (`tenancy-api /etc/tenancy.conf`),
//! holds `key = value` lines (`db-uri = "postgres://..."`, `server-port = 3000`, `#` comments),
//! and every variable set in the environment overrides the file's key. Both end up in one map
//! of variable names, which `Config::from_vars` reads: there is one way a setting is read.
use std::collections::HashMap;
use std::path::Path;

/// Every setting: its environment variable and its key in the file (PostgREST's mapping:
/// `PGRST_DB_URI` is `db-uri`; ours: `TENANCY_BASE_DOMAIN` is `tenancy-base-domain`).
pub const SETTINGS: &[(&str, &str)] = &[
    ("PGRST_DB_URI", "db-uri"),
    ("PGRST_DB_SCHEMAS", "db-schemas"),
    ("PGRST_DB_ANON_ROLE", "db-anon-role"),
    ("PGRST_JWT_SECRET", "jwt-secret"),
    ("PGRST_JWT_AUD", "jwt-aud"),
    ("PGRST_JWT_ROLE_CLAIM_KEY", "jwt-role-claim-key"),
    ("PGRST_DB_POOL", "db-pool"),
    ("PGRST_DB_MAX_ROWS", "db-max-rows"),
    ("PGRST_DB_TX_END", "db-tx-end"),
    ("PGRST_DB_PRE_REQUEST", "db-pre-request"),
    ("PGRST_SERVER_HOST", "server-host"),
    ("PGRST_SERVER_PORT", "server-port"),
    ("PGRST_SERVER_CORS_ALLOWED_ORIGINS", "server-cors-allowed-origins"),
    ("PGRST_ADMIN_SERVER_HOST", "admin-server-host"),
    ("PGRST_ADMIN_SERVER_PORT", "admin-server-port"),
    ("TENANCY_TENANT_CLAIM", "tenancy-tenant-claim"),
    ("TENANCY_COMPANY_CLAIM", "tenancy-company-claim"),
    ("TENANCY_USER_CLAIM", "tenancy-user-claim"),
    ("TENANCY_TENANT_ROLE_CLAIM", "tenancy-tenant-role-claim"),
    ("TENANCY_TENANTLESS_ROLES", "tenancy-tenantless-roles"),
    ("TENANCY_MAX_BODY_BYTES", "tenancy-max-body-bytes"),
    ("TENANCY_STATEMENT_TIMEOUT_MS", "tenancy-statement-timeout-ms"),
    ("TENANCY_BASE_DOMAIN", "tenancy-base-domain"),
    ("TENANCY_RATE_LIMIT_RPS", "tenancy-rate-limit-rps"),
    ("TENANCY_RATE_LIMIT_BURST", "tenancy-rate-limit-burst"),
    ("TENANCY_SAFE_UPDATES", "tenancy-safe-updates"),
    ("PGRST_DB_AGGREGATES_ENABLED", "db-aggregates-enabled"),
    ("TENANCY_CONSOLE_DIR", "tenancy-console-dir"),
    ("TENANCY_AUTH_KEYS_FILE", "tenancy-auth-keys-file"),
    ("TENANCY_AUTH_ROLE", "tenancy-auth-role"),
    ("TENANCY_AUTH_ACCESS_TOKEN_SECONDS", "tenancy-auth-access-token-seconds"),
    ("TENANCY_AUTH_CODE_SECONDS", "tenancy-auth-code-seconds"),
    ("TENANCY_AUTH_SITE_URL", "tenancy-auth-site-url"),
    ("TENANCY_AUTH_SMTP_URL", "tenancy-auth-smtp-url"),
    ("TENANCY_AUTH_MAIL_FROM", "tenancy-auth-mail-from"),
    ("TENANCY_REALTIME_REPLICATION_URI", "tenancy-realtime-replication-uri"),
    ("TENANCY_REALTIME_SLOT", "tenancy-realtime-slot"),
    ("TENANCY_REALTIME_MAX_MESSAGE_BYTES", "tenancy-realtime-max-message-bytes"),
    ("TENANCY_REALTIME_MAX_CHANNELS", "tenancy-realtime-max-channels"),
];

/// The file key of a variable, for messages.
fn file_key(variable: &str) -> Option<&'static str> {
    SETTINGS.iter().find(|(v, _)| *v == variable).map(|(_, k)| *k)
}

/// `PGRST_SERVER_PORT (server-port)`: how a message names a setting, wherever it was set.
fn label(variable: &str) -> String {
    match file_key(variable) {
        Some(key) => format!("{variable} ({key})"),
        None => variable.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TxEnd {
    Commit,
    CommitAllowOverride,
    Rollback,
    RollbackAllowOverride,
}

impl TxEnd {
    /// Whether `Prefer: tx=` may choose how a request's transaction ends.
    pub fn overridable(&self) -> bool {
        matches!(self, TxEnd::CommitAllowOverride | TxEnd::RollbackAllowOverride)
    }
}

/// PGRST_JWT_SECRET: an HS256 secret, or (when it is JSON) a JWK or a JWK set of public keys.
#[derive(Debug, Clone)]
pub enum JwtSecret {
    Hs256(String),
    Jwks(jsonwebtoken::jwk::JwkSet),
}

fn jwt_secret(value: String) -> Result<JwtSecret, ConfigError> {
    if !value.trim_start().starts_with('{') {
        return Ok(JwtSecret::Hs256(value));
    }
    let bad = |e: serde_json::Error| ConfigError(format!("{}: not a JWK or JWK set ({e})", label("PGRST_JWT_SECRET")));
    let json: serde_json::Value = serde_json::from_str(&value).map_err(bad)?;
    let set = if json.get("keys").is_some() {
        serde_json::from_value(json).map_err(bad)?
    } else {
        jsonwebtoken::jwk::JwkSet { keys: vec![serde_json::from_value(json).map_err(bad)?] }
    };
    Ok(JwtSecret::Jwks(set))
}

#[derive(Debug, Clone)]
pub struct Config {
    /// PGRST_DB_URI: the connection of the API's login role (a member of tenancy_service).
    pub db_uri: String,
    /// PGRST_DB_SCHEMAS: exposed schemas; the first is the default profile.
    pub db_schemas: Vec<String>,
    /// PGRST_DB_ANON_ROLE: the role of requests without a token; none means 401.
    pub anon_role: Option<String>,
    /// PGRST_JWT_SECRET: the HS256 secret, or RS256/ES256/EdDSA public keys as a JWK (set).
    pub jwt_secret: Option<JwtSecret>,
    /// PGRST_JWT_AUD: the audience tokens must carry, if set.
    pub jwt_aud: Option<String>,
    /// PGRST_JWT_ROLE_CLAIM_KEY: where the role is in the claims, PostgREST's `.a.b` path.
    pub role_claim_path: Vec<String>,
    /// PGRST_DB_POOL: connections to PostgreSQL.
    pub pool_size: usize,
    /// PGRST_DB_MAX_ROWS: a ceiling on rows returned by a read.
    pub max_rows: Option<u64>,
    /// PGRST_DB_TX_END: commit or roll back, and whether `Prefer: tx=` may override.
    pub tx_end: TxEnd,
    /// PGRST_SERVER_HOST / PGRST_SERVER_PORT.
    pub host: String,
    pub port: u16,
    /// PGRST_ADMIN_SERVER_HOST / PGRST_ADMIN_SERVER_PORT: where `/live`, `/ready` and
    /// `/metrics` are served, apart from the API (no port: not at all, as in PostgREST).
    pub admin_host: String,
    pub admin_port: Option<u16>,
    /// TENANCY_TENANT_CLAIM / TENANCY_COMPANY_CLAIM: the claims naming the tenant and company.
    pub tenant_claim: String,
    pub company_claim: String,
    /// TENANCY_USER_CLAIM / TENANCY_TENANT_ROLE_CLAIM: who acts (default `sub`) and the tenant
    /// roles the token claims for them (default `tenant_role`, a string or an array).
    pub user_claim: String,
    pub tenant_role_claim: String,
    /// TENANCY_TENANTLESS_ROLES: the token roles that act without a tenant (the platform's and
    /// the analysts'); a token of any other role but the anonymous one must name its tenant.
    pub tenantless_roles: Vec<String>,
    /// TENANCY_MAX_BODY_BYTES: the largest request body accepted.
    pub max_body_bytes: usize,
    /// PGRST_SERVER_CORS_ALLOWED_ORIGINS: browser origins allowed; unset means any.
    pub cors_origins: Option<Vec<String>>,
    /// TENANCY_STATEMENT_TIMEOUT_MS: the longest a request's statement may run (0: no limit).
    pub statement_timeout_ms: u64,
    /// TENANCY_BASE_DOMAIN: `acme.<base>` names tenant `acme` (it must agree with the token).
    pub base_domain: Option<String>,
    /// PostgREST's `app.settings.*` (`PGRST_APP_SETTINGS_<NAME>`, `app.settings.<name>` in the
    /// file): (`app.settings.<name>`, value), settings every connection of the pool starts with,
    /// which functions read with `current_setting`.
    pub app_settings: Vec<(String, String)>,
    /// PGRST_DB_PRE_REQUEST: a function (`schema.name`) called in every request's transaction,
    /// as the request's role, before the statement: it may raise to refuse the request.
    pub pre_request: Option<String>,
    /// TENANCY_RATE_LIMIT_RPS / TENANCY_RATE_LIMIT_BURST: requests per second per tenant
    /// (0: no limit) and how many may come at once.
    pub rate_limit_rps: u64,
    pub rate_limit_burst: u64,
    /// TENANCY_SAFE_UPDATES: refuse a PATCH or DELETE without any filter (it would change every
    /// row of the tenant); off by default, as PostgREST allows them.
    pub safe_updates: bool,
    /// PGRST_DB_AGGREGATES_ENABLED: `select=count()`, `col.sum()`...; off by default, as in
    /// PostgREST (an aggregate over a large table is a full scan).
    pub aggregates_enabled: bool,
    /// TENANCY_CONSOLE_DIR: the built console (`console/dist`), served at `/console/`; unset: none.
    pub console_dir: Option<std::path::PathBuf>,
    /// Sign-in (`/auth/v1`), on when TENANCY_AUTH_KEYS_FILE names its signing keys.
    pub sign_in: Option<SignInConfig>,
    pub realtime: RealtimeConfig,
}

/// The TENANCY_AUTH_* settings: sign-in at `/auth/v1`.
#[derive(Debug, Clone)]
pub struct SignInConfig {
    /// TENANCY_AUTH_KEYS_FILE: the JWK set of private ES256 keys (`tenancy-api keys generate`);
    /// the newest signs, all verify, on this server's REST side too.
    pub keys: std::sync::Arc<crate::sign_in::keys::SigningKeys>,
    /// TENANCY_AUTH_ROLE: the database role of signed-in users' requests (`tenant_member`).
    pub role: String,
    /// TENANCY_AUTH_ACCESS_TOKEN_SECONDS: how long an access token lives (3600, as GoTrue).
    pub access_token_seconds: u64,
    /// TENANCY_AUTH_CODE_SECONDS: how long a mailed invitation or recovery code lives (3600).
    pub code_seconds: u64,
    /// TENANCY_AUTH_SITE_URL: the frontend the mailed links point at.
    pub site_url: String,
    /// TENANCY_AUTH_SMTP_URL: `smtp://host:port` of the mail relay (none: mail is refused).
    pub smtp: Option<(String, u16)>,
    /// TENANCY_AUTH_MAIL_FROM: the sender of invitations and recovery codes.
    pub mail_from: String,
}

fn sign_in_config(
    get: &dyn Fn(&str) -> Option<String>,
    number: &dyn Fn(&str, u64) -> Result<u64, ConfigError>,
) -> Result<Option<SignInConfig>, ConfigError> {
    let Some(path) = get("TENANCY_AUTH_KEYS_FILE") else { return Ok(None) };
    let keys = crate::sign_in::keys::SigningKeys::read(Path::new(&path))
        .map_err(|e| ConfigError(format!("{}: {e}", label("TENANCY_AUTH_KEYS_FILE"))))?;
    let smtp = get("TENANCY_AUTH_SMTP_URL")
        .map(|url| {
            let bad = || ConfigError(format!("{}: \"{url}\" is not smtp://host:port", label("TENANCY_AUTH_SMTP_URL")));
            let (host, port) = url.strip_prefix("smtp://").and_then(|a| a.rsplit_once(':')).ok_or_else(bad)?;
            Ok((host.to_string(), port.trim_end_matches('/').parse().map_err(|_| bad())?))
        })
        .transpose()?;
    Ok(Some(SignInConfig {
        keys: std::sync::Arc::new(keys),
        role: get("TENANCY_AUTH_ROLE").unwrap_or_else(|| "tenant_member".into()),
        access_token_seconds: number("TENANCY_AUTH_ACCESS_TOKEN_SECONDS", 3600)?,
        code_seconds: number("TENANCY_AUTH_CODE_SECONDS", 3600)?,
        site_url: get("TENANCY_AUTH_SITE_URL").unwrap_or_else(|| "http://localhost:3000".into()),
        smtp,
        mail_from: get("TENANCY_AUTH_MAIL_FROM").unwrap_or_else(|| "Tenancy <no-reply@localhost>".into()),
    }))
}

/// `/realtime/v1`: where its changes come from and what one socket may ask for.
#[derive(Debug, Clone)]
pub struct RealtimeConfig {
    /// TENANCY_REALTIME_REPLICATION_URI: a connection of a role with REPLICATION, for the
    /// logical replication stream (Postgres Changes and broadcasts from the database); unset,
    /// joins asking for Postgres Changes are refused and Broadcast and Presence still work.
    pub replication_uri: Option<String>,
    /// TENANCY_REALTIME_SLOT: this instance's replication slot (one per instance; it
    /// survives restarts, so the server resumes where it stopped).
    pub slot: String,
    /// TENANCY_REALTIME_MAX_MESSAGE_BYTES: the largest frame a client may send.
    pub max_message_bytes: usize,
    /// TENANCY_REALTIME_MAX_CHANNELS: channels one socket may join.
    pub max_channels: usize,
}

#[derive(Debug, PartialEq)]
pub struct ConfigError(pub String);

impl std::error::Error for ConfigError {}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `name` or `schema.name`, each part an unquoted identifier, rendered quoted: it goes into SQL.
fn qualified_name(setting: &str, value: &str) -> Result<String, ConfigError> {
    let parts: Vec<&str> = value.split('.').collect();
    let plain = |p: &&str| {
        p.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if parts.len() > 2 || !parts.iter().all(plain) {
        return Err(ConfigError(format!("{}: \"{value}\" is not a function name (schema.name)", label(setting))));
    }
    Ok(parts.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join("."))
}

/// A replication slot's name as PostgreSQL allows it (it goes into replication commands).
fn slot_name(value: String) -> Result<String, ConfigError> {
    let valid = !value.is_empty()
        && value.len() <= 63
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match valid {
        true => Ok(value),
        false => Err(ConfigError(format!(
            "{}: \"{value}\" is not a slot name (lower-case letters, digits and _, at most 63)",
            label("TENANCY_REALTIME_SLOT")
        ))),
    }
}

impl Config {
    /// Whether a token of `role` may name no tenant: the anonymous role and
    /// TENANCY_TENANTLESS_ROLES.
    pub fn acts_without_tenant(&self, role: &str) -> bool {
        self.anon_role.as_deref() == Some(role) || self.tenantless_roles.iter().any(|r| r == role)
    }

    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(&std::env::vars().collect())
    }

    /// The file at `path` (if any), then the environment over it.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let file = match path {
            None => HashMap::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("cannot read the configuration file {}: {e}", path.display())))?;
                parse_file(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?
            }
        };
        Config::from_vars(&merge(file, std::env::vars()))
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            debug_assert!(file_key(name).is_some(), "{name} is missing from SETTINGS");
            vars.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
        };
        let number = |name: &str, default: u64| -> Result<u64, ConfigError> {
            get(name).map_or(Ok(default), |v| {
                v.parse().map_err(|_| ConfigError(format!("{}: \"{v}\" is not a number", label(name))))
            })
        };
        let tx_end = match get("PGRST_DB_TX_END").as_deref() {
            None | Some("commit") => TxEnd::Commit,
            Some("commit-allow-override") => TxEnd::CommitAllowOverride,
            Some("rollback") => TxEnd::Rollback,
            Some("rollback-allow-override") => TxEnd::RollbackAllowOverride,
            Some(other) => return Err(ConfigError(format!("{}: unknown value \"{other}\"", label("PGRST_DB_TX_END")))),
        };
        let role_claim = get("PGRST_JWT_ROLE_CLAIM_KEY").unwrap_or_else(|| ".role".into());
        let role_claim_path: Vec<String> =
            role_claim.split('.').filter(|s| !s.is_empty()).map(|s| s.trim_matches('"').to_string()).collect();
        if role_claim_path.is_empty() {
            return Err(ConfigError(format!("{}: \"{role_claim}\" names no claim", label("PGRST_JWT_ROLE_CLAIM_KEY"))));
        }
        let port = |name: &str, default: u64| -> Result<u16, ConfigError> {
            let value = number(name, default)?;
            u16::try_from(value).map_err(|_| ConfigError(format!("{}: {value} is not a port", label(name))))
        };
        let list = |name: &str, default: &str| -> Vec<String> {
            get(name)
                .unwrap_or_else(|| default.into())
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let flag = |name: &str| match get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ConfigError(format!("{}: \"{other}\" is not true or false", label(name)))),
        };
        let host = get("PGRST_SERVER_HOST").unwrap_or_else(|| "127.0.0.1".into());
        Ok(Config {
            db_uri: get("PGRST_DB_URI").unwrap_or_else(|| "postgresql://".into()),
            db_schemas: list("PGRST_DB_SCHEMAS", "public"),
            anon_role: get("PGRST_DB_ANON_ROLE"),
            jwt_secret: get("PGRST_JWT_SECRET").map(jwt_secret).transpose()?,
            jwt_aud: get("PGRST_JWT_AUD"),
            role_claim_path,
            pool_size: number("PGRST_DB_POOL", 10)? as usize,
            max_rows: get("PGRST_DB_MAX_ROWS").map(|_| number("PGRST_DB_MAX_ROWS", 0)).transpose()?,
            tx_end,
            admin_host: get("PGRST_ADMIN_SERVER_HOST").unwrap_or_else(|| host.clone()),
            admin_port: get("PGRST_ADMIN_SERVER_PORT").map(|_| port("PGRST_ADMIN_SERVER_PORT", 0)).transpose()?,
            host,
            port: port("PGRST_SERVER_PORT", 3000)?,
            tenant_claim: get("TENANCY_TENANT_CLAIM").unwrap_or_else(|| "tenant_id".into()),
            company_claim: get("TENANCY_COMPANY_CLAIM").unwrap_or_else(|| "company_id".into()),
            user_claim: get("TENANCY_USER_CLAIM").unwrap_or_else(|| "sub".into()),
            tenant_role_claim: get("TENANCY_TENANT_ROLE_CLAIM").unwrap_or_else(|| "tenant_role".into()),
            tenantless_roles: list("TENANCY_TENANTLESS_ROLES", "platform_admin,tenancy_analytics"),
            max_body_bytes: number("TENANCY_MAX_BODY_BYTES", 1024 * 1024)? as usize,
            cors_origins: get("PGRST_SERVER_CORS_ALLOWED_ORIGINS")
                .map(|v| v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect()),
            statement_timeout_ms: number("TENANCY_STATEMENT_TIMEOUT_MS", 10_000)?,
            base_domain: get("TENANCY_BASE_DOMAIN").map(|d| d.trim_matches('.').to_ascii_lowercase()),
            app_settings: app_settings(vars),
            pre_request: get("PGRST_DB_PRE_REQUEST").map(|f| qualified_name("PGRST_DB_PRE_REQUEST", &f)).transpose()?,
            rate_limit_rps: number("TENANCY_RATE_LIMIT_RPS", 0)?,
            rate_limit_burst: number("TENANCY_RATE_LIMIT_BURST", 100)?,
            safe_updates: flag("TENANCY_SAFE_UPDATES")?,
            aggregates_enabled: flag("PGRST_DB_AGGREGATES_ENABLED")?,
            console_dir: get("TENANCY_CONSOLE_DIR").map(std::path::PathBuf::from),
            sign_in: sign_in_config(&get, &number)?,
            realtime: RealtimeConfig {
                replication_uri: get("TENANCY_REALTIME_REPLICATION_URI"),
                slot: slot_name(get("TENANCY_REALTIME_SLOT").unwrap_or_else(|| "tenancy_realtime".into()))?,
                max_message_bytes: number("TENANCY_REALTIME_MAX_MESSAGE_BYTES", 64 * 1024)? as usize,
                max_channels: number("TENANCY_REALTIME_MAX_CHANNELS", 100)? as usize,
            },
        })
    }
}

/// The file's settings as environment variables. Each line is blank, a `#` comment, or
/// `key = value` with an optional trailing comment; a value is a double-quoted string (`\"`,
/// `\\`, `\n`, `\t` escapes) or a bare word (`3000`, `true`, `commit`). An unknown key, a key
/// set twice or a line that is none of these is an error naming the line.
pub fn parse_file(text: &str) -> Result<HashMap<String, String>, ConfigError> {
    let mut vars = HashMap::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let fail = |why: String| ConfigError(format!("line {number}: {why}: {}", line.trim()));
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let (key, rest) = content.split_once('=').ok_or_else(|| fail("expected key = value".into()))?;
        let key = key.trim();
        let variable = match key.strip_prefix(APP_SETTINGS_KEY) {
            Some(name) if !name.is_empty() => format!("{APP_SETTINGS_VARIABLE}{}", name.to_ascii_uppercase()),
            _ => SETTINGS
                .iter()
                .find(|(_, k)| *k == key)
                .map(|(v, _)| v.to_string())
                .ok_or_else(|| fail(format!("unknown key \"{key}\"")))?,
        };
        let value = file_value(rest.trim()).map_err(fail)?;
        if let Some(first) = seen.insert(key, number) {
            return Err(fail(format!("\"{key}\" is already set on line {first}")));
        }
        vars.insert(variable, value);
    }
    Ok(vars)
}

/// `app.settings.<name>` in the file, `PGRST_APP_SETTINGS_<NAME>` in the environment.
const APP_SETTINGS_KEY: &str = "app.settings.";
const APP_SETTINGS_VARIABLE: &str = "PGRST_APP_SETTINGS_";

/// The `app.settings.*` the variables set, by name (lower-cased, as PostgreSQL names settings).
fn app_settings(vars: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut settings: Vec<(String, String)> = vars
        .iter()
        .filter_map(|(variable, value)| {
            let name = variable.strip_prefix(APP_SETTINGS_VARIABLE).filter(|n| !n.is_empty())?;
            Some((format!("{APP_SETTINGS_KEY}{}", name.to_ascii_lowercase()), value.clone()))
        })
        .collect();
    settings.sort();
    settings
}

/// One value: a quoted string or a bare word, then nothing but an optional comment.
fn file_value(text: &str) -> Result<String, String> {
    let (value, rest) = match text.strip_prefix('"') {
        Some(quoted) => {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err("unterminated string".into()),
                    Some((i, '"')) => break i + 1,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '"')) => value.push('"'),
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, 't')) => value.push('\t'),
                        Some((_, c)) => return Err(format!("unknown escape \\{c} in a string")),
                        None => return Err("unterminated string".into()),
                    },
                    Some((_, c)) => value.push(c),
                }
            };
            (value, &quoted[end..])
        }
        None => {
            let end = text.find(|c: char| c.is_whitespace() || c == '#').unwrap_or(text.len());
            let word = &text[..end];
            if word.is_empty() {
                return Err("expected a value after =".into());
            }
            if word.contains('"') {
                return Err("a value with quotes must be one double-quoted string".into());
            }
            (word.to_string(), &text[end..])
        }
    };
    let rest = rest.trim_start();
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err("unexpected text after the value (quote a value with spaces)".into());
    }
    Ok(value)
}

/// The file's variables with the environment's over them: a variable set (and not empty) in
/// the environment wins, as in PostgREST.
pub fn merge(
    file: HashMap<String, String>,
    env: impl IntoIterator<Item = (String, String)>,
) -> HashMap<String, String> {
    let mut vars = file;
    for (name, value) in env {
        if !value.trim().is_empty() || !vars.contains_key(&name) {
            vars.insert(name, value);
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_follow_postgrest() {
        let c = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(c.db_schemas, vec!["public"]);
        assert_eq!(c.role_claim_path, vec!["role"]);
        assert_eq!((c.port, c.pool_size, c.tx_end), (3000, 10, TxEnd::Commit));
        assert_eq!(c.tenant_claim, "tenant_id");
    }

    #[test]
    fn the_admin_port_is_off_unless_set() {
        let c = Config::from_vars(&vars(&[("PGRST_SERVER_HOST", "0.0.0.0")])).unwrap();
        assert_eq!((c.admin_port, c.admin_host.as_str()), (None, "0.0.0.0"));
        let c = Config::from_vars(&vars(&[("PGRST_ADMIN_SERVER_PORT", "3001")])).unwrap();
        assert_eq!((c.admin_port, c.admin_host.as_str()), (Some(3001), "127.0.0.1"), "the API's host by default");
        let e = Config::from_vars(&vars(&[("PGRST_ADMIN_SERVER_PORT", "70000")])).unwrap_err();
        assert_eq!(e.0, "PGRST_ADMIN_SERVER_PORT (admin-server-port): 70000 is not a port");
    }

    #[test]
    fn tenantless_roles_and_safe_updates() {
        let c = Config::from_vars(&vars(&[("PGRST_DB_ANON_ROLE", "web_anon")])).unwrap();
        assert_eq!(c.tenantless_roles, vec!["platform_admin", "tenancy_analytics"]);
        assert!(c.acts_without_tenant("web_anon") && c.acts_without_tenant("platform_admin"));
        assert!(!c.acts_without_tenant("tenant_member"));
        assert!(!c.safe_updates, "off by default, as PostgREST");
        let c = Config::from_vars(&vars(&[("TENANCY_TENANTLESS_ROLES", "ops, "), ("TENANCY_SAFE_UPDATES", "TRUE")]))
            .unwrap();
        assert_eq!((c.tenantless_roles, c.safe_updates), (vec!["ops".to_string()], true));
        let e = Config::from_vars(&vars(&[("TENANCY_SAFE_UPDATES", "yes")])).unwrap_err();
        assert_eq!(e.0, "TENANCY_SAFE_UPDATES (tenancy-safe-updates): \"yes\" is not true or false");
    }

    #[test]
    fn reads_postgrest_names() {
        let c = Config::from_vars(&vars(&[
            ("PGRST_DB_SCHEMAS", "hrms, payroll"),
            ("PGRST_JWT_ROLE_CLAIM_KEY", ".app.\"role\""),
            ("PGRST_DB_TX_END", "rollback-allow-override"),
            ("PGRST_DB_MAX_ROWS", "100"),
        ]))
        .unwrap();
        assert_eq!(c.db_schemas, vec!["hrms", "payroll"]);
        assert_eq!(c.role_claim_path, vec!["app", "role"]);
        assert_eq!(c.tx_end, TxEnd::RollbackAllowOverride);
        assert_eq!(c.max_rows, Some(100));
    }

    #[test]
    fn app_settings_from_the_environment_and_the_file() {
        let c = Config::from_vars(&vars(&[("PGRST_APP_SETTINGS_APP_HOST", "localhost")])).unwrap();
        assert_eq!(c.app_settings, vec![("app.settings.app_host".to_string(), "localhost".to_string())]);
        let file = parse_file("app.settings.jwt_secret = \"a b\"\n").unwrap();
        let c = Config::from_vars(&merge(file, [("PGRST_APP_SETTINGS_OTHER".to_string(), "x".to_string())])).unwrap();
        let expected = [("app.settings.jwt_secret", "a b"), ("app.settings.other", "x")];
        assert_eq!(c.app_settings, expected.map(|(n, v)| (n.to_string(), v.to_string())));
        assert!(parse_file("app.settings. = 1").is_err(), "a setting needs a name");
    }

    #[test]
    fn the_pre_request_function_is_a_plain_name() {
        let c = Config::from_vars(&vars(&[("PGRST_DB_PRE_REQUEST", "api.check")])).unwrap();
        assert_eq!(c.pre_request.as_deref(), Some("\"api\".\"check\""));
        for bad in ["api.check()", "a.b.c", "x; DROP TABLE t", "1abc"] {
            assert!(Config::from_vars(&vars(&[("PGRST_DB_PRE_REQUEST", bad)])).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::from_vars(&vars(&[("PGRST_SERVER_PORT", "70000")])).unwrap_err();
        assert!(e.0.contains("PGRST_SERVER_PORT"));
        let e = Config::from_vars(&vars(&[("PGRST_DB_POOL", "ten")])).unwrap_err();
        assert!(e.0.contains("PGRST_DB_POOL"));
    }

    #[test]
    fn every_setting_has_its_file_key() {
        for (variable, key) in SETTINGS {
            let expected = variable.strip_prefix("PGRST_").unwrap_or(variable).to_ascii_lowercase().replace('_', "-");
            assert_eq!(*key, expected, "{variable}");
        }
        // Reading the defaults asks for every setting: one unlisted would panic here.
        Config::from_vars(&vars(&[])).unwrap();
    }

    #[test]
    fn a_file_in_postgrests_format() {
        let file = parse_file(
            "# tenancy.conf\n\
             db-uri = \"postgres://authenticator@db:5432/tenancy\"\n\
             db-schemas   = \"hrms, payroll\"  # two of them\n\
             \n\
             server-port = 3001\n\
             db-tx-end = rollback-allow-override\n\
             jwt-secret = \"a \\\"quoted\\\" # not a comment\"\n\
             tenancy-base-domain = \"Example.com\"\n\
             tenancy-rate-limit-rps = 5\n",
        )
        .unwrap();
        assert_eq!(file["PGRST_JWT_SECRET"], "a \"quoted\" # not a comment");
        let c = Config::from_vars(&file).unwrap();
        assert_eq!(c.db_uri, "postgres://authenticator@db:5432/tenancy");
        assert_eq!(c.db_schemas, vec!["hrms", "payroll"]);
        assert_eq!((c.port, c.tx_end, c.rate_limit_rps), (3001, TxEnd::RollbackAllowOverride, 5));
        assert_eq!(c.base_domain.as_deref(), Some("example.com"));
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = parse_file("server-port = 3001\ndb-schemas = \"hrms\"\ndb-pool = 3\n").unwrap();
        let env = vars(&[("PGRST_SERVER_PORT", "4000"), ("PGRST_DB_POOL", ""), ("PGRST_DB_ANON_ROLE", "anon")]);
        let c = Config::from_vars(&merge(file, env)).unwrap();
        assert_eq!(c.port, 4000, "set in both: the environment's");
        assert_eq!(c.db_schemas, vec!["hrms"], "only in the file");
        assert_eq!(c.pool_size, 3, "empty in the environment: the file's");
        assert_eq!(c.anon_role.as_deref(), Some("anon"), "only in the environment");
    }

    #[test]
    fn file_mistakes_name_the_line() {
        let err = |text: &str| parse_file(text).unwrap_err().0;
        assert_eq!(err("db-uri = \"x\"\ndb-urii = \"y\""), "line 2: unknown key \"db-urii\": db-urii = \"y\"");
        assert_eq!(err("\n\njust words"), "line 3: expected key = value: just words");
        assert_eq!(err("db-uri = \"open"), "line 1: unterminated string: db-uri = \"open");
        assert_eq!(err("db-uri ="), "line 1: expected a value after =: db-uri =");
        assert_eq!(
            err("db-anon-role = web anon"),
            "line 1: unexpected text after the value (quote a value with spaces): db-anon-role = web anon"
        );
        assert!(err("jwt-aud = \"a\" b").starts_with("line 1: unexpected text after the value"));
        assert!(err("jwt-aud = \"a\\q\"").contains("unknown escape \\q"));
        assert_eq!(
            err("server-port = 1\n# again\nserver-port = 2"),
            "line 3: \"server-port\" is already set on line 1: server-port = 2"
        );
        // PostgREST keys tenancy-api does not have are unknown too, not silently ignored.
        assert!(err("openapi-mode = \"disabled\"").contains("unknown key \"openapi-mode\""));
    }

    #[test]
    fn bad_values_from_the_file_name_both_names() {
        let file = parse_file("server-port = \"many\"").unwrap();
        let e = Config::from_vars(&file).unwrap_err();
        assert_eq!(e.0, "PGRST_SERVER_PORT (server-port): \"many\" is not a number");
    }

    #[test]
    fn load_reads_the_file() {
        let path = std::env::temp_dir().join(format!("tenancy-config-{}.conf", std::process::id()));
        std::fs::write(&path, "db-max-rows = 7\nbogus = 1\n").unwrap();
        let e = Config::load(Some(&path)).unwrap_err();
        assert!(e.0.starts_with(&path.display().to_string()) && e.0.contains("line 2: unknown key \"bogus\""), "{e}");
        std::fs::write(&path, "db-max-rows = 7\n").unwrap();
        assert_eq!(Config::load(Some(&path)).unwrap().max_rows, Some(7));
        std::fs::remove_file(&path).unwrap();
        let e = Config::load(Some(&path)).unwrap_err();
        assert!(e.0.starts_with("cannot read the configuration file"), "{e}");
    }
}
