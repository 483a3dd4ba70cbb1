//! Sign-in's keys: the JWKS verifies issued tokens, a rotation keeps older tokens valid on REST
//! while the new key signs, PGRST_JWT_SECRET's HS256 tokens keep working beside them; and the
//! settings and session lists a client reads.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_api::sign_in::keys::SigningKeys;
use tenancy_e2e::api::{self, json};
use tenancy_e2e::node::drive;
use tenancy_e2e::sign_in::{self, claims, member, new_email, SignInApi};
use tenancy_e2e::*;

async fn sign_in_as(server: &SignInApi, email: &str) -> Value {
    let body = json!({"email": email, "password": "a good password"});
    let response = server.api.http().post(format!("{}/token?grant_type=password", server.auth_url)).json(&body);
    let (status, session) = json(response.send().await.unwrap()).await;
    assert_eq!(status, 200, "{session}");
    session
}

async fn get(server: &SignInApi, url: &str, token: &str) -> (StatusCode, Value) {
    json(server.api.http().get(url).bearer_auth(token).header("Accept-Profile", "hrms").send().await.unwrap()).await
}

#[tokio::test]
async fn the_jwks_verifies_tokens_and_a_rotation_keeps_old_ones_valid() {
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, "a good password", &["employee"]).await;
    let keys_file = sign_in::key_file();
    let before = sign_in::start_with(keys_file.clone(), &[]).await;
    let old = sign_in_as(&before, &email).await;
    let old_token = old["access_token"].as_str().unwrap();

    // Another service verifies with the published set alone.
    let (status, jwks) =
        json(before.api.http().get(format!("{}/.well-known/jwks.json", before.auth_url)).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(jwks["keys"][0].get("d").is_none(), "no private part published: {jwks}");
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let kid = jsonwebtoken::decode_header(old_token).unwrap().kid.unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(&kid).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["authenticated"]);
    let verified = jsonwebtoken::decode::<Value>(old_token, &key, &validation).unwrap();
    assert_eq!(verified.claims["tenant_id"], json!(t.id));

    // auth-js's getClaims verifies the token with the published JWKS (ES256, WebCrypto).
    let out = drive(
        "auth_steps.mjs",
        &json!({"url": before.auth_url, "steps": [
            {"op": "signInWithPassword", "email": email, "password": "a good password"}, {"op": "getClaims"}]}),
    )
    .await;
    assert!(out[1]["error"].is_null(), "{}", out[1]);
    assert_eq!(
        (&out[1]["data"]["claims"]["tenant_id"], &out[1]["data"]["header"]["alg"]),
        (&json!(t.id), &json!("ES256"))
    );

    SigningKeys::read(&keys_file).unwrap().rotate(3600).write(&keys_file).unwrap();
    let after = sign_in::start_with(keys_file.clone(), &[]).await;
    let new = sign_in_as(&after, &email).await;
    let new_kid = jsonwebtoken::decode_header(new["access_token"].as_str().unwrap()).unwrap().kid.unwrap();
    assert_ne!(new_kid, kid, "the new key signs");
    let employees = format!("{}/employees", after.api.url);
    assert_eq!(get(&after, &employees, old_token).await.0, 200, "a token of the retired key still works");
    assert_eq!(get(&after, &employees, new["access_token"].as_str().unwrap()).await.0, 200);
    // HS256 tokens of PGRST_JWT_SECRET work beside them.
    assert_eq!(get(&after, &employees, &api::token(t.id)).await.0, 200);

    // Once the retired key is dropped, its tokens are refused.
    SigningKeys::read(&keys_file).unwrap().rotate(0).write(&keys_file).unwrap();
    let later = sign_in::start_with(keys_file, &[]).await;
    let (status, _) = get(&later, &format!("{}/employees", later.api.url), old_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn settings_and_session_lists() {
    let server = sign_in::start().await;
    let (status, settings) =
        json(server.api.http().get(format!("{}/settings", server.auth_url)).send().await.unwrap()).await;
    assert_eq!(
        (status.as_u16(), &settings["external"]["email"], &settings["mail_enabled"]),
        (200, &json!(true), &json!(true))
    );

    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let (admin, employee) = (new_email(), new_email());
    member(&db, t.id, &admin, "a good password", &["tenant_admin"]).await;
    member(&db, t.id, &employee, "a good password", &["employee"]).await;
    let admin_session = sign_in_as(&server, &admin).await;
    let employee_session = sign_in_as(&server, &employee).await;
    sign_in_as(&server, &employee).await;
    let token = |s: &Value| s["access_token"].as_str().unwrap().to_string();

    let (status, mine) = get(&server, &format!("{}/sessions", server.auth_url), &token(&employee_session)).await;
    assert_eq!((status.as_u16(), mine.as_array().unwrap().len()), (200, 2), "{mine}");
    assert_eq!(mine.as_array().unwrap().iter().filter(|s| s["current"] == json!(true)).count(), 1);

    let tenant_sessions = format!("{}/tenant/sessions", server.auth_url);
    let (status, body) = get(&server, &tenant_sessions, &token(&employee_session)).await;
    assert_eq!((status.as_u16(), &body["error_code"]), (403, &json!("not_admin")));
    let (status, all) = get(&server, &tenant_sessions, &token(&admin_session)).await;
    assert_eq!((status.as_u16(), all.as_array().unwrap().len()), (200, 3), "{all}");

    // The tenant admin ends an employee's session.
    let target = claims(&token(&employee_session))["session_id"].as_str().unwrap().to_string();
    let revoke =
        server.api.http().delete(format!("{}/sessions/{target}", server.auth_url)).bearer_auth(token(&admin_session));
    assert_eq!(revoke.send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let (status, _) = get(&server, &format!("{}/user", server.auth_url), &token(&employee_session)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
