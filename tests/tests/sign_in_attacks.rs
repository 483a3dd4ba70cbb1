//! Sign-in attacked: enumeration, guessing (throttled), a tenant not one's own, refresh-token
//! reuse, ended sessions, a removed membership, a suspended tenant, tampered, forged and
//! expired tokens, bad bodies, and schema auth reached from SQL and REST. Each refusal is
//! checked for what did not change.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::json;
use tenancy_e2e::sign_in::{self, claims, member, new_email, SignInApi};
use tenancy_e2e::*;

async fn post(server: &SignInApi, path: &str, body: Value) -> (StatusCode, Value) {
    json(server.api.http().post(format!("{}{path}", server.auth_url)).json(&body).send().await.unwrap()).await
}

async fn password_grant(server: &SignInApi, email: &str, password: &str) -> (StatusCode, Value) {
    post(server, "/token?grant_type=password", json!({"email": email, "password": password})).await
}

async fn refresh(server: &SignInApi, refresh_token: &Value) -> (StatusCode, Value) {
    post(server, "/token?grant_type=refresh_token", json!({"refresh_token": refresh_token})).await
}

/// GET `url` with the bearer token.
async fn get(server: &SignInApi, url: &str, token: &str, profile: &str) -> (StatusCode, Value) {
    let request = server.api.http().get(url).bearer_auth(token).header("Accept-Profile", profile);
    json(request.send().await.unwrap()).await
}

async fn signed_in_member(server: &SignInApi, db: &tokio_postgres::Client, roles: &[&str]) -> (Tenant, String, Value) {
    let t = create_tenant(db, "free", &["hrms"]).await;
    let email = new_email();
    member(db, t.id, &email, "a good password", roles).await;
    let (status, session) = password_grant(server, &email, "a good password").await;
    assert_eq!(status, 200, "{session}");
    (t, email, session)
}

async fn ended_why(db: &tokio_postgres::Client, access_token: &str) -> Option<String> {
    let session = claims(access_token)["session_id"].as_str().unwrap().to_string();
    db.query_one("SELECT ended_why FROM auth.sessions WHERE id = $1::text::uuid", &[&session]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, email, _) = signed_in_member(&server, &db, &["employee"]).await;
    let wrong = password_grant(&server, &email, "not the password").await;
    let unknown = password_grant(&server, &new_email(), "not the password").await;
    assert_eq!(wrong, unknown);
    assert_eq!(
        wrong,
        (
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
        )
    );
    // An invited person who set no password yet is no different.
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let invited = new_email();
    db.execute("SELECT auth.add_member($1, $2, '{employee}')", &[&t.id, &invited]).await.unwrap();
    assert_eq!(password_grant(&server, &invited, "").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(password_grant(&server, &invited, "anything at all").await, unknown);
}

#[tokio::test]
async fn guessing_is_throttled_per_account_and_per_address() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, email, _) = signed_in_member(&server, &db, &["employee"]).await;
    for _ in 0..5 {
        assert_eq!(password_grant(&server, &email, "guess").await.0, StatusCode::BAD_REQUEST);
    }
    password_grant(&server, &email, "guess").await;
    let response = server
        .api
        .http()
        .post(format!("{}/token?grant_type=password", server.auth_url))
        .json(&json!({"email": email, "password": "a good password"}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let (status, body) = json(response).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::TOO_MANY_REQUESTS, &json!("over_request_rate_limit")));
    assert!(retry_after >= 1, "the right password waits too while the account is throttled");
    let sessions: i64 = db
        .query_one(
            "SELECT count(*) FROM auth.sessions s JOIN auth.identities i ON i.id = s.identity_id WHERE i.email = $1",
            &[&email],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(sessions, 1, "only the sign-in before the guesses");

    // The address is throttled too: guesses spread over many accounts from one address.
    let server = sign_in::start().await;
    for _ in 0..6 {
        password_grant(&server, &new_email(), "guess").await;
    }
    assert_eq!(password_grant(&server, &new_email(), "guess").await.0, StatusCode::TOO_MANY_REQUESTS);
    // Sign-up and recovery count every request of an address: the sixth starts the backoff.
    for _ in 0..6 {
        post(&server, "/recover", json!({"email": new_email()})).await;
    }
    assert_eq!(post(&server, "/recover", json!({"email": new_email()})).await.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_spent_refresh_token_used_again_ends_the_whole_session() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, _, first) = signed_in_member(&server, &db, &["employee"]).await;
    let (status, second) = refresh(&server, &first["refresh_token"]).await;
    assert_eq!(status, 200, "{second}");
    let (status, body) = refresh(&server, &first["refresh_token"]).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::BAD_REQUEST, &json!("refresh_token_already_used")));
    // The thief's copy and the owner's newer token are both dead now.
    let (status, body) = refresh(&server, &second["refresh_token"]).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("session_not_found")));
    assert_eq!(ended_why(&db, second["access_token"].as_str().unwrap()).await.as_deref(), Some("refresh token reused"));
    let (status, _) = refresh(&server, &json!("never-issued")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The rotation claims the token in the UPDATE that spends it: of two refreshes with one token
/// at once, whichever order the database takes them in, one gets the new pair and the other
/// ends the family; the loser stores no token.
#[tokio::test]
async fn the_same_refresh_token_sent_twice_at_once_rotates_once_and_ends_the_session() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, _, first) = signed_in_member(&server, &db, &["employee"]).await;
    let (a, b) = tokio::join!(refresh(&server, &first["refresh_token"]), refresh(&server, &first["refresh_token"]));
    let (won, lost) = if a.0 == StatusCode::OK { (a, b) } else { (b, a) };
    assert_eq!(won.0, StatusCode::OK, "{}", won.1);
    assert_eq!((lost.0, &lost.1["error_code"]), (StatusCode::BAD_REQUEST, &json!("refresh_token_already_used")));
    let (status, body) = refresh(&server, &won.1["refresh_token"]).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("session_not_found")));
    let session = claims(first["access_token"].as_str().unwrap())["session_id"].as_str().unwrap().to_string();
    let tokens: i64 = db
        .query_one("SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1::text::uuid", &[&session])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tokens, 2, "the first token and the winner's, nothing from the loser");
}

