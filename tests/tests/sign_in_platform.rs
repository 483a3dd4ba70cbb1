//! Platform accounts (V16): the platform administrator signs in at /auth/v1 like anyone and
//! gets a token of role platform_admin in no tenant. Attacks: sign-up and invitations cannot
//! make one or a token of its role, a tenant member's token is not one, a platform token
//! enters no tenant on REST, and only the database owner makes platform accounts.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::json;
use tenancy_e2e::node::drive;
use tenancy_e2e::sign_in::{self, claims, member, new_email, platform_admin, SignInApi};
use tenancy_e2e::*;
use uuid::Uuid;

const PASSWORD: &str = "a good password";

async fn post(server: &SignInApi, path: &str, body: Value) -> (StatusCode, Value) {
    json(server.api.http().post(format!("{}{path}", server.auth_url)).json(&body).send().await.unwrap()).await
}

async fn password_grant(server: &SignInApi, email: &str, body: Value) -> (StatusCode, Value) {
    let mut body = body;
    body["email"] = email.into();
    body["password"] = PASSWORD.into();
    post(server, "/token?grant_type=password", body).await
}

/// GET `path` of the REST API with `token` in `schema`, and extra headers.
async fn rest(
    server: &SignInApi,
    path: &str,
    token: &str,
    schema: &str,
    headers: &[(&str, String)],
) -> (StatusCode, Value) {
    let mut request =
        server.api.http().get(format!("{}{path}", server.api.url)).bearer_auth(token).header("Accept-Profile", schema);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    json(request.send().await.unwrap()).await
}

fn access_token(session: &Value) -> &str {
    session["access_token"].as_str().unwrap()
}

async fn count(db: &tokio_postgres::Client, sql: &str, email: &str) -> i64 {
    db.query_one(sql, &[&email]).await.unwrap().get(0)
}

const MEMBERSHIPS: &str =
    "SELECT count(*) FROM auth.memberships m JOIN auth.identities i ON i.id = m.identity_id WHERE i.email = $1";
const PLATFORM_ACCOUNTS: &str =
    "SELECT count(*) FROM auth.platform_admins p JOIN auth.identities i ON i.id = p.identity_id WHERE i.email = $1";
const SESSIONS: &str =
    "SELECT count(*) FROM auth.sessions s JOIN auth.identities i ON i.id = s.identity_id WHERE i.email = $1";

/// A new platform account, signed in: its email, id and session.
async fn signed_in_platform_admin(server: &SignInApi, db: &tokio_postgres::Client) -> (String, Uuid, Value) {
    let email = new_email();
    let id = platform_admin(db, &email, PASSWORD).await;
    let (status, session) = password_grant(server, &email, json!({})).await;
    assert_eq!(status, 200, "{session}");
    (email, id, session)
}

#[tokio::test]
async fn a_platform_account_signs_in_as_platform_admin_in_no_tenant_and_refreshes() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (email, id, session) = signed_in_platform_admin(&server, &db).await;
    let token = claims(access_token(&session));
    assert_eq!((&token["role"], &token["sub"], &token["email"]), (&json!("platform_admin"), &json!(id), &json!(email)));
    for tenant_claim in ["tenant_id", "company_id", "tenant_role"] {
        assert!(token.get(tenant_claim).is_none(), "{tenant_claim} in {token}");
    }
    assert_eq!(session["user"]["role"], "platform_admin");

    let (status, stats) = rest(&server, "/stats", access_token(&session), "platform", &[]).await;
    assert_eq!(status, 200, "{stats}");
    assert!(stats[0]["tenants"].as_i64().unwrap() > 0);

    let (status, refreshed) =
        post(&server, "/token?grant_type=refresh_token", json!({"refresh_token": session["refresh_token"]})).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(claims(access_token(&refreshed))["role"], "platform_admin");
    assert!(claims(access_token(&refreshed)).get("tenant_id").is_none());
    let user = server.api.http().get(format!("{}/user", server.auth_url)).bearer_auth(access_token(&refreshed));
    let (status, user) = json(user.send().await.unwrap()).await;
    assert_eq!((status, &user["email"], &user["role"]), (StatusCode::OK, &json!(email), &json!("platform_admin")));
}

