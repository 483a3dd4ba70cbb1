//! The refresh-token grant reads the grant fresh each time (V19: the database answers in
//! columns, the server writes GoTrue's JSON): what changed between two refreshes — a tenant
//! role granted or taken back, user metadata, another tenant joined, the person disabled —
//! shows at the next one; its answer reads like a sign-in's; the session keeps only digests,
//! and the live one is the newest token's.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::json;
use tenancy_e2e::sign_in::{self, claims, member, new_email, SignInApi};
use tenancy_e2e::*;
use uuid::Uuid;

async fn post(server: &SignInApi, path: &str, body: Value) -> (StatusCode, Value) {
    json(server.api.http().post(format!("{}{path}", server.auth_url)).json(&body).send().await.unwrap()).await
}

async fn refreshed(server: &SignInApi, session: &Value) -> Value {
    let (status, body) =
        post(server, "/token?grant_type=refresh_token", json!({"refresh_token": session["refresh_token"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn token_roles(session: &Value) -> Value {
    claims(session["access_token"].as_str().unwrap())["tenant_role"].clone()
}

/// A new member of a new tenant (tenant role employee), signed in: the tenant, the email, the
/// identity and the password grant's session.
async fn signed_in_member(server: &SignInApi, db: &tokio_postgres::Client) -> (Tenant, String, Uuid, Value) {
    let t = create_tenant(db, "free", &["hrms"]).await;
    let email = new_email();
    let identity = member(db, t.id, &email, "a good password", &["employee"]).await;
    let credentials = json!({"email": email, "password": "a good password"});
    let (status, signed_in) = post(server, "/token?grant_type=password", credentials).await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    (t, email, identity, signed_in)
}

fn session_id(session: &Value) -> Uuid {
    claims(session["access_token"].as_str().unwrap())["session_id"].as_str().unwrap().parse().unwrap()
}

async fn tokens_of(db: &tokio_postgres::Client, session: Uuid) -> i64 {
    db.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1", &[&session]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_refresh_answers_as_a_sign_in_does_and_shows_what_changed_since_the_last() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (t, email, identity, signed_in) = signed_in_member(&server, &db).await;

    // Nothing changed: the same user object (times written alike), the same claims.
    let first = refreshed(&server, &signed_in).await;
    assert_eq!(first["user"], signed_in["user"]);
    let mut expected = claims(signed_in["access_token"].as_str().unwrap());
    let mut got = claims(first["access_token"].as_str().unwrap());
    for changing in ["exp", "iat"] {
        expected.as_object_mut().unwrap().remove(changing);
        got.as_object_mut().unwrap().remove(changing);
    }
    assert_eq!(got, expected);
    assert_eq!(token_roles(&first), json!(["employee"]));

    // A role granted, metadata set and another tenant joined: all at the next refresh.
    db.execute("SELECT tenancy.grant_tenant_role($1, $2, 'hr_manager')", &[&t.id, &identity.to_string()])
        .await
        .unwrap();
    db.execute("UPDATE auth.identities SET user_metadata = '{\"team\": \"north\"}' WHERE id = $1", &[&identity])
        .await
        .unwrap();
    let other = create_tenant(&db, "free", &["hrms"]).await;
    member(&db, other.id, &email, "a good password", &["employee"]).await;
    let second = refreshed(&server, &first).await;
    assert_eq!(token_roles(&second), json!(["employee", "hr_manager"]));
    assert_eq!(second["user"]["app_metadata"]["tenant_roles"], json!(["employee", "hr_manager"]));
    assert_eq!(second["user"]["user_metadata"], json!({"team": "north"}));
    assert_eq!(second["user"]["app_metadata"]["tenants"], json!([t.id.to_string(), other.id.to_string()]));
    assert_eq!(second["user"]["app_metadata"]["tenant_id"], json!(t.id.to_string()), "still the session's tenant");

    // The role taken back: gone from the next token.
    db.execute("SELECT tenancy.revoke_tenant_role($1, $2, 'hr_manager')", &[&t.id, &identity.to_string()])
        .await
        .unwrap();
    let third = refreshed(&server, &second).await;
    assert_eq!(token_roles(&third), json!(["employee"]));

    // Only digests are kept, one per token issued; the live one is the newest token's.
    let session = session_id(&third);
    let row = db
        .query_one(
            "SELECT s.live_digest = sha256(convert_to($2, 'UTF8')), count(r.*) FROM auth.sessions s \
             JOIN auth.refresh_tokens r ON r.session_id = s.id WHERE s.id = $1 GROUP BY s.live_digest",
            &[&session, &third["refresh_token"].as_str().unwrap()],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the live digest is the newest token's");
    assert_eq!(row.get::<_, i64>(1), 4, "the sign-in's token and three refreshes'");

    // The person disabled: the next refresh ends the session and issues nothing.
    db.execute("UPDATE auth.identities SET status = 'disabled' WHERE id = $1", &[&identity]).await.unwrap();
    let (status, body) =
        post(&server, "/token?grant_type=refresh_token", json!({"refresh_token": third["refresh_token"]})).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("tenant_not_allowed")));
    let ended: Option<String> =
        db.query_one("SELECT ended_why FROM auth.sessions WHERE id = $1", &[&session]).await.unwrap().get(0);
    assert_eq!(ended.as_deref(), Some("membership removed"));
    assert_eq!(tokens_of(&db, session).await, 4, "the refused refresh stored no new token");
}

/// A session's refresh tokens go with it (a trigger, not a foreign key, V19): deleting the
/// identity deletes its sessions and their tokens, so the tokens are unknown; a token whose
/// session is gone is refused and issues nothing.
#[tokio::test]
async fn a_deleted_sessions_tokens_go_with_it_and_a_token_without_a_session_is_refused() {
    let server = sign_in::start().await;
    let db = superuser().await;
    let (_, _, identity, signed_in) = signed_in_member(&server, &db).await;
    let session = refreshed(&server, &signed_in).await;
    assert_eq!(tokens_of(&db, session_id(&session)).await, 2);

    db.execute("DELETE FROM auth.identities WHERE id = $1", &[&identity]).await.unwrap();
    assert_eq!(tokens_of(&db, session_id(&session)).await, 0, "deleted with the session");
    let (status, body) =
        post(&server, "/token?grant_type=refresh_token", json!({"refresh_token": session["refresh_token"]})).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::BAD_REQUEST, &json!("refresh_token_not_found")));

    // A token row left without its session (none is made so; a restore could): refused.
    let orphan = Uuid::new_v4();
    db.execute(
        "INSERT INTO auth.refresh_tokens (digest, session_id) VALUES (sha256(convert_to('orphan-' || $1::uuid::text, 'UTF8')), $1::uuid)",
        &[&orphan],
    )
    .await
    .unwrap();
    let token = format!("orphan-{orphan}");
    let (status, body) = post(&server, "/token?grant_type=refresh_token", json!({"refresh_token": token})).await;
    assert_eq!((status, &body["error_code"]), (StatusCode::FORBIDDEN, &json!("session_not_found")));
    assert_eq!(tokens_of(&db, orphan).await, 1, "nothing issued");
}