#[tokio::test]
async fn a_signed_out_or_revoked_session_is_refused() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, email, session) = signed_in_member(&server, &db, &["employee"]).await;
    let token = session["access_token"].as_str().unwrap();
    let user_url = format!("{}/user", server.auth_url);
    assert_eq!(get(&server, &user_url, token, "hrms").await.0, 200);
    let http = server.api.http();
    let out = http.post(format!("{}/logout?scope=global", server.auth_url)).bearer_auth(token).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let (status, body) = get(&server, &user_url, token, "hrms").await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("session_not_found")));
    assert_eq!(refresh(&server, &session["refresh_token"]).await.0, StatusCode::FORBIDDEN);

    // One session revoked from another: the other one's tokens stop refreshing.
    let (_, a) = password_grant(&server, &email, "a good password").await;
    let (_, b) = password_grant(&server, &email, "a good password").await;
    let b_session = claims(b["access_token"].as_str().unwrap())["session_id"].as_str().unwrap().to_string();
    let revoke = http
        .delete(format!("{}/sessions/{b_session}", server.auth_url))
        .bearer_auth(a["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_eq!(refresh(&server, &b["refresh_token"]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(refresh(&server, &a["refresh_token"]).await.0, StatusCode::OK);
    // Someone else's session is not one's to end.
    let (_, _, stranger) = signed_in_member(&server, &db, &["employee"]).await;
    let stranger_session =
        claims(stranger["access_token"].as_str().unwrap())["session_id"].as_str().unwrap().to_string();
    let revoke = http
        .delete(format!("{}/sessions/{stranger_session}", server.auth_url))
        .bearer_auth(a["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NOT_FOUND);
    assert_eq!(ended_why(&db, stranger["access_token"].as_str().unwrap()).await, None);
}

#[tokio::test]
async fn a_removed_membership_ends_the_session_at_the_next_refresh() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (t, _, session) = signed_in_member(&server, &db, &["employee"]).await;
    let user: String = claims(session["access_token"].as_str().unwrap())["sub"].as_str().unwrap().to_string();
    db.execute("SELECT auth.remove_member($1, $2::text::uuid)", &[&t.id, &user]).await.unwrap();
    let (status, body) = refresh(&server, &session["refresh_token"]).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("tenant_not_allowed")));
    assert_eq!(ended_why(&db, session["access_token"].as_str().unwrap()).await.as_deref(), Some("membership removed"));
    let roles: i64 = db
        .query_one(
            "SELECT count(*) FROM tenancy.tenant_role_members WHERE tenant_id = $1 AND member = $2",
            &[&t.id, &user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(roles, 0, "the tenant roles went with the membership");
}

#[tokio::test]
async fn a_suspended_tenant_refuses_its_tokens_refreshes_and_sign_ins() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (t, email, session) = signed_in_member(&server, &db, &["employee"]).await;
    let token = session["access_token"].as_str().unwrap();
    let employees = format!("{}/employees", server.api.url);
    assert_eq!(get(&server, &employees, token, "hrms").await.0, 200);
    db.execute("SELECT tenancy.suspend_tenant($1)", &[&t.id]).await.unwrap();
    let (status, _) = get(&server, &employees, token, "hrms").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "at the next request");
    let (status, body) = refresh(&server, &session["refresh_token"]).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("tenant_suspended")));
    let (status, body) = password_grant(&server, &email, "a good password").await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("tenant_suspended")));
}