#[tokio::test]
async fn auth_js_signs_a_platform_account_in_refreshes_and_signs_out() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let email = new_email();
    platform_admin(&db, &email, PASSWORD).await;
    let steps = json!([
        {"op": "signInWithPassword", "email": email, "password": PASSWORD},
        {"op": "refreshSession"},
        {"op": "getUser"},
        {"op": "signOut", "scope": "local"},
    ]);
    let out = drive("auth_steps.mjs", &json!({"url": server.auth_url, "steps": steps})).await;
    let answers = out.as_array().unwrap();
    for answer in answers {
        assert!(answer["error"].is_null(), "{answer}");
    }
    let refreshed = &answers[1]["data"]["session"];
    assert_eq!(claims(access_token(refreshed))["role"], "platform_admin");
    assert_eq!(
        (&answers[2]["data"]["user"]["email"], &answers[2]["data"]["user"]["role"]),
        (&json!(email), &json!("platform_admin"))
    );
    // Signed out: its last refresh token is dead; its access token lives until it expires.
    let again = json!({"refresh_token": refreshed["refresh_token"]});
    let (status, body) = post(&server, "/token?grant_type=refresh_token", again).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("session_not_found")), "{body}");
    let (status, body) = rest(&server, "/stats", access_token(refreshed), "platform", &[]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_platform_token_enters_no_tenant_on_rest() {
    let server = sign_in::start().await;
    let mut db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let ann = "INSERT INTO hrms.employees (first_name, last_name, email) VALUES ('Ann', 'Lee', 'ann@x.example')";
    as_tenant(&mut db, t.id, ann).await.unwrap();
    let (email, _, session) = signed_in_platform_admin(&server, &db).await;
    let named = [("X-Tenant-ID", t.id.to_string())];
    let (status, body) = rest(&server, "/employees", access_token(&session), "hrms", &named).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("42501")), "{body}");
    let (status, body) = rest(&server, "/modules", access_token(&session), "api", &named).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("42501")), "{body}");

    // Nor can it sign in to the tenant, or switch its session there (nothing spent).
    let (status, body) = password_grant(&server, &email, json!({"tenant_id": t.id})).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("tenant_not_allowed")));
    let switch = json!({"refresh_token": session["refresh_token"], "tenant_id": t.id});
    let (status, body) = post(&server, "/token?grant_type=refresh_token", switch).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("tenant_not_allowed")));
    let same = json!({"refresh_token": session["refresh_token"]});
    let (status, refreshed) = post(&server, "/token?grant_type=refresh_token", same).await;
    assert_eq!(status, 200, "the refused switch spent nothing: {refreshed}");
    assert!(claims(access_token(&refreshed)).get("tenant_id").is_none());
}

#[tokio::test]
async fn sign_up_makes_no_platform_account_nor_a_token_of_its_role() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    db.execute("SELECT auth.set_signup_mode($1, 'open', 'employee')", &[&t.id]).await.unwrap();
    let email = new_email();
    let forged = json!({"email": email, "password": PASSWORD,
        "data": {"tenant_id": t.id, "role": "platform_admin", "app_metadata": {"role": "platform_admin"}}});
    let (status, session) = post(&server, "/signup", forged).await;
    assert_eq!(status, 200, "{session}");
    let token = claims(access_token(&session));
    assert_eq!((&token["role"], &token["tenant_id"]), (&json!("tenant_member"), &json!(t.id)));
    let (status, _) = rest(&server, "/stats", access_token(&session), "platform", &[]).await;
    assert_eq!(status, 403);
    assert_eq!(count(&db, PLATFORM_ACCOUNTS, &email).await, 0);

    // The platform administrator's own email: already registered, and it joins nothing.
    let (platform_email, _, _) = signed_in_platform_admin(&server, &db).await;
    let sessions = count(&db, SESSIONS, &platform_email).await;
    let taken = json!({"email": platform_email, "password": "another password", "data": {"tenant_id": t.id}});
    let (status, body) = post(&server, "/signup", taken).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("user_already_exists")));
    assert_eq!(count(&db, MEMBERSHIPS, &platform_email).await, 0);
    assert_eq!(count(&db, SESSIONS, &platform_email).await, sessions);
}

