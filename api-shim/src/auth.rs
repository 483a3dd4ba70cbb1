//! Who is asking: the bearer token checked with `jsonwebtoken` (HS256; exp and nbf with 30 s
//! of leeway; aud when configured), the role from PostgREST's role claim path, the tenant
//! and company from tenancy's claims. No token: the anonymous role, if there is one.
use crate::config::{Config, JwtSecret};
use crate::error::{ApiError, Authenticated};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Identity {
    pub role: String,
    /// The token's claims as a JSON object (`{}` for anonymous requests).
    pub claims: Value,
    pub authenticated: Authenticated,
    pub tenant: Option<Uuid>,
    pub company: Option<Uuid>,
    /// Who acts within the tenant, and the tenant roles the token claims for them.
    pub user: Option<String>,
    pub tenant_roles: Option<Vec<String>>,
}

const LEEWAY_SECONDS: u64 = 30;

pub fn authenticate(config: &Config, authorization: Option<&str>) -> Result<Identity, ApiError> {
    let Some(header) = authorization else {
        let role = config.anon_role.clone().ok_or(ApiError::AnonymousDisabled)?;
        return Ok(Identity {
            role,
            claims: Value::Object(Default::default()),
            authenticated: Authenticated::No,
            tenant: None,
            company: None,
            user: None,
            tenant_roles: None,
        });
    };
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| ApiError::Jwt("The Authorization header must be \"Bearer <token>\"".into()))?;
    let secret = config.jwt_secret.as_ref().ok_or_else(|| ApiError::Jwt("This server accepts no tokens".into()))?;
    let (key, algorithms) = verification_key(secret, token)?;

    let mut validation = Validation::new(algorithms[0]);
    validation.algorithms = algorithms;
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims::<&str>(&[]);
    match &config.jwt_aud {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    let claims =
        decode::<Value>(token, &key, &validation).map_err(|e| ApiError::Jwt(format!("JWT rejected: {e}")))?.claims;
    if !claims.is_object() {
        return Err(ApiError::Jwt("JWT claims must be a JSON object".into()));
    }

    let role = config
        .role_claim_path
        .iter()
        .try_fold(&claims, |v, key| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| config.anon_role.clone())
        .ok_or(ApiError::AnonymousDisabled)?;
    let uuid_claim = |name: &str| -> Result<Option<Uuid>, ApiError> {
        match claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                Uuid::parse_str(s).map(Some).map_err(|_| ApiError::Jwt(format!("The \"{name}\" claim is not a UUID")))
            }
            Some(_) => Err(ApiError::Jwt(format!("The \"{name}\" claim is not a UUID"))),
        }
    };
    let tenant = uuid_claim(&config.tenant_claim)?;
    let company = uuid_claim(&config.company_claim)?;
    if company.is_some() && tenant.is_none() {
        return Err(ApiError::Jwt(format!(
            "A \"{}\" claim needs a \"{}\" claim",
            config.company_claim, config.tenant_claim
        )));
    }
    let user = match claims.get(&config.user_claim) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let not_roles =
        || ApiError::Jwt(format!("The \"{}\" claim must be a string or an array of strings", config.tenant_role_claim));
    let tenant_roles = match claims.get(&config.tenant_role_claim) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(vec![s.clone()]),
        Some(Value::Array(items)) => {
            Some(items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(not_roles)).collect::<Result<_, _>>()?)
        }
        Some(_) => return Err(not_roles()),
    };
    Ok(Identity { role, claims, authenticated: Authenticated::Yes, tenant, company, user, tenant_roles })
}

