//! The REST server, started in the test's own runtime on a free port, configured as the dev
//! stack runs it: login role `authenticator`, anonymous role `web_anon`, every demo schema;
//! and its admin port, on another free port.
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

pub const SECRET: &str = "tenancy-tests-secret-at-least-32-bytes!";
pub const SCHEMAS: &str = "hrms,core,payroll,chat,pipeline,school,library,events,attendance,api,platform,analytics";

pub struct Api {
    pub url: String,
    /// The admin port's (`/live`, `/ready`, `/metrics`), which the tests always serve.
    pub admin_url: String,
}

impl Api {
    pub fn client(&self, token: Option<&str>) -> postgrest::Postgrest {
        let client = postgrest::Postgrest::new(&self.url);
        match token {
            Some(t) => client.insert_header("Authorization", format!("Bearer {t}")),
            None => client,
        }
    }

    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// A plain-HTTP request to the API port as `tenant`'s HR manager (`token`), in `schema`,
    /// named by the profile header PostgREST's clients send for the method: `Accept-Profile`
    /// to read (GET, HEAD), `Content-Profile` to write.
    pub fn as_tenant(
        &self,
        method: reqwest::Method,
        path: &str,
        tenant: Uuid,
        schema: &str,
    ) -> reqwest::RequestBuilder {
        let profile = if matches!(method, reqwest::Method::GET | reqwest::Method::HEAD) {
            "Accept-Profile"
        } else {
            "Content-Profile"
        };
        self.http().request(method, format!("{}{path}", self.url)).bearer_auth(token(tenant)).header(profile, schema)
    }
}

pub async fn start_with(extra: &[(&str, &str)]) -> Api {
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "54329".into());
    let mut vars: HashMap<String, String> = [
        ("PGRST_DB_URI", format!("postgres://authenticator@127.0.0.1:{port}/tenancy")),
        ("PGRST_DB_SCHEMAS", SCHEMAS.to_string()),
        ("PGRST_DB_ANON_ROLE", "web_anon".to_string()),
        ("PGRST_JWT_SECRET", SECRET.to_string()),
        ("PGRST_DB_POOL", "4".to_string()),
        ("TENANCY_MAX_BODY_BYTES", "65536".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    let config = tenancy_api::config::Config::from_vars(&vars).expect("test configuration");
    let state = tenancy_api::app::build_state(config).await.expect("the API starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_url = format!("http://{}", admin.local_addr().unwrap());
    tokio::spawn(tenancy_api::app::serve(listener, state.clone()));
    tokio::spawn(tenancy_api::app::serve_admin(admin, state));
    Api { url, admin_url }
}

pub async fn start() -> Api {
    start_with(&[]).await
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

pub fn sign(claims: Value, secret: &str) -> String {
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// A token for `tenant_member` of `tenant`, an HR manager there, valid for a minute.
pub fn token(tenant: Uuid) -> String {
    sign(
        json!({"role": "tenant_member", "tenant_id": tenant, "sub": "tests", "tenant_role": "hr_manager", "exp": now() + 60}),
        SECRET,
    )
}

pub fn token_with(claims: Value) -> String {
    let mut claims = claims;
    if claims.get("exp").is_none() {
        claims["exp"] = json!(now() + 60);
    }
    sign(claims, SECRET)
}

pub fn expired_token(tenant: Uuid) -> String {
    sign(json!({"role": "tenant_member", "tenant_id": tenant, "exp": now() - 120}), SECRET)
}

/// A response's status and JSON body (panics, showing the body, when it is not JSON).
pub async fn json(response: reqwest::Response) -> (reqwest::StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}")))
}

/// A token for the platform administrator: no tenant.
pub fn platform_token() -> String {
    token_with(json!({"role": "platform_admin"}))
}
