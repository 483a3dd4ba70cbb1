//! Sign-in with the unmodified auth-js client (`tests/js/auth_steps.mjs`): sign-up, sign-in,
//! refresh, user update, sign-out, tenant choice and switch, invitation and recovery by mail;
//! and the issued tokens working on REST unchanged.
use serde_json::{json, Value};
use tenancy_e2e::api::json;
use tenancy_e2e::node::drive;
use tenancy_e2e::sign_in::{self, claims, member, new_email};
use tenancy_e2e::*;

/// auth-js's answers to `steps`, with `headers` on every request.
async fn steps(url: &str, headers: Value, steps: Value) -> Vec<Value> {
    let out = drive("auth_steps.mjs", &json!({"url": url, "headers": headers, "steps": steps})).await;
    out.as_array().expect("one answer per step").clone()
}

fn ok(step: &Value) -> &Value {
    assert!(step["error"].is_null(), "{}: {}", step["op"], step["error"]);
    &step["data"]
}

fn failed(step: &Value, status: u64, code: &str) {
    assert_eq!(
        (step["error"]["status"].as_u64(), step["error"]["code"].as_str()),
        (Some(status), Some(code)),
        "{step}"
    );
}

async fn open_tenant(db: &tokio_postgres::Client, default_role: &str) -> Tenant {
    let t = create_tenant(db, "standard", &["hrms"]).await;
    db.execute("SELECT auth.set_signup_mode($1, 'open', $2)", &[&t.id, &default_role]).await.unwrap();
    t
}