/// The key that must have signed `token`, and the algorithms that key allows: the secret
/// (HS256), or the JWK named by the token's `kid` (the set's only key when there is no kid),
/// with the algorithms of its key type, so an HS256 token can never pass as signed by a
/// public key.
fn verification_key(secret: &JwtSecret, token: &str) -> Result<(DecodingKey, Vec<Algorithm>), ApiError> {
    match secret {
        JwtSecret::Hs256(secret) => Ok((DecodingKey::from_secret(secret.as_bytes()), vec![Algorithm::HS256])),
        JwtSecret::Jwks(set) => {
            let header = decode_header(token).map_err(|e| ApiError::Jwt(format!("JWT rejected: {e}")))?;
            let jwk: &Jwk = match &header.kid {
                Some(kid) => set.find(kid),
                None if set.keys.len() == 1 => set.keys.first(),
                None => None,
            }
            .ok_or_else(|| ApiError::Jwt("JWT rejected: no key for its kid".into()))?;
            let algorithms = match jwk.algorithm {
                AlgorithmParameters::RSA(_) => vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
                AlgorithmParameters::EllipticCurve(_) => vec![Algorithm::ES256, Algorithm::ES384],
                AlgorithmParameters::OctetKeyPair(_) => vec![Algorithm::EdDSA],
                AlgorithmParameters::OctetKey(_) => vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| ApiError::Jwt(format!("JWT rejected: {e}")))?;
            Ok((key, algorithms))
        }
    }
}

/// A token for `role` acting for `tenant`, valid for `seconds`: for the dev stack's examples
/// and for operators who need one by hand (`tenancy-api token`).
pub fn issue_token(secret: &str, role: &str, tenant: Option<Uuid>, seconds: u64) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) + seconds;
    let claims = serde_json::json!({"role": role, "tenant_id": tenant, "exp": exp});
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

    #[test]
    fn the_user_and_the_tenant_roles_come_from_their_claims() {
        let secret = "s3cret-s3cret-s3cret-s3cret-s3cret";
        let auth = |claims: Value| authenticate(&config(), Some(&format!("Bearer {}", token(claims, secret))));
        let id = auth(json!({"role": "r", "sub": "u-1", "tenant_role": ["hr_manager", "employee"]})).unwrap();
        assert_eq!(
            (id.user.as_deref(), id.tenant_roles),
            (Some("u-1"), Some(vec!["hr_manager".into(), "employee".into()]))
        );
        let id = auth(json!({"role": "r", "tenant_role": "teacher"})).unwrap();
        assert_eq!((id.user, id.tenant_roles), (None, Some(vec!["teacher".to_string()])));
        for bad in [json!(7), json!(["a", 1]), json!({"a": 1})] {
            assert!(matches!(auth(json!({"role": "r", "tenant_role": bad})), Err(ApiError::Jwt(_))), "{bad}");
        }
    }

    #[test]
    fn no_token_is_the_anonymous_role() {
        let id = authenticate(&config(), None).unwrap();
        assert_eq!((id.role.as_str(), id.tenant), ("web_anon", None));
    }

    #[test]
    fn forged_expired_and_malformed_tokens_are_refused() {
        let c = config();
        let wrong_key = token(json!({"role": "x"}), "another-secret-another-secret-1234");
        let expired = token(json!({"role": "x", "exp": now() - 120}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        let not_yet = token(json!({"role": "x", "nbf": now() + 120}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        // alg "none": header {"alg":"none","typ":"JWT"}, payload {"role":"postgres"}, no signature.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoicG9zdGdyZXMifQ.";
        for bad in [wrong_key.as_str(), expired.as_str(), not_yet.as_str(), none, "garbage"] {
            let err = authenticate(&c, Some(&format!("Bearer {bad}"))).unwrap_err();
            assert!(matches!(err, ApiError::Jwt(_)), "{bad}: {err:?}");
        }
        assert!(matches!(authenticate(&c, Some("Basic abc")).unwrap_err(), ApiError::Jwt(_)));
        let bad_tenant = token(json!({"role": "x", "tenant_id": "acme"}), "s3cret-s3cret-s3cret-s3cret-s3cret");
        assert!(matches!(authenticate(&c, Some(&format!("Bearer {bad_tenant}"))).unwrap_err(), ApiError::Jwt(_)));
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
