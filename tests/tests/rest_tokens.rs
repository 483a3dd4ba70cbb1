//! The HTTP door's token and claim edges (issue 10, item 3): tokens refused with PostgREST's
//! codes, messages and `WWW-Authenticate`, time claims that are not numbers, tokens of a
//! tenant role that name no tenant, and roles the database does not know. Each refusal reads
//! and writes nothing.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token, token_with, Api, SECRET};
use tenancy_e2e::*;
use uuid::Uuid;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A tenant with hrms and one employee.
async fn tenant_with_one_employee() -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    as_tenant(
        &mut admin,
        t.id,
        "INSERT INTO hrms.employees (first_name, last_name, email) VALUES ('A', 'L', 'a@x.example')",
    )
    .await
    .unwrap();
    t
}

async fn employees(tenant: Uuid) -> i64 {
    superuser()
        .await
        .query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1", &[&tenant])
        .await
        .unwrap()
        .get(0)
}

/// `GET /employees` with this `Authorization` header (none when `None`): status, the
/// `WWW-Authenticate` header, and the body.
async fn read_with(api: &Api, authorization: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut request = api.http().get(format!("{}/employees", api.url)).header("Accept-Profile", "hrms");
    if let Some(a) = authorization {
        request = request.header("Authorization", a);
    }
    let response = request.send().await.unwrap();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
    let (status, body) = json(response).await;
    (status, challenge, body)
}

/// The answer to a refused token, as PostgREST gives it.
fn refused(code: &str, message: &str) -> (StatusCode, Option<String>, Value, Value) {
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{}\"", message.replace('"', "\\\""));
    (StatusCode::UNAUTHORIZED, Some(challenge), json!(code), json!(message))
}

async fn answer(api: &Api, authorization: Option<&str>) -> (StatusCode, Option<String>, Value, Value) {
    let (status, challenge, body) = read_with(api, authorization).await;
    (status, challenge, body["code"].clone(), body["message"].clone())
}

