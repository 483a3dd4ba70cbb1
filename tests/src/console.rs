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
    let dist = dist_dir().display().to_string();
    sign_in::start_with(sign_in::key_file(), &[("TENANCY_CONSOLE_DIR", dist.as_str())]).await
}

/// What the browser saw running `steps` against `server`: `values` the steps read, `responses`
/// (method, path, status of every API call), `foreign` (requests elsewhere), `errors`.
pub async fn browse(server: &SignInApi, steps: Value) -> Value {
    let screenshots = repo().join("target").join("console-screenshots");
    drive("console_steps.mjs", &json!({"url": server.api.url, "screenshots": screenshots, "steps": steps})).await
}

/// The steps that sign the platform administrator in with `token`, until the tenants list shows.
pub fn sign_in_platform(token: &str) -> Value {
    json!([
        {"goto": "/console/"},
        {"click": "#sign-in-platform"},
        {"fill": "textarea[name=token]", "value": token},
        {"click": "button[type=submit]"},
        {"wait": "td.column-slug"},
    ])
}

/// The steps that sign a tenant administrator in with email and password.
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
