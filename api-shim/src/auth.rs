//! Who is asking: the bearer token (checked by `jwt.rs`), the role from PostgREST's role
//! claim path, the tenant and company from tenancy's claims. No token: the anonymous role, if
//! there is one. A token of a role that acts for a tenant must name it.
use crate::config::Config;
use crate::error::{ApiError, Authenticated, JwtError};
use crate::jwt;
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Identity {
    pub role: String,
    /// The token's claims as a JSON object (`{"role": <anonymous role>}` without a token).
    pub claims: Value,
    pub authenticated: Authenticated,
    pub tenant: Option<Uuid>,
    pub company: Option<Uuid>,
    /// Who acts within the tenant, and the tenant roles the token claims for them.
    pub user: Option<String>,
    pub tenant_roles: Option<Vec<String>>,
}

/// As in a database with tenant tables (real-time channels, sign-in).
pub fn authenticate(config: &Config, authorization: Option<&str>) -> Result<Identity, ApiError> {
    authenticate_in(config, authorization, TenantTables::Present)
}

/// Whether the database has tenant tables (`tenancy.protected_tables`). Without any, a token
/// needs no tenant claim: the server answers as PostgREST does (tenancy adds to it, it does not
/// change it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TenantTables {
    Present,
    Absent,
}

pub fn authenticate_in(
    config: &Config,
    authorization: Option<&str>,
    tenant_tables: TenantTables,
) -> Result<Identity, ApiError> {
    let Some(header) = authorization else {
        let role = config.anon_role.clone().ok_or(ApiError::AnonymousDisabled)?;
        return Ok(Identity {
            // PostgREST's claims for an anonymous request: the role it runs as.
            claims: serde_json::json!({ "role": role }),
            role,
            authenticated: Authenticated::No,
            tenant: None,
            company: None,
            user: None,
            tenant_roles: None,
        });
    };
    let token = bearer_token(header)?;
    let secret = verifying_secret(config, token)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let claims = jwt::verify(secret, token, config.jwt_aud.as_deref(), now).map_err(ApiError::Jwt)?;
    identity(config, claims, tenant_tables)
}

/// The key that must have signed `token`: sign-in's public keys when its `kid` is one of
/// theirs (TENANCY_AUTH_KEYS_FILE), else PGRST_JWT_SECRET.
fn verifying_secret<'c>(config: &'c Config, token: &str) -> Result<&'c crate::config::JwtSecret, ApiError> {
    let ours = config.sign_in.as_ref().map(|s| &s.keys).filter(|keys| {
        let kid = jwt::kid(token);
        kid.is_some_and(|kid| keys.kids().any(|k| k == kid))
    });
    match ours {
        Some(keys) => Ok(keys.verifying()),
        None => config.jwt_secret.as_ref().ok_or(ApiError::Jwt(JwtError::SecretMissing)),
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case).
fn bearer_token(header: &str) -> Result<&str, ApiError> {
    let header = header.trim();
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    match scheme.eq_ignore_ascii_case("bearer") {
        true => Ok(token.trim()),
        false => Err(ApiError::Jwt(JwtError::NotBearer)),
    }
}

/// The role a token names: a string as it is, any other JSON value as its text (as PostgREST,
/// so that PostgreSQL refuses it by name); none, the anonymous role.
fn role(config: &Config, claims: &Map<String, Value>) -> Result<String, ApiError> {
    let (first, rest) = config.role_claim_path.split_first().expect("the configuration names a role claim");
    match claims.get(first).and_then(|v| rest.iter().try_fold(v, |v, key| v.get(key))) {
        Some(Value::String(role)) => Ok(role.clone()),
        None | Some(Value::Null) => config.anon_role.clone().ok_or(ApiError::AnonymousDisabled),
        Some(other) => Ok(other.to_string()),
    }
}