#[tokio::test]
async fn time_claims_that_are_not_numbers_are_refused() {
    let api = api::start().await;
    let t = tenant_with_one_employee().await;
    for claim in ["exp", "nbf", "iat"] {
        for value in [json!("never"), json!(true), json!({"at": 1})] {
            let mut claims =
                json!({"role": "tenant_member", "tenant_id": t.id, "sub": "s", "tenant_role": "hr_manager"});
            claims[claim] = value.clone();
            let bearer = format!("Bearer {}", api::sign(claims, SECRET));
            assert_eq!(
                answer(&api, Some(&bearer)).await,
                refused("PGRST303", &format!("The JWT '{claim}' claim must be a number")),
                "{claim}: {value}"
            );
        }
    }
    // The same token with a number is served: it is the claim's type that was refused.
    let fine =
        token_with(json!({"role": "tenant_member", "tenant_id": t.id, "exp": now() + 60, "nbf": now(), "iat": now()}));
    let (status, _, rows) = read_with(&api, Some(&format!("Bearer {fine}"))).await;
    assert_eq!((status, rows.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
}

#[tokio::test]
async fn token_errors_have_postgrests_codes_and_messages() {
    let api = api::start().await;
    let t = tenant_with_one_employee().await;
    let claims = json!({"role": "tenant_member", "tenant_id": t.id});
    let with = |extra: Value| {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        format!("Bearer {}", api::sign(c, SECRET))
    };
    let cases = [
        (with(json!({"exp": now() - 60})), refused("PGRST303", "JWT expired")),
        (with(json!({"nbf": now() + 60})), refused("PGRST303", "JWT not yet valid")),
        (with(json!({"iat": now() + 60})), refused("PGRST303", "JWT issued at future")),
        (
            with(json!({"aud": {"not": "a string"}})),
            refused("PGRST303", "The JWT 'aud' claim must be a string or an array of strings"),
        ),
        (
            format!("Bearer {}", api::sign(claims.clone(), "not-the-secret-not-the-secret-123")),
            refused("PGRST301", "No suitable key or wrong key type"),
        ),
        (
            "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGFuIG9iamVjdA".into(),
            refused("PGRST301", "Expected 3 parts in JWT; got 2"),
        ),
        (
            // alg none, claiming to be the superuser
            "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoicG9zdGdyZXMifQ.".into(),
            refused("PGRST301", "Wrong or unsupported encoding algorithm"),
        ),
        (
            "Bearer quifquirndsjagnrgniur.fonvoienqhhdj.iuqvnvhojah".into(),
            refused("PGRST301", "JWT cryptographic operation failed"),
        ),
        ("Bearer ".into(), refused("PGRST301", "Empty JWT is sent in Authorization header")),
    ];
    for (authorization, expected) in cases {
        assert_eq!(answer(&api, Some(&authorization)).await, expected, "{authorization}");
    }

    let audience = api::start_with(&[("PGRST_JWT_AUD", "tenancy")]).await;
    let elsewhere =
        format!("Bearer {}", token_with(json!({"role": "tenant_member", "tenant_id": t.id, "aud": "elsewhere"})));
    assert_eq!(answer(&audience, Some(&elsewhere)).await, refused("PGRST303", "JWT not in audience"));
    let here =
        format!("Bearer {}", token_with(json!({"role": "tenant_member", "tenant_id": t.id, "aud": ["x", "tenancy"]})));
    assert_eq!(read_with(&audience, Some(&here)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn no_token_where_one_is_required_is_pgrst302() {
    let api = api::start_with(&[("PGRST_DB_ANON_ROLE", "")]).await;
    let (status, challenge, body) = read_with(&api, None).await;
    assert_eq!(
        (status, challenge.as_deref(), &body["code"], &body["message"]),
        (StatusCode::UNAUTHORIZED, Some("Bearer"), &json!("PGRST302"), &json!("Anonymous access is disabled"))
    );
    // A token that names no role falls back to the anonymous role, which there is not.
    let roleless = format!("Bearer {}", token_with(json!({"sub": "someone"})));
    let (status, _, body) = read_with(&api, Some(&roleless)).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("PGRST302")));
}

#[tokio::test]
async fn a_role_the_database_does_not_know_is_401() {
    let api = api::start().await;
    let t = tenant_with_one_employee().await;
    let ghost = unique("ghost").replace('-', "_");
    let bearer = format!("Bearer {}", token_with(json!({"role": ghost, "tenant_id": t.id})));
    let (status, challenge, body) = read_with(&api, Some(&bearer)).await;
    assert_eq!(
        (status, challenge.as_deref(), &body["code"], &body["message"]),
        (StatusCode::UNAUTHORIZED, Some("Bearer"), &json!("22023"), &json!(format!("role \"{ghost}\" does not exist")))
    );
}

#[tokio::test]
async fn a_tenant_role_without_its_tenant_claim_is_refused_naming_the_claim() {
    let api = api::start().await;
    let t = tenant_with_one_employee().await;
    let before = employees(t.id).await;
    for claims in [
        json!({"role": "tenant_member", "sub": "s", "tenant_role": "hr_manager"}),
        // misnamed: the token means the tenant, the server reads tenant_id
        json!({"role": "tenant_member", "tenantId": t.id, "sub": "s", "tenant_role": "hr_manager"}),
        json!({"role": "tenant_member", "tenant": t.id, "sub": "s", "tenant_role": "hr_manager"}),
    ] {
        let bearer = format!("Bearer {}", token_with(claims.clone()));
        // Before: 200 [] on reads, an RLS error on writes.
        let (status, challenge, body) = read_with(&api, Some(&bearer)).await;
        assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("TN102")), "{claims}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("\"tenant_id\"") && message.contains("tenant_member"), "{message}");
        assert!(challenge.unwrap().starts_with("Bearer error=\"invalid_token\", error_description=\"The token has no"));
        let write = api
            .http()
            .post(format!("{}/employees", api.url))
            .header("Authorization", &bearer)
            .header("Content-Profile", "hrms")
            .json(&json!({"first_name": "X", "last_name": "Y", "email": "xy@x.example", "tenant_id": t.id}))
            .send()
            .await
            .unwrap();
        let (status, body) = json(write).await;
        assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("TN102")), "{body}");
    }
    assert_eq!(employees(t.id).await, before, "nothing was written");
}

#[tokio::test]
async fn tenantless_roles_are_the_configured_ones() {
    let t = tenant_with_one_employee().await;
    let platform = format!("Bearer {}", api::platform_token());
    let stats = |api: &Api| {
        api.http()
            .get(format!("{}/stats", api.url))
            .header("Accept-Profile", "platform")
            .header("Authorization", &platform)
            .send()
    };
    let api = api::start().await;
    assert_eq!(stats(&api).await.unwrap().status(), StatusCode::OK, "platform_admin needs no tenant by default");
    let analyst = format!("Bearer {}", token_with(json!({"role": "tenancy_analytics"})));
    let (status, _, _) = read_with(&api, Some(&analyst)).await;
    assert_ne!(status, StatusCode::UNAUTHORIZED, "tenancy_analytics needs no tenant by default");
    let anonymous = format!("Bearer {}", token_with(json!({"role": "web_anon"})));
    let (status, _, body) = read_with(&api, Some(&anonymous)).await;
    // Served as the anonymous role (no TN102); what it may not read is 401, as PostgREST answers
    // a token that leaves the request to the anonymous role.
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("42501")), "the anonymous role, named");

    let only_analysts = api::start_with(&[("TENANCY_TENANTLESS_ROLES", "tenancy_analytics")]).await;
    let (status, body) = json(stats(&only_analysts).await.unwrap()).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("TN102")), "{body}");
    // A tenant role with its tenant is served as before.
    let (status, _, _) = read_with(&only_analysts, Some(&format!("Bearer {}", token(t.id)))).await;
    assert_eq!(status, StatusCode::OK);
}