#[tokio::test]
async fn auth_js_signs_up_refreshes_updates_signs_out_and_in_and_the_token_writes_over_rest() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let t = open_tenant(&db, "hr_manager").await;
    let email = new_email();
    let out = steps(
        &server.auth_url,
        json!({}),
        json!([
            {"op": "signUp", "email": email, "password": "first password", "data": {"tenant_id": t.id, "name": "Ada"}},
            {"op": "getUser"},
            {"op": "updateUser", "attributes": {"data": {"theme": "dark"}}},
            {"op": "refreshSession"},
            {"op": "updateUser", "attributes": {"password": "second password"}},
            {"op": "signOut", "scope": "local"},
            {"op": "signInWithPassword", "email": email, "password": "first password"},
            {"op": "signInWithPassword", "email": email, "password": "second password"},
        ]),
    )
    .await;

    let signed_up = &ok(&out[0])["session"];
    let user_id = signed_up["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(signed_up["user"]["email"], email.as_str());
    assert_eq!(signed_up["user"]["app_metadata"]["tenant_id"], t.id.to_string());
    assert_eq!(signed_up["user"]["user_metadata"], json!({"name": "Ada"}), "tenant_id chose the tenant, not metadata");
    let c = claims(signed_up["access_token"].as_str().unwrap());
    assert_eq!(
        (&c["sub"], &c["role"], &c["tenant_id"], &c["tenant_role"], &c["email"], &c["aud"]),
        (
            &json!(user_id),
            &json!("tenant_member"),
            &json!(t.id),
            &json!(["hr_manager"]),
            &json!(email),
            &json!("authenticated")
        )
    );
    assert!(c["session_id"].is_string() && c["exp"].as_u64() > c["iat"].as_u64());

    assert_eq!(ok(&out[1])["user"]["id"], user_id.as_str());
    assert_eq!(ok(&out[2])["user"]["user_metadata"], json!({"name": "Ada", "theme": "dark"}));
    let refreshed = &ok(&out[3])["session"];
    assert_ne!(refreshed["refresh_token"], signed_up["refresh_token"], "rotated");
    assert_eq!(claims(refreshed["access_token"].as_str().unwrap())["session_id"], c["session_id"], "same session");
    ok(&out[4]);
    ok(&out[5]);
    failed(&out[6], 400, "invalid_credentials");
    let session = &ok(&out[7])["session"];

    let ended: Option<String> = db
        .query_one(
            "SELECT ended_why FROM auth.sessions WHERE id = $1::text::uuid",
            &[&c["session_id"].as_str().unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ended.as_deref(), Some("signed out (local)"));

    // The access token is a REST token as it is: the tenant, the user and the role's rights.
    let token = session["access_token"].as_str().unwrap();
    let (status, body) = json(
        server
            .api
            .http()
            .post(format!("{}/departments", server.api.url))
            .bearer_auth(token)
            .header("Content-Profile", "hrms")
            .header("Prefer", "return=representation")
            .json(&json!({"name": "Signed-in department"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let rows: i64 = db
        .query_one(
            "SELECT count(*) FROM hrms.departments WHERE tenant_id = $1 AND name = 'Signed-in department'",
            &[&t.id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "written in the token's tenant");
}

#[tokio::test]
async fn a_member_of_two_tenants_picks_one_and_switches_only_to_another_of_theirs() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (a, b, c) = (
        create_tenant(&db, "free", &["hrms"]).await,
        create_tenant(&db, "free", &["hrms"]).await,
        create_tenant(&db, "free", &["hrms"]).await,
    );
    let email = new_email();
    member(&db, a.id, &email, "two tenants pw", &["employee"]).await;
    member(&db, b.id, &email, "two tenants pw", &["hr_manager"]).await;
    let out = steps(
        &server.auth_url,
        json!({"X-Tenant-ID": b.id}),
        json!([
            {"op": "signInWithPassword", "email": email, "password": "two tenants pw"},
            {"op": "tenant", "tenant_id": a.id},
            {"op": "refreshSession"},
            {"op": "tenant", "tenant_id": c.id},
            {"op": "refreshSession"},
        ]),
    )
    .await;
    let tenant_of = |step: &Value| claims(ok(step)["session"]["access_token"].as_str().unwrap());
    let first = tenant_of(&out[0]);
    assert_eq!((&first["tenant_id"], &first["tenant_role"]), (&json!(b.id), &json!(["hr_manager"])));
    let switched = tenant_of(&out[2]);
    assert_eq!((&switched["tenant_id"], &switched["tenant_role"]), (&json!(a.id), &json!(["employee"])));
    failed(&out[4], 403, "tenant_not_allowed");
    // The refused switch spent nothing: the same refresh token still works (auth-js dropped
    // its session on the refusal, so it is sent by hand).
    let http = server.api.http();
    let again = http
        .post(format!("{}/token?grant_type=refresh_token", server.auth_url))
        .json(&json!({"refresh_token": ok(&out[2])["session"]["refresh_token"], "tenant_id": b.id}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(again).await;
    assert_eq!(
        (status.as_u16(), claims(body["access_token"].as_str().unwrap())["tenant_id"].clone()),
        (200, json!(b.id))
    );

    // The password grant for a tenant not theirs: refused, and no session opened there.
    let refused = http
        .post(format!("{}/token?grant_type=password", server.auth_url))
        .json(&json!({"email": email, "password": "two tenants pw", "tenant_id": c.id}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(refused).await;
    assert_eq!((status.as_u16(), &body["error_code"]), (403, &json!("tenant_not_allowed")), "{body}");
    let sessions_in_c: i64 =
        db.query_one("SELECT count(*) FROM auth.sessions WHERE tenant = $1", &[&c.id]).await.unwrap().get(0);
    assert_eq!(sessions_in_c, 0);
}

#[tokio::test]
async fn a_tenant_admin_invites_by_mail_and_the_invitee_accepts_with_auth_js() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let admin = new_email();
    member(&db, t.id, &admin, "admin password", &["tenant_admin"]).await;
    let invitee = new_email();
    let out = steps(
        &server.auth_url,
        json!({}),
        json!([
            {"op": "signInWithPassword", "email": admin, "password": "admin password"},
            {"op": "invite", "email": invitee, "data": {"tenant_role": "hr_manager"}},
        ]),
    )
    .await;
    ok(&out[1]);
    let mail = server.sink.mail_to(&invitee).await;
    assert!(mail.text.contains(&t.slug), "the tenant is named: {}", mail.text);
    let code = mail.code();

    let out = steps(
        &server.auth_url,
        json!({}),
        json!([
            {"op": "verifyOtp", "email": invitee, "token": "not-the-code", "type": "invite"},
            {"op": "verifyOtp", "email": invitee, "token": code, "type": "invite"},
            {"op": "updateUser", "attributes": {"password": "invitee password"}},
            {"op": "signInWithPassword", "email": invitee, "password": "invitee password"},
            {"op": "verifyOtp", "email": invitee, "token": code, "type": "invite"},
        ]),
    )
    .await;
    failed(&out[0], 403, "otp_expired");
    let joined = claims(ok(&out[1])["session"]["access_token"].as_str().unwrap());
    assert_eq!((&joined["tenant_id"], &joined["tenant_role"]), (&json!(t.id), &json!(["hr_manager"])));
    ok(&out[2]);
    ok(&out[3]);
    failed(&out[4], 403, "otp_expired");

    // Someone who is not a tenant admin cannot invite: refused, nothing stored, nothing mailed.
    let employee = new_email();
    member(&db, t.id, &employee, "employee password", &["employee"]).await;
    let stranger = new_email();
    let out = steps(
        &server.auth_url,
        json!({}),
        json!([
            {"op": "signInWithPassword", "email": employee, "password": "employee password"},
            {"op": "invite", "email": stranger},
        ]),
    )
    .await;
    failed(&out[1], 403, "not_admin");
    let codes: i64 =
        db.query_one("SELECT count(*) FROM auth.codes WHERE email = $1", &[&stranger]).await.unwrap().get(0);
    assert_eq!((codes, server.sink.mails_to(&stranger).len()), (0, 0));
}

#[tokio::test]
async fn recovery_by_mail_resets_the_password_and_ends_other_sessions() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, "forgotten password", &["employee"]).await;
    let before = steps(
        &server.auth_url,
        json!({}),
        json!([{"op": "signInWithPassword", "email": email, "password": "forgotten password"}]),
    )
    .await;
    let old_session = claims(ok(&before[0])["session"]["access_token"].as_str().unwrap())["session_id"].clone();
    let unknown = new_email();
    let out = steps(
        &server.auth_url,
        json!({}),
        json!([{"op": "resetPasswordForEmail", "email": email}, {"op": "resetPasswordForEmail", "email": unknown}]),
    )
    .await;
    assert_eq!((ok(&out[0]), ok(&out[1])), (&json!({}), &json!({})), "the same answer, known or not");
    let code = server.sink.mail_to(&email).await.code();
    let out = steps(
        &server.auth_url,
        json!({}),
        json!([
            {"op": "verifyOtp", "email": email, "token": code, "type": "recovery"},
            {"op": "updateUser", "attributes": {"password": "remembered password"}},
            {"op": "signInWithPassword", "email": email, "password": "forgotten password"},
            {"op": "signInWithPassword", "email": email, "password": "remembered password"},
        ]),
    )
    .await;
    ok(&out[0]);
    ok(&out[1]);
    failed(&out[2], 400, "invalid_credentials");
    ok(&out[3]);
    let ended: Option<String> = db
        .query_one("SELECT ended_why FROM auth.sessions WHERE id = $1::text::uuid", &[&old_session.as_str().unwrap()])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ended.as_deref(), Some("password changed"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(server.sink.mails_to(&unknown).is_empty(), "nothing mailed to an unknown address");
}
