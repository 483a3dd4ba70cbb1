//! Who may ask, and as whom: the anonymous role, RS256 tokens against a JWK, the pre-request
//! function, a disabled module (403 with its upgrade hint), suspended and unknown tenants.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::tenant_with_employees;
use tenancy_e2e::*;
use uuid::Uuid;

#[tokio::test]
async fn anonymous_requests_get_the_anonymous_role_only() {
    let api = api::start().await;
    let (status, body) = json(api.client(None).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("42501")));
    let health = api.http().get(format!("{}/health", api.url)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let traced = api.http().get(format!("{}/health", api.url)).header("X-Request-ID", "abc-123").send().await.unwrap();
    assert_eq!(traced.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn rs256_tokens_verify_against_a_jwk() {
    // A throwaway key pair made for this test (tests/fixtures), not used anywhere else.
    let private = include_bytes!("../fixtures/rs256_test_key.pem");
    let jwk = include_str!("../fixtures/rs256_test_key.jwk.json");
    let api = api::start_with(&[("PGRST_JWT_SECRET", jwk)]).await;
    let t = tenant_with_employees(1).await;
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 60;
    let claims = json!({"role": "tenant_member", "tenant_id": t.id, "exp": exp});
    let sign = |alg, kid: Option<&str>, key: &jsonwebtoken::EncodingKey| {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    };
    let rsa = jsonwebtoken::EncodingKey::from_rsa_pem(private).unwrap();
    let get = |token: String| {
        api.http().get(format!("{}/employees", api.url)).bearer_auth(token).header("Accept-Profile", "hrms").send()
    };
    assert_eq!(
        get(sign(jsonwebtoken::Algorithm::RS256, Some("tenancy-test"), &rsa)).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        get(sign(jsonwebtoken::Algorithm::RS256, None, &rsa)).await.unwrap().status(),
        StatusCode::OK,
        "one key: no kid needed"
    );
    // An HS256 token "signed" with the public key's text must not pass (algorithm confusion).
    let confused = jsonwebtoken::EncodingKey::from_secret(jwk.as_bytes());
    assert_eq!(
        get(sign(jsonwebtoken::Algorithm::HS256, Some("tenancy-test"), &confused)).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(sign(jsonwebtoken::Algorithm::RS256, Some("other-kid"), &rsa)).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_pre_request_function_runs_as_the_request_and_may_refuse_it() {
    let admin = superuser().await;
    let guard = format!("guard_{}", &Uuid::new_v4().simple().to_string()[..8]);
    admin
        .batch_execute(&format!(
            "CREATE FUNCTION api.{guard}() RETURNS void LANGUAGE plpgsql AS $$
             BEGIN
                 IF current_setting('request.headers', true)::json ->> 'x-block' = 'yes' THEN
                     RAISE EXCEPTION 'blocked by the pre-request check (role %)', current_user;
                 END IF;
             END $$"
        ))
        .await
        .unwrap();
    let api = api::start_with(&[("PGRST_DB_PRE_REQUEST", format!("api.{guard}").as_str())]).await;
    let t = tenant_with_employees(1).await;
    let get =
        |block: &'static str| api.as_tenant(Method::GET, "/employees", t.id, "hrms").header("X-Block", block).send();
    let allowed = get("no").await.unwrap().status();
    let (status, body) = json(get("yes").await.unwrap()).await;
    admin.batch_execute(&format!("DROP FUNCTION api.{guard}()")).await.unwrap();
    assert_eq!(allowed, StatusCode::OK);
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("P0001")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("role tenant_member"), "it ran as the request's role: {body}");
}

#[tokio::test]
async fn a_disabled_module_is_403_with_an_upgrade_hint() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await; // hrms and chat, no payroll
    let (status, body) =
        json(api.client(Some(&token(t.id))).schema("payroll").from("payslips").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "TN010");
    assert_eq!(body["error"], "Module not enabled");
    assert_eq!(body["module"], "payroll");
    assert_eq!(body["upgrade"], true);
    assert!(body["message"].as_str().unwrap().contains("payroll"));
    assert!(body.get("requestId").is_none(), "the id is the X-Request-ID header: {body}");

    // the plan already covers it: enabling it is the answer, not an upgrade
    let covered = create_tenant(&superuser().await, "enterprise", &[]).await;
    let (status, body) =
        json(api.client(Some(&token(covered.id))).schema("library").from("books").execute().await.unwrap()).await;
    assert_eq!((status, &body["module"], &body["upgrade"]), (StatusCode::FORBIDDEN, &json!("library"), &json!(false)));
    assert!(body["hint"].as_str().unwrap().contains("enable"), "{body}");
}

#[tokio::test]
async fn suspended_and_unknown_tenants_get_their_own_answers() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    let admin = superuser().await;
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&t.id]).await.unwrap();
    let (status, body) =
        json(api.client(Some(&token(t.id))).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("TN002")));
    let (status, body) =
        json(api.client(Some(&token(Uuid::new_v4()))).schema("hrms").from("employees").execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("TN001")));
}