#[tokio::test]
async fn an_invitation_brings_no_platform_account_into_a_tenant_nor_makes_one() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let admin_email = new_email();
    member(&db, t.id, &admin_email, PASSWORD, &["tenant_admin"]).await;
    let (_, admin) = password_grant(&server, &admin_email, json!({})).await;
    let invite = |email: String, data: Value| {
        let request = server.api.http().post(format!("{}/invite", server.auth_url));
        request.bearer_auth(access_token(&admin).to_string()).json(&json!({"email": email, "data": data})).send()
    };

    let (platform_email, _, _) = signed_in_platform_admin(&server, &db).await;
    let sessions = count(&db, SESSIONS, &platform_email).await;
    assert_eq!(invite(platform_email.clone(), json!({})).await.unwrap().status(), StatusCode::OK);
    let code = server.sink.mail_to(&platform_email).await.code();
    let (status, body) =
        post(&server, "/verify", json!({"type": "invite", "email": platform_email, "token": code})).await;
    assert_eq!(
        (status, &body["error_code"], &body["msg"]),
        (StatusCode::FORBIDDEN, &json!("tenant_not_allowed"), &json!("A platform account cannot join a tenant"))
    );
    assert_eq!(count(&db, MEMBERSHIPS, &platform_email).await, 0);
    assert_eq!(count(&db, SESSIONS, &platform_email).await, sessions);

    // platform_admin is a database role, not a tenant role an invitation could give.
    let invitee = new_email();
    let (status, body) = json(invite(invitee.clone(), json!({"tenant_role": "platform_admin"})).await.unwrap()).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::BAD_REQUEST, &json!("validation_failed")));
    assert!(server.sink.mails_to(&invitee).is_empty());
    assert_eq!(count(&db, PLATFORM_ACCOUNTS, &invitee).await, 0);
}

#[tokio::test]
async fn a_tenant_administrators_token_is_not_a_platform_administrators() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, PASSWORD, &["tenant_admin"]).await;
    let (_, session) = password_grant(&server, &email, json!({})).await;
    assert_eq!(claims(access_token(&session))["role"], "tenant_member");
    for path in ["/stats", "/tenants", "/replication_slots"] {
        let (status, body) = rest(&server, path, access_token(&session), "platform", &[]).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
}

#[tokio::test]
async fn only_the_database_owner_makes_platform_accounts_and_members_stay_members() {
    let mut db = superuser().await;
    let email = new_email();
    for role in ["authenticator", "platform_admin", "tenancy_admin", "tenant_member"] {
        let tx = db.transaction().await.unwrap();
        tx.batch_execute(&format!("SET LOCAL ROLE {role}")).await.unwrap();
        let made = tx.query_one("SELECT auth.add_platform_admin($1)", &[&email]).await;
        assert_eq!(sqlstate(made), "42501", "{role}");
    }
    assert_eq!(count(&db, PLATFORM_ACCOUNTS, &email).await, 0);

    // A member cannot become a platform account, nor a platform account a member.
    let t = create_tenant(&db, "free", &["hrms"]).await;
    db.execute("SELECT auth.add_member($1, $2, '{employee}')", &[&t.id, &email]).await.unwrap();
    let made = db.query_one("SELECT auth.add_platform_admin($1)", &[&email]).await;
    assert_eq!(sqlstate(made), "TA012");
    assert_eq!(count(&db, PLATFORM_ACCOUNTS, &email).await, 0);
    let platform = new_email();
    db.execute("SELECT auth.add_platform_admin($1)", &[&platform]).await.unwrap();
    let joined = db.query_one("SELECT auth.add_member($1, $2, '{employee}')", &[&t.id, &platform]).await;
    assert_eq!(sqlstate(joined), "TA012");
    assert_eq!(count(&db, MEMBERSHIPS, &platform).await, 0);
}

#[tokio::test]
async fn a_removed_platform_account_can_no_longer_refresh_nor_sign_in() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (email, id, session) = signed_in_platform_admin(&server, &db).await;
    let removed: bool = db.query_one("SELECT auth.remove_platform_admin($1)", &[&id]).await.unwrap().get(0);
    assert!(removed);
    let again = json!({"refresh_token": session["refresh_token"]});
    let (status, body) = post(&server, "/token?grant_type=refresh_token", again).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("session_not_found")), "{body}");
    let (status, body) = password_grant(&server, &email, json!({})).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("tenant_not_allowed")), "{body}");
}

#[tokio::test]
async fn a_platform_account_recovers_its_password_by_mail_and_stays_in_no_tenant() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (email, _, _) = signed_in_platform_admin(&server, &db).await;
    let (status, _) = post(&server, "/recover", json!({"email": email})).await;
    assert_eq!(status, 200);
    let code = server.sink.mail_to(&email).await.code();
    let (status, session) = post(&server, "/verify", json!({"type": "recovery", "email": email, "token": code})).await;
    assert_eq!(status, 200, "{session}");
    let token = claims(access_token(&session));
    assert_eq!(token["role"], "platform_admin");
    assert!(token.get("tenant_id").is_none(), "{token}");
    assert_eq!(count(&db, MEMBERSHIPS, &email).await, 0);
}