fn uuid_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<Uuid>, ApiError> {
    let malformed = || ApiError::MalformedClaim { claim: name.to_string(), expected: "a UUID" };
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Uuid::parse_str(s).map(Some).map_err(|_| malformed()),
        Some(_) => Err(malformed()),
    }
}

fn tenant_roles(claims: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    let malformed =
        || ApiError::MalformedClaim { claim: name.to_string(), expected: "a string or an array of strings" };
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<_>>().map(Some).ok_or_else(malformed)
        }
        Some(_) => Err(malformed()),
    }
}

/// Who the verified claims say is asking.
fn identity(config: &Config, claims: Map<String, Value>, tenant_tables: TenantTables) -> Result<Identity, ApiError> {
    let role = role(config, &claims)?;
    let tenant = uuid_claim(&claims, &config.tenant_claim)?;
    let company = uuid_claim(&claims, &config.company_claim)?;
    let missing_tenant =
        |needed_by: String| ApiError::MissingTenantClaim { claim: config.tenant_claim.clone(), needed_by };
    if tenant.is_none() && company.is_some() {
        return Err(missing_tenant(format!("its \"{}\" claim", config.company_claim)));
    }
    if tenant.is_none() && tenant_tables == TenantTables::Present && !config.acts_without_tenant(&role) {
        return Err(missing_tenant(format!("its role \"{role}\"")));
    }
    let user = match claims.get(&config.user_claim) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let tenant_roles = tenant_roles(&claims, &config.tenant_role_claim)?;
    // As PostgREST: a token that leaves the request to the anonymous role is no authentication
    // (a privilege refused is 401, not 403).
    let authenticated = match config.anon_role.as_deref() == Some(role.as_str()) {
        true => Authenticated::No,
        false => Authenticated::Yes,
    };
    Ok(Identity { role, claims: Value::Object(claims), authenticated, tenant, company, user, tenant_roles })
}

/// Who acts in an issued token, as the server reads them back (`sub`, `tenant_role`).
#[derive(Default)]
pub struct UserClaims {
    pub sub: Option<String>,
    pub tenant_roles: Vec<String>,
}

