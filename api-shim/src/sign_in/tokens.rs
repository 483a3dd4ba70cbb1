//! What sign-in hands out: access tokens (ES256 JWTs with exactly the claims the REST server
//! and `tenancy.set_user` read) and opaque refresh tokens, of which only a SHA-256 digest is
//! stored.
use crate::config::{Config, SignInConfig};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::time::SystemTime;
use tokio_postgres::Row;
use uuid::Uuid;

/// The audience of issued tokens: PGRST_JWT_AUD when set (so the REST server accepts them),
/// else GoTrue's `authenticated`.
pub fn audience(config: &Config) -> String {
    config.jwt_aud.clone().unwrap_or_else(|| "authenticated".into())
}

/// What the database granted a session (`auth.sign_in`, `auth.refresh`, `auth.session`).
pub struct Grant {
    pub session_id: String,
    /// The role of a platform account's session (`platform_admin`, V16); none for a tenant
    /// member's, whose role is TENANCY_AUTH_ROLE.
    pub role: Option<String>,
    pub tenant: Value,
    pub company: Value,
    pub tenant_roles: Value,
    pub user: Value,
}

impl Grant {
    pub fn from_json(mut grant: Value) -> Grant {
        let mut take = |name: &str| grant.get_mut(name).map(Value::take).unwrap_or(Value::Null);
        Grant {
            session_id: take("session_id").as_str().unwrap_or_default().to_string(),
            role: take("role").as_str().map(str::to_string),
            tenant: take("tenant_id"),
            company: take("company_id"),
            tenant_roles: take("tenant_roles"),
            user: take("user"),
        }
    }

    /// The grant `auth.refresh` answers in columns (V19): GoTrue's user object is written here,
    /// in the shape the database gives the other grants.
    pub fn from_row(row: &Row) -> Grant {
        let uuid = |name: &str| row.get::<_, Option<Uuid>>(name).map_or(Value::Null, |id| id.to_string().into());
        let time = |name: &str| row.get::<_, Option<SystemTime>>(name).map_or(Value::Null, |t| json_time(t).into());
        let tenants: Vec<String> = row.get::<_, Vec<Uuid>>("tenants").iter().map(Uuid::to_string).collect();
        Grant {
            session_id: row.get::<_, Uuid>("session_id").to_string(),
            role: row.get("role"),
            tenant: uuid("tenant_id"),
            company: uuid("company_id"),
            tenant_roles: row.get::<_, Vec<String>>("tenant_roles").into(),
            user: json!({
                "id": uuid("user_id"), "email": row.get::<_, String>("email"),
                "user_metadata": row.get::<_, Value>("user_metadata"), "created_at": time("created_at"),
                "updated_at": time("updated_at"), "last_sign_in_at": time("last_sign_in_at"), "tenants": tenants,
            }),
        }
    }

    pub fn user_id(&self) -> &str {
        self.user["id"].as_str().unwrap_or_default()
    }

    pub fn role<'a>(&'a self, sign_in: &'a SignInConfig) -> &'a str {
        self.role.as_deref().unwrap_or(&sign_in.role)
    }
}

/// A time as PostgreSQL writes a `timestamptz` in JSON in UTC (`2026-12-06T05:48:33.084863+00:00`,
/// trailing zeros of the fraction dropped), so a refresh's user object reads like a sign-in's.
fn json_time(time: SystemTime) -> String {
    let rfc3339 = humantime::format_rfc3339_micros(time).to_string();
    let (seconds, fraction) = rfc3339.trim_end_matches('Z').split_once('.').unwrap_or((&rfc3339, ""));
    let fraction = fraction.trim_end_matches('0');
    match fraction.is_empty() {
        true => format!("{seconds}+00:00"),
        false => format!("{seconds}.{fraction}+00:00"),
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The access token of a grant, and when it expires.
pub fn access_token(config: &Config, sign_in: &SignInConfig, grant: &Grant) -> (String, u64) {
    let iat = now();
    let exp = iat + sign_in.access_token_seconds;
    let mut claims = Map::new();
    claims.insert("sub".into(), grant.user_id().into());
    claims.insert("aud".into(), audience(config).into());
    claims.insert("exp".into(), exp.into());
    claims.insert("iat".into(), iat.into());
    claims.insert("email".into(), grant.user["email"].clone());
    claims.insert("session_id".into(), grant.session_id.clone().into());
    claims.insert("is_anonymous".into(), false.into());
    // A platform account's session is in no tenant: its token names none.
    if !grant.tenant.is_null() {
        claims.insert(config.tenant_claim.clone(), grant.tenant.clone());
        claims.insert(config.company_claim.clone(), grant.company.clone());
        claims.insert(config.tenant_role_claim.clone(), grant.tenant_roles.clone());
    }
    set_role(&mut claims, &config.role_claim_path, grant.role(sign_in));
    (sign_in.keys.sign(&serde_json::to_vec(&claims).expect("claims serialize")), exp)
}

/// The role at PGRST_JWT_ROLE_CLAIM_KEY's path (`role`, or e.g. `app.role`).
fn set_role(claims: &mut Map<String, Value>, path: &[String], role: &str) {
    let (last, parents) = path.split_last().expect("the configuration names a role claim");
    let mut at = claims;
    for key in parents {
        at = at.entry(key.clone()).or_insert_with(|| json!({})).as_object_mut().expect("an object we made");
    }
    at.insert(last.clone(), role.into());
}

/// A fresh secret for a refresh token or a mailed code (256 bits, base64url) and its digest.
pub fn secret() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let digest = digest(&secret);
    (secret, digest)
}

pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// GoTrue's user object, with the tenant the session is for in `app_metadata`.
pub fn user_json(config: &Config, sign_in: &SignInConfig, grant: &Grant) -> Value {
    let u = &grant.user;
    json!({
        "id": u["id"], "aud": audience(config), "role": grant.role(sign_in), "email": u["email"],
        "email_confirmed_at": u["created_at"], "confirmed_at": u["created_at"], "phone": "",
        "last_sign_in_at": u["last_sign_in_at"],
        "app_metadata": {"provider": "email", "providers": ["email"], "tenant_id": grant.tenant,
                         "company_id": grant.company, "tenant_roles": grant.tenant_roles, "tenants": u["tenants"]},
        "user_metadata": u["user_metadata"], "identities": [],
        "created_at": u["created_at"], "updated_at": u["updated_at"], "is_anonymous": false,
    })
}

/// GoTrue's session object: what auth-js stores and refreshes.
pub fn session_json(config: &Config, sign_in: &SignInConfig, grant: &Grant, refresh_token: &str) -> Value {
    let (access_token, expires_at) = access_token(config, sign_in, grant);
    json!({
        "access_token": access_token, "token_type": "bearer", "expires_in": sign_in.access_token_seconds,
        "expires_at": expires_at, "refresh_token": refresh_token, "user": user_json(config, sign_in, grant),
    })
}