/// `token` with its payload replaced by `claims`, the signature kept.
fn with_claims(token: &str, claims: &Value) -> String {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[tokio::test]
async fn tampered_forged_and_expired_tokens_are_refused_on_rest_and_sign_in() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, _, session) = signed_in_member(&server, &db, &["employee"]).await;
    let other = create_tenant(&db, "free", &["hrms"]).await;
    let token = session["access_token"].as_str().unwrap();
    let employees = format!("{}/employees", server.api.url);
    let user_url = format!("{}/user", server.auth_url);

    let mut moved = claims(token);
    moved["tenant_id"] = json!(other.id);
    moved["tenant_role"] = json!(["hr_manager"]);
    let tampered = with_claims(token, &moved);

    // A key of the attacker's own, under the server's kid.
    let forged = {
        let attacker = sign_in::key_file();
        let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&attacker).unwrap()).unwrap();
        file["keys"][0]["kid"] = json!(jsonwebtoken::decode_header(token).unwrap().kid);
        std::fs::write(&attacker, file.to_string()).unwrap();
        let keys = tenancy_api::sign_in::keys::SigningKeys::read(&attacker).unwrap();
        std::fs::remove_file(attacker).unwrap();
        keys.sign(&serde_json::to_vec(&moved).unwrap())
    };
    let expired = {
        let keys = tenancy_api::sign_in::keys::SigningKeys::read(&server.keys_file).unwrap();
        let mut old = claims(token);
        old["exp"] = json!(old["iat"].as_u64().unwrap() - 120);
        keys.sign(&serde_json::to_vec(&old).unwrap())
    };
    for (name, bad) in [("tampered", &tampered), ("forged", &forged), ("expired", &expired)] {
        let (status, body) = get(&server, &employees, bad, "hrms").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name} on REST: {body}");
        let (status, body) = get(&server, &user_url, bad, "hrms").await;
        assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("bad_jwt")), "{name} on /user");
    }
    let (status, body) = get(&server, &employees, token, "hrms").await;
    assert_eq!(status, 200, "the genuine token still works: {body}");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_gotrue_errors_and_change_nothing() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    db.execute("SELECT auth.set_signup_mode($1, 'open', 'employee')", &[&t.id]).await.unwrap();
    let email = new_email();
    let http = server.api.http();
    let send = |path: &str, body: String| {
        http.post(format!("{}{path}", server.auth_url)).header("Content-Type", "application/json").body(body).send()
    };
    let cases = [
        ("/signup", "{\"email\": ".to_string(), 400, "bad_json"),
        ("/signup", json!({"email": 5, "password": "long enough pw"}).to_string(), 400, "bad_json"),
        ("/signup", json!({"email": email, "password": "long enough pw", "data": {"tenant_id": t.id, "pad": "x".repeat(70_000)}}).to_string(), 413, "request_entity_too_large"),
        ("/signup", json!({"email": "not-an-email", "password": "long enough pw", "data": {"tenant_id": t.id}}).to_string(), 400, "validation_failed"),
        ("/signup", json!({"email": email, "password": "short", "data": {"tenant_id": t.id}}).to_string(), 422, "weak_password"),
        ("/signup", json!({"email": email, "password": "long enough pw", "data": {"tenant_id": "acme"}}).to_string(), 400, "validation_failed"),
        ("/token?grant_type=password", "[]".to_string(), 400, "bad_json"),
        ("/token?grant_type=magic", "{}".to_string(), 400, "validation_failed"),
        ("/verify", json!({"type": "signup", "email": email, "token": "x"}).to_string(), 400, "validation_failed"),
    ];
    for (path, body, status, code) in cases {
        let (got, answer) = json(send(path, body).await.unwrap()).await;
        assert_eq!((got.as_u16(), answer["error_code"].as_str()), (status, Some(code)), "{path}: {answer}");
        assert_eq!(answer["code"], status, "GoTrue's shape: {answer}");
    }
    let identities: i64 =
        db.query_one("SELECT count(*) FROM auth.identities WHERE email = $1", &[&email]).await.unwrap().get(0);
    assert_eq!(identities, 0);

    // Sign-up in a tenant that takes members by invitation only.
    let closed = create_tenant(&db, "free", &["hrms"]).await;
    let (status, body) = post(
        &server,
        "/signup",
        json!({"email": email, "password": "long enough pw", "data": {"tenant_id": closed.id}}),
    )
    .await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("signup_disabled")));
    let identities: i64 =
        db.query_one("SELECT count(*) FROM auth.identities WHERE email = $1", &[&email]).await.unwrap().get(0);
    assert_eq!(identities, 0, "nothing created by a refused sign-up");
}