/// A token for `role` acting for `tenant`, valid for `seconds`: for the dev stack's examples
/// and for operators who need one by hand (`tenancy-api token`).
pub fn issue_token(secret: &str, role: &str, tenant: Option<Uuid>, user: &UserClaims, seconds: u64) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) + seconds;
    let mut claims = serde_json::json!({"role": role, "tenant_id": tenant, "exp": exp});
    if let Some(sub) = &user.sub {
        claims["sub"] = sub.as_str().into();
    }
    if !user.tenant_roles.is_empty() {
        claims["tenant_role"] = user.tenant_roles.clone().into();
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

/// The tenant slug a `Host` names under the base domain: `acme.example.com` → `acme`.
pub fn subdomain(host: Option<&str>, base_domain: Option<&str>) -> Option<String> {
    let host = host?.split(':').next()?.to_ascii_lowercase();
    let slug = host.strip_suffix(base_domain?)?.strip_suffix('.')?;
    (!slug.is_empty() && !slug.contains('.')).then(|| slug.to_string())
}

/// The tenant the request acts for: the token's. `X-Tenant-ID` may repeat it, never change it.
pub fn check_tenant_header(identity: &Identity, header: Option<&str>) -> Result<(), ApiError> {
    match (header.map(str::trim), identity.tenant) {
        (None, _) => Ok(()),
        (Some(h), Some(t)) if Uuid::parse_str(h).is_ok_and(|h| h == t) => Ok(()),
        (Some(_), Some(_)) => Err(ApiError::TenantMismatch),
        // Without a tenant in the token the header grants nothing: no context is entered.
        (Some(_), None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;
    use std::collections::HashMap;

    fn config() -> Config {
        let vars: HashMap<String, String> =
            [("PGRST_JWT_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret"), ("PGRST_DB_ANON_ROLE", "web_anon")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        Config::from_vars(&vars).unwrap()
    }

    fn token(claims: Value, secret: &str) -> String {
        encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn a_valid_token_gives_role_and_tenant() {
        let t = Uuid::new_v4();
        let jwt = token(
            json!({"role": "tenant_member", "tenant_id": t, "exp": now() + 60}),
            "s3cret-s3cret-s3cret-s3cret-s3cret",
        );
        let id = authenticate(&config(), Some(&format!("Bearer {jwt}"))).unwrap();
        assert_eq!((id.role.as_str(), id.tenant, id.authenticated), ("tenant_member", Some(t), Authenticated::Yes));
    }

    fn auth(claims: Value) -> Result<Identity, ApiError> {
        authenticate(&config(), Some(&format!("Bearer {}", token(claims, "s3cret-s3cret-s3cret-s3cret-s3cret"))))
    }

    #[test]
    fn the_user_and_the_tenant_roles_come_from_their_claims() {
        let t = Uuid::new_v4();
        let id = auth(json!({"role": "r", "tenant_id": t, "sub": "u-1", "tenant_role": ["hr_manager", "employee"]}))
            .unwrap();
        assert_eq!(
            (id.user.as_deref(), id.tenant_roles),
            (Some("u-1"), Some(vec!["hr_manager".into(), "employee".into()]))
        );
        let id = auth(json!({"role": "r", "tenant_id": t, "tenant_role": "teacher"})).unwrap();
        assert_eq!((id.user, id.tenant_roles), (None, Some(vec!["teacher".to_string()])));
        for bad in [json!(7), json!(["a", 1]), json!({"a": 1})] {
            let err = auth(json!({"role": "r", "tenant_id": t, "tenant_role": bad})).unwrap_err();
            assert!(matches!(&err, ApiError::MalformedClaim { claim, .. } if claim == "tenant_role"), "{bad}: {err:?}");
        }
    }

    #[test]
    fn a_tenant_role_without_a_tenant_claim_is_refused() {
        for claims in [
            json!({"role": "tenant_member"}),
            json!({"role": "tenant_member", "tenantid": Uuid::new_v4()}),
            json!({"role": "tenant_member", "tenant_id": null}),
        ] {
            let err = auth(claims.clone()).unwrap_err();
            assert!(
                matches!(&err, ApiError::MissingTenantClaim { claim, needed_by } if claim == "tenant_id" && needed_by.contains("tenant_member")),
                "{claims}: {err:?}"
            );
        }
        let err = auth(json!({"role": "platform_admin", "company_id": Uuid::new_v4()})).unwrap_err();
        assert!(matches!(err, ApiError::MissingTenantClaim { needed_by, .. } if needed_by.contains("company_id")));
    }

    #[test]
    fn some_roles_need_no_tenant() {
        for role in ["platform_admin", "tenancy_analytics", "web_anon"] {
            let id = auth(json!({"role": role})).unwrap();
            assert_eq!((id.role.as_str(), id.tenant), (role, None));
        }
        assert_eq!(auth(json!({"sub": "someone"})).unwrap().role, "web_anon", "no role: the anonymous one");
        let mut only_analysts = config();
        only_analysts.tenantless_roles = vec!["tenancy_analytics".into()];
        let jwt = token(json!({"role": "platform_admin"}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        let err = authenticate(&only_analysts, Some(&format!("Bearer {jwt}"))).unwrap_err();
        assert!(matches!(err, ApiError::MissingTenantClaim { .. }), "{err:?}");
    }

    #[test]
    fn without_tenant_tables_no_role_needs_a_tenant() {
        let jwt = token(json!({"role": "tenant_member"}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        let id = authenticate_in(&config(), Some(&format!("Bearer {jwt}")), TenantTables::Absent).unwrap();
        assert_eq!((id.role.as_str(), id.tenant), ("tenant_member", None));
    }

    #[test]
    fn a_role_that_is_not_a_string_is_named_by_its_json() {
        let t = Uuid::new_v4();
        assert_eq!(auth(json!({"role": 5, "tenant_id": t})).unwrap().role, "5");
    }

    #[test]
    fn no_token_is_the_anonymous_role() {
        let id = authenticate(&config(), None).unwrap();
        assert_eq!((id.role.as_str(), id.tenant), ("web_anon", None));
    }

    #[test]
    fn forged_expired_and_malformed_tokens_are_refused() {
        let c = config();
        let t = Uuid::new_v4();
        let wrong_key = token(json!({"role": "x", "tenant_id": t}), "another-secret-another-secret-1234");
        let expired =
            token(json!({"role": "x", "tenant_id": t, "exp": now() - 120}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        let not_yet =
            token(json!({"role": "x", "tenant_id": t, "nbf": now() + 120}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        let never = token(json!({"role": "x", "tenant_id": t, "exp": "never"}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        // alg "none": header {"alg":"none","typ":"JWT"}, payload {"role":"postgres"}, no signature.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoicG9zdGdyZXMifQ.";
        for (bad, why) in [
            (wrong_key.as_str(), JwtError::NoKey("None of the keys was able to decode the JWT".into())),
            (expired.as_str(), JwtError::Expired),
            (not_yet.as_str(), JwtError::NotYetValid),
            (never.as_str(), JwtError::NotNumber("exp")),
            (none, JwtError::BadAlgorithm("JWT is unsecured but expected 'alg' was not 'none'".into())),
            ("garbage", JwtError::Parts(1)),
        ] {
            let err = authenticate(&c, Some(&format!("Bearer {bad}"))).unwrap_err();
            assert!(matches!(&err, ApiError::Jwt(e) if *e == why), "{bad}: {err:?}");
        }
        for (header, why) in
            [("Basic abc", JwtError::NotBearer), ("Bearer", JwtError::Empty), ("bearer  ", JwtError::Empty)]
        {
            assert!(matches!(authenticate(&c, Some(header)).unwrap_err(), ApiError::Jwt(e) if e == why), "{header}");
        }
        let bad_tenant = token(json!({"role": "x", "tenant_id": "acme"}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        let err = authenticate(&c, Some(&format!("Bearer {bad_tenant}"))).unwrap_err();
        assert!(matches!(err, ApiError::MalformedClaim { claim, .. } if claim == "tenant_id"));
        let mut keyless = config();
        keyless.jwt_secret = None;
        let err = authenticate(&keyless, Some(&format!("Bearer {expired}"))).unwrap_err();
        assert!(matches!(err, ApiError::Jwt(JwtError::SecretMissing)));
    }

    #[test]
    fn subdomains_name_a_slug_under_the_base_domain() {
        let base = Some("tenancy.test");
        assert_eq!(subdomain(Some("acme.tenancy.test:3000"), base).as_deref(), Some("acme"));
        assert_eq!(subdomain(Some("ACME.Tenancy.Test"), base).as_deref(), Some("acme"));
        for other in ["tenancy.test", "a.b.tenancy.test", "acme.elsewhere.test", "xtenancy.test"] {
            assert_eq!(subdomain(Some(other), base), None, "{other}");
        }
        assert_eq!(subdomain(Some("acme.tenancy.test"), None), None);
    }

    #[test]
    fn the_tenant_header_may_only_repeat_the_token() {
        let t = Uuid::new_v4();
        let id = Identity {
            role: "r".into(),
            claims: json!({}),
            authenticated: Authenticated::Yes,
            tenant: Some(t),
            company: None,
            user: None,
            tenant_roles: None,
        };
        assert!(check_tenant_header(&id, Some(&t.to_string())).is_ok());
        assert!(matches!(check_tenant_header(&id, Some(&Uuid::new_v4().to_string())), Err(ApiError::TenantMismatch)));
        assert!(matches!(check_tenant_header(&id, Some("acme")), Err(ApiError::TenantMismatch)));
        assert!(check_tenant_header(&id, None).is_ok());
    }
}
