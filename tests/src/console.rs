//! The console under test: a server with sign-in and the built console (`console/dist`), and a
//! headless Chromium driven through `tests/js/console_steps.mjs`. Screenshots go to
//! `target/console-screenshots/`.
use crate::node::drive;
use crate::sign_in::{self, SignInApi};
use serde_json::{json, Value};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `console/dist`, which `scripts/up` and `scripts/test` build (`npm ci && npm run build`).
pub fn dist_dir() -> PathBuf {
    let dir = repo().join("console").join("dist");
    assert!(
        dir.join("index.html").is_file(),
        "{} is not built: npm ci --prefix console && npm run --prefix console build",
        dir.display()
    );
    dir
}

pub async fn start() -> SignInApi {
    start_with(&[]).await
}

/// The console's server with more settings (a short token lifetime, real-time's slot, a rate
/// limit).
pub async fn start_with(extra: &[(&str, &str)]) -> SignInApi {
    let dist = dist_dir().display().to_string();
    let mut vars = vec![("TENANCY_CONSOLE_DIR", dist.as_str())];
    vars.extend_from_slice(extra);
    sign_in::start_with(sign_in::key_file(), &vars).await
}

/// What the browser saw running `steps` against `server`: `values` the steps read, `responses`
/// (method, path, status of every API call), `foreign` (requests elsewhere), `errors`.
pub async fn browse(server: &SignInApi, steps: Value) -> Value {
    let screenshots = repo().join("target").join("console-screenshots");
    drive("console_steps.mjs", &json!({"url": server.api.url, "screenshots": screenshots, "steps": steps})).await
}

/// The password of the platform accounts the console tests make.
pub const PLATFORM_PASSWORD: &str = "console platform password";

/// A new platform account (made as the database owner makes one, `auth.add_platform_admin`):
/// its email; its password is `PLATFORM_PASSWORD`.
pub async fn platform_account() -> String {
    let email = sign_in::new_email();
    sign_in::platform_admin(&crate::superuser().await, &email, PLATFORM_PASSWORD).await;
    email
}

/// The steps that sign a platform account in, until the tenants list shows.
pub fn sign_in_platform(email: &str) -> Value {
    then(sign_in_tenant(email, PLATFORM_PASSWORD), json!([{"wait": "td.column-slug"}]))
}

/// The steps that sign an administrator in with email and password (the platform's and the
/// tenants' use the same form).
pub fn sign_in_tenant(email: &str, password: &str) -> Value {
    json!([
        {"goto": "/console/"},
        {"fill": "input[name=email]", "value": email},
        {"fill": "input[name=password]", "value": password},
        {"click": "button[type=submit]"},
    ])
}

/// `first` then `rest`, as one list of steps.
pub fn then(first: Value, rest: Value) -> Value {
    let mut all = first.as_array().cloned().unwrap_or_default();
    all.extend(rest.as_array().cloned().unwrap_or_default());
    Value::Array(all)
}

/// A page expression (for an `eval` step) that calls the API as the page would, with the
/// signed-in token and `headers`, and answers `{status, body}`: tampered requests, and checks
/// between steps.
pub fn page_fetch(method: &str, path: &str, headers: Value, body: Option<Value>) -> String {
    let body = body.map_or("undefined".to_string(), |b| serde_json::to_string(&b.to_string()).unwrap());
    format!(
        "fetch({path}, {{method: {method}, body: {body}, headers: {{...{headers}, 'Content-Type': 'application/json', \
         Authorization: 'Bearer ' + JSON.parse(sessionStorage.getItem('tenancy.console.session')).token}}}})\
         .then(async r => ({{status: r.status, body: await r.text().then(t => t ? JSON.parse(t) : null)}}))",
        path = serde_json::to_string(path).unwrap(),
        method = serde_json::to_string(method).unwrap(),
    )
}

/// The page fetched nothing from another origin and raised no error.
pub fn assert_clean(out: &Value) {
    assert_eq!(out["foreign"], json!([]), "the page fetched from elsewhere");
    assert_eq!(out["errors"], json!([]), "page errors");
}