#[tokio::test]
async fn schema_auth_is_unreadable_from_sql_and_rest() {
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, "a good password", &["employee"]).await;
    let analyst = create_analyst(&db, &[t.id]).await;
    let analyst = connect_as(&analyst).await;
    for sql in [
        "SELECT * FROM auth.identities",
        "SELECT * FROM auth.refresh_tokens",
        "SELECT * FROM auth.password_of('x@y.z')",
    ] {
        assert_eq!(sqlstate(analyst.query(sql, &[]).await), INSUFFICIENT_PRIVILEGE, "{sql}");
    }
    // The API's login role calls the functions, reads no table, and a request's role (after
    // SET ROLE) calls nothing.
    let mut api = connect_as("authenticator").await;
    assert_eq!(sqlstate(api.query("SELECT * FROM auth.identities", &[]).await), INSUFFICIENT_PRIVILEGE);
    assert_eq!(api.query("SELECT * FROM auth.password_of($1)", &[&email]).await.unwrap().len(), 1);
    for role in ["tenant_member", "web_anon", "platform_admin", "tenancy_analytics"] {
        let tx = api.transaction().await.unwrap();
        tx.batch_execute(&format!("SET LOCAL ROLE {role}")).await.unwrap();
        assert_eq!(
            sqlstate(tx.query("SELECT * FROM auth.password_of($1)", &[&email]).await),
            INSUFFICIENT_PRIVILEGE,
            "{role}"
        );
        tx.rollback().await.unwrap();
    }

    // Over REST: not an exposed schema; and exposed by mistake, still nothing to call.
    let server = sign_in::start().await;
    let (_, session) = password_grant(&server, &email, "a good password").await;
    let token = session["access_token"].as_str().unwrap();
    let rpc = format!("{}/rpc/password_of?email={email}", server.api.url);
    let (status, _) = get(&server, &rpc, token, "auth").await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let exposed = sign_in::start_with(sign_in::key_file(), &[("PGRST_DB_SCHEMAS", "hrms,auth")]).await;
    let (_, session) = password_grant(&exposed, &email, "a good password").await;
    let token = session["access_token"].as_str().unwrap();
    let (status, body) =
        get(&exposed, &format!("{}/rpc/password_of?email={email}", exposed.api.url), token, "auth").await;
    assert!(status.is_client_error() && !body.to_string().contains("argon2"), "{status}: {body}");
    let (status, body) = get(&exposed, &format!("{}/identities", exposed.api.url), token, "auth").await;
    assert!(status.is_client_error() && !body.to_string().contains("argon2"), "{status}: {body}");
}

