//! Configuration from the environment, under PostgREST's names where PostgREST has the
//! setting, and `TENANCY_*` for what is ours.
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum TxEnd {
    Commit,
    CommitAllowOverride,
    Rollback,
    RollbackAllowOverride,
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
    let bad = |e: serde_json::Error| ConfigError(format!("PGRST_JWT_SECRET: not a JWK or JWK set ({e})"));
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
    /// TENANCY_TENANT_CLAIM / TENANCY_COMPANY_CLAIM: the claims naming the tenant and company.
    pub tenant_claim: String,
    pub company_claim: String,
    /// TENANCY_USER_CLAIM / TENANCY_TENANT_ROLE_CLAIM: who acts (default `sub`) and the tenant
    /// roles the token claims for them (default `tenant_role`, a string or an array).
    pub user_claim: String,
    pub tenant_role_claim: String,
    /// TENANCY_MAX_BODY_BYTES: the largest request body accepted.
    pub max_body_bytes: usize,
    /// PGRST_SERVER_CORS_ALLOWED_ORIGINS: browser origins allowed; unset means any.
    pub cors_origins: Option<Vec<String>>,
    /// TENANCY_STATEMENT_TIMEOUT_MS: the longest a request's statement may run (0: no limit).
    pub statement_timeout_ms: u64,
    /// TENANCY_BASE_DOMAIN: `acme.<base>` names tenant `acme` (it must agree with the token).
    pub base_domain: Option<String>,
    /// PGRST_DB_PRE_REQUEST: a function (`schema.name`) called in every request's transaction,
    /// as the request's role, before the statement: it may raise to refuse the request.
    pub pre_request: Option<String>,
    /// TENANCY_RATE_LIMIT_RPS / TENANCY_RATE_LIMIT_BURST: requests per second per tenant
    /// (0: no limit) and how many may come at once.
    pub rate_limit_rps: u64,
    pub rate_limit_burst: u64,
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
        return Err(ConfigError(format!("{setting}: \"{value}\" is not a function name (schema.name)")));
    }
    Ok(parts.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join("."))
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(&std::env::vars().collect())
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |name: &str, default: u64| -> Result<u64, ConfigError> {
            get(name)
                .map_or(Ok(default), |v| v.parse().map_err(|_| ConfigError(format!("{name}: \"{v}\" is not a number"))))
        };
        let tx_end = match get("PGRST_DB_TX_END").as_deref() {
            None | Some("commit") => TxEnd::Commit,
            Some("commit-allow-override") => TxEnd::CommitAllowOverride,
            Some("rollback") => TxEnd::Rollback,
            Some("rollback-allow-override") => TxEnd::RollbackAllowOverride,
            Some(other) => return Err(ConfigError(format!("PGRST_DB_TX_END: unknown value \"{other}\""))),
        };
        let role_claim = get("PGRST_JWT_ROLE_CLAIM_KEY").unwrap_or_else(|| ".role".into());
        let role_claim_path: Vec<String> =
            role_claim.split('.').filter(|s| !s.is_empty()).map(|s| s.trim_matches('"').to_string()).collect();
        if role_claim_path.is_empty() {
            return Err(ConfigError(format!("PGRST_JWT_ROLE_CLAIM_KEY: \"{role_claim}\" names no claim")));
        }
        let port = number("PGRST_SERVER_PORT", 3000)?;
        Ok(Config {
            db_uri: get("PGRST_DB_URI").unwrap_or_else(|| "postgresql://".into()),
            db_schemas: get("PGRST_DB_SCHEMAS")
                .unwrap_or_else(|| "public".into())
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            anon_role: get("PGRST_DB_ANON_ROLE"),
            jwt_secret: get("PGRST_JWT_SECRET").map(jwt_secret).transpose()?,
            jwt_aud: get("PGRST_JWT_AUD"),
            role_claim_path,
            pool_size: number("PGRST_DB_POOL", 10)? as usize,
            max_rows: get("PGRST_DB_MAX_ROWS").map(|_| number("PGRST_DB_MAX_ROWS", 0)).transpose()?,
            tx_end,
            host: get("PGRST_SERVER_HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: u16::try_from(port).map_err(|_| ConfigError(format!("PGRST_SERVER_PORT: {port} is not a port")))?,
            tenant_claim: get("TENANCY_TENANT_CLAIM").unwrap_or_else(|| "tenant_id".into()),
            company_claim: get("TENANCY_COMPANY_CLAIM").unwrap_or_else(|| "company_id".into()),
            user_claim: get("TENANCY_USER_CLAIM").unwrap_or_else(|| "sub".into()),
            tenant_role_claim: get("TENANCY_TENANT_ROLE_CLAIM").unwrap_or_else(|| "tenant_role".into()),
            max_body_bytes: number("TENANCY_MAX_BODY_BYTES", 1024 * 1024)? as usize,
            cors_origins: get("PGRST_SERVER_CORS_ALLOWED_ORIGINS")
                .map(|v| v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect()),
            statement_timeout_ms: number("TENANCY_STATEMENT_TIMEOUT_MS", 10_000)?,
            base_domain: get("TENANCY_BASE_DOMAIN").map(|d| d.trim_matches('.').to_ascii_lowercase()),
            pre_request: get("PGRST_DB_PRE_REQUEST").map(|f| qualified_name("PGRST_DB_PRE_REQUEST", &f)).transpose()?,
            rate_limit_rps: number("TENANCY_RATE_LIMIT_RPS", 0)?,
            rate_limit_burst: number("TENANCY_RATE_LIMIT_BURST", 100)?,
        })
    }
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
}
