//! The console keeps its session alive with the refresh token, as auth-js does: before the
//! access token expires while the page is open, and before the first call of a page opened
//! with an expired one; a refused refresh signs it out and says why. The server issues
//! three-second access tokens here, so expiry is real and quick.
use serde_json::{json, Value};
use tenancy_e2e::console::{self, assert_clean, browse, sign_in_platform, then};
use tenancy_e2e::sign_in::{claims, SignInApi};

const LIFETIME: &str = "3";
const REFRESH: &str = "/auth/v1/token?grant_type=refresh_token";

/// A page expression: the console's access token and the page's clock, in seconds.
const TOKEN_NOW: &str =
    "({token: JSON.parse(sessionStorage.getItem('tenancy.console.session')).token, now: Date.now() / 1000})";

fn exp(seen: &Value) -> f64 {
    claims(seen["token"].as_str().unwrap())["exp"].as_f64().unwrap()
}

fn calls<'a>(out: &'a Value, path: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    out["responses"].as_array().unwrap().iter().filter(move |r| r["path"].as_str().unwrap().starts_with(path))
}

async fn stats_status(server: &SignInApi, token: &str) -> u16 {
    let request = server.api.http().get(format!("{}/stats", server.api.url)).bearer_auth(token);
    request.header("Accept-Profile", "platform").send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_console_refreshes_before_expiry_and_after_an_expired_token() {
    let server = console::start_with(&[("TENANCY_AUTH_ACCESS_TOKEN_SECONDS", LIFETIME)]).await;
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"eval": TOKEN_NOW, "as": "signed_in"},
                // The page stays open past the first token's life: refreshed before it expires.
                {"sleep": 4000},
                {"eval": TOKEN_NOW, "as": "kept_alive"},
                {"click": "a::-p-text(Overview)"},
                {"wait": "[aria-label='Tenants by plan']"},
                // The page is left, the token expires, the page is opened again.
                {"eval": TOKEN_NOW, "as": "left"},
                {"goto": "about:blank"},
                {"sleep": 4000},
                {"goto": "/console/tenants"},
                {"wait": "td.column-slug"},
                {"eval": TOKEN_NOW, "as": "back"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let v = &out["values"];
    assert!(exp(&v["kept_alive"]) > v["kept_alive"]["now"].as_f64().unwrap(), "live while the page was open: {v}");
    assert!(exp(&v["kept_alive"]) > exp(&v["signed_in"]), "a newer token: {v}");
    assert!(exp(&v["left"]) < v["back"]["now"].as_f64().unwrap(), "the token had expired when the page came back");
    assert!(exp(&v["back"]) > v["back"]["now"].as_f64().unwrap(), "and was refreshed before the page's calls: {v}");
    let refreshes: Vec<&Value> = calls(&out, REFRESH).collect();
    assert!(refreshes.len() >= 2 && refreshes.iter().all(|r| r["status"] == 200), "{}", out["responses"]);
    // Back on the page, its first call waited for the refresh (the server would still take the
    // expired token for its 30 s of leeway: the order is what shows it).
    let responses = out["responses"].as_array().unwrap();
    let path = |r: &Value| r["path"].as_str().unwrap().to_string();
    let last_before_leaving = responses.iter().rposition(|r| path(r).starts_with("/stats")).unwrap();
    let back = &responses[last_before_leaving + 1..];
    let first_call = back.iter().position(|r| path(r).starts_with("/tenants")).unwrap();
    assert!(back[..first_call].iter().any(|r| path(r) == REFRESH && r["status"] == 200), "{}", out["responses"]);
    assert_eq!(stats_status(&server, v["back"]["token"].as_str().unwrap()).await, 200);
}

#[tokio::test]
async fn a_refused_refresh_signs_the_console_out_and_says_why() {
    let server = console::start_with(&[("TENANCY_AUTH_ACCESS_TOKEN_SECONDS", LIFETIME)]).await;
    // Signed out everywhere from elsewhere: this tab's refresh token is dead too.
    let sign_out_everywhere = "fetch('/auth/v1/logout?scope=global', {method: 'POST', headers: {Authorization: 'Bearer ' + \
                               JSON.parse(sessionStorage.getItem('tenancy.console.session')).token}}).then(r => r.status)";
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"eval": sign_out_everywhere, "as": "signed_out"},
                {"wait": "form[aria-label='Sign in']"},
                {"text": ".session-ended", "as": "why"},
                {"eval": "sessionStorage.getItem('tenancy.console.session')", "as": "kept"},
                {"goto": "/console/tenants"},
                {"wait": "form[aria-label='Sign in']"},
                {"absent": "td.column-slug", "as": "no_list"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let v = &out["values"];
    assert_eq!(v["signed_out"], 204);
    let why = v["why"].as_str().unwrap();
    assert!(why.starts_with("Your session has ended") && why.contains("does not exist"), "{why}");
    assert_eq!((&v["kept"], &v["no_list"]), (&Value::Null, &json!(true)));
    let refreshes: Vec<&Value> = calls(&out, REFRESH).collect();
    assert_eq!(refreshes.last().unwrap()["status"], 403, "{}", out["responses"]);
}