#[tokio::test]
async fn doctor_finds_auth_tables_made_readable_and_functions_made_callable() {
    let mut db = superuser().await;
    let findings = include_str!("../../cli/src/commands/doctor_sign_in.sql");
    assert!(db.query(findings, &[]).await.unwrap().is_empty(), "as migrated: nothing to find");
    let tx = db.transaction().await.unwrap();
    tx.batch_execute(
        "GRANT SELECT ON auth.identities TO tenant_member;
         GRANT EXECUTE ON FUNCTION auth.session(uuid) TO PUBLIC;
         ALTER FUNCTION auth.sign_out(uuid, text) RESET search_path;",
    )
    .await
    .unwrap();
    let rows = tx.query(findings, &[]).await.unwrap();
    let found: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(2))).collect();
    assert_eq!(
        found,
        vec![
            ("auth-function-reachable".to_string(), "auth.session(uuid)".to_string()),
            ("auth-function-unpinned".to_string(), "auth.sign_out(uuid,text)".to_string()),
            ("auth-table-readable".to_string(), "auth.identities".to_string()),
        ]
    );
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn an_expired_invitation_is_refused_and_joins_nothing() {
    let server = sign_in::start_with(sign_in::key_file(), &[("TENANCY_AUTH_CODE_SECONDS", "1")]).await;
    let db = superuser().await;
    let (t, _, admin) = signed_in_member(&server, &db, &["tenant_admin"]).await;
    let invitee = new_email();
    let invite = server
        .api
        .http()
        .post(format!("{}/invite", server.auth_url))
        .bearer_auth(admin["access_token"].as_str().unwrap())
        .json(&json!({"email": invitee}))
        .send()
        .await
        .unwrap();
    assert_eq!(invite.status(), StatusCode::OK);
    let code = server.sink.mail_to(&invitee).await.code();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, body) = post(&server, "/verify", json!({"type": "invite", "email": invitee, "token": code})).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("otp_expired")));
    let members: i64 = db
        .query_one(
            "SELECT count(*) FROM auth.memberships m JOIN auth.identities i ON i.id = m.identity_id WHERE i.email = $1 AND m.tenant = $2",
            &[&invitee, &t.id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(members, 0);
}

#[tokio::test]
async fn forget_deletes_ended_sessions_and_spent_codes_and_keeps_live_ones() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, email, live) = signed_in_member(&server, &db, &["employee"]).await;
    let (_, ended) = password_grant(&server, &email, "a good password").await;
    let out = server.api.http().post(format!("{}/logout?scope=local", server.auth_url));
    out.bearer_auth(ended["access_token"].as_str().unwrap()).send().await.unwrap();
    post(&server, "/recover", json!({"email": email})).await;
    server.sink.mail_to(&email).await;
    // Aged past the horizon (other tests' rows are recent: they stay).
    db.execute("UPDATE auth.codes SET expires_at = now() - interval '400 days' WHERE email = $1", &[&email])
        .await
        .unwrap();
    let ended_id = claims(ended["access_token"].as_str().unwrap())["session_id"].as_str().unwrap().to_string();
    db.execute(
        "UPDATE auth.sessions SET ended_at = now() - interval '400 days' WHERE id = $1::text::uuid",
        &[&ended_id],
    )
    .await
    .unwrap();
    let forgotten: i64 = db.query_one("SELECT auth.forget('365 days')", &[]).await.unwrap().get(0);
    assert!(forgotten >= 2, "the ended session and the expired code: {forgotten}");
    let session_of =
        |s: &Value| claims(s["access_token"].as_str().unwrap())["session_id"].as_str().unwrap().to_string();
    let left = |id: String| async move {
        let n: i64 = superuser()
            .await
            .query_one("SELECT count(*) FROM auth.sessions WHERE id = $1::text::uuid", &[&id])
            .await
            .unwrap()
            .get(0);
        n
    };
    assert_eq!((left(session_of(&ended)).await, left(session_of(&live)).await), (0, 1));
    let codes: i64 = db.query_one("SELECT count(*) FROM auth.codes WHERE email = $1", &[&email]).await.unwrap().get(0);
    assert_eq!(codes, 0);
    assert_eq!(refresh(&server, &live["refresh_token"]).await.0, StatusCode::OK, "a live session is untouched");
}
