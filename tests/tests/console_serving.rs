//! The console's files at `/console/`: content types, the page's own routes falling back to
//! its index, its content security policy; and a signed-out browser that sees the sign-in
//! screen and nothing else.
use serde_json::json;
use tenancy_e2e::api;
use tenancy_e2e::console::{self, assert_clean, browse};

#[tokio::test]
async fn console_files_are_served_with_their_types_and_the_page_answers_its_own_routes() {
    let server = console::start().await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.api.url)).send();

    let index = get("/console/").await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let policy = index.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    let page = index.text().await.unwrap();
    assert!(page.contains("/console/assets/console.js"), "{page}");

    let script = get("/console/assets/console.js").await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"].to_str().unwrap().contains("javascript"));

    // A route of the page itself (a reload, a bookmark) gets the page.
    let deep = get("/console/tenants/0b9e2c1e-0000-4000-8000-000000000000/show").await.unwrap();
    assert_eq!(deep.status(), 200);
    assert_eq!(deep.text().await.unwrap(), page);

    // A missing asset is not the page.
    assert_eq!(get("/console/assets/missing.js").await.unwrap().status(), 404);
    // The API is unchanged beside it.
    assert_eq!(get("/health").await.unwrap().status(), 200);
}

#[tokio::test]
async fn without_a_console_directory_there_is_no_console() {
    let server = api::start().await;
    let response = reqwest::get(format!("{}/console/", server.url)).await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_signed_out_browser_sees_the_sign_in_screen_and_no_data() {
    let server = console::start().await;
    let out = browse(
        &server,
        json!([
            {"goto": "/console/tenants"},
            {"wait": "form[aria-label='Sign in']"},
            {"text": "h1", "as": "title"},
            {"absent": "table", "as": "no_table"},
            {"screenshot": "sign-in"},
            {"goto": "/console/modules"},
            {"wait": "form[aria-label='Sign in']"},
            {"absent": "table", "as": "no_table_either"},
        ]),
    )
    .await;
    assert_eq!(out["values"]["title"], "Tenancy console");
    assert_eq!(out["values"]["no_table"], true);
    assert_eq!(out["values"]["no_table_either"], true);
    // Not one call to the API was answered with data.
    let answered: Vec<_> = out["responses"].as_array().unwrap().iter().filter(|r| r["status"] == 200).collect();
    assert!(answered.is_empty(), "{answered:?}");
    assert_clean(&out);
}
