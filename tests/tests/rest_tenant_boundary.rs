//! The tenant boundary over REST: a token for A cannot read, filter, count, update, delete,
//! insert or move its way to rows of B; spoofed `X-Tenant-ID`, forged, expired, `alg: none` and
//! wrong-`aud` tokens are refused; a subdomain must be the token's tenant.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::tenant_with_employees;
use tenancy_e2e::*;

#[tokio::test]
async fn a_token_for_a_cannot_reach_bs_rows() {
    let api = api::start().await;
    let a = tenant_with_employees(2).await;
    let b = tenant_with_employees(2).await;
    let db = api.client(Some(&token(a.id))).schema("hrms");
    let b_id = b.id.to_string();

    let (_, rows) = json(db.from("employees").select("tenant_id").execute().await.unwrap()).await;
    assert!(rows.as_array().unwrap().iter().all(|r| r["tenant_id"] == json!(a.id)));
    let (_, rows) = json(db.from("employees").eq("tenant_id", &b_id).execute().await.unwrap()).await;
    assert_eq!(rows, json!([]), "filter on B");
    let response = db.from("employees").eq("tenant_id", &b_id).exact_count().execute().await.unwrap();
    assert_eq!(response.headers()["content-range"], "*/0", "count B");

    let (status, rows) =
        json(db.from("employees").eq("tenant_id", &b_id).update(r#"{"job_title": "pwned"}"#).execute().await.unwrap())
            .await;
    assert_eq!((status, rows), (StatusCode::OK, json!([])), "update B");
    let (status, rows) = json(db.from("employees").eq("tenant_id", &b_id).delete().execute().await.unwrap()).await;
    assert_eq!((status, rows), (StatusCode::OK, json!([])), "delete B");
    let insert =
        format!(r#"{{"tenant_id": "{b_id}", "first_name": "Eve", "last_name": "E", "email": "eve@x.example"}}"#);
    let (status, body) = json(db.from("employees").insert(insert).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "insert into B: {body}");
    assert_eq!(body["code"], "42501");
    let moved = format!(r#"{{"tenant_id": "{b_id}"}}"#);
    let (status, body) =
        json(db.from("employees").eq("first_name", "First1").update(moved).execute().await.unwrap()).await;
    let admin = superuser().await;
    // (Citus refuses any change of the distribution column before a policy is asked.)
    let refusal =
        if on_citus(&admin).await { (StatusCode::BAD_REQUEST, "0A000") } else { (StatusCode::FORBIDDEN, "42501") };
    assert_eq!((status, body["code"].as_str().unwrap()), refusal, "move a row to B: {body}");

    for (tenant, expected) in [(b.id, 2i64), (a.id, 2)] {
        let rows = admin
            .query("SELECT count(*) FILTER (WHERE job_title = 'pwned' OR first_name = 'Eve'), count(*) FROM hrms.employees WHERE tenant_id = $1", &[&tenant])
            .await
            .unwrap();
        assert_eq!((rows[0].get::<_, i64>(0), rows[0].get::<_, i64>(1)), (0, expected));
    }
}

#[tokio::test]
async fn spoofed_tenant_headers_and_forged_tokens_are_refused() {
    let api = api::start().await;
    let a = tenant_with_employees(1).await;
    let b = tenant_with_employees(1).await;
    let url = format!("{}/employees", api.url);
    let http = api.http();

    let spoofed = api
        .as_tenant(Method::GET, "/employees", a.id, "hrms")
        .header("X-Tenant-ID", b.id.to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = json(spoofed).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("TN101")));
    let same = api
        .as_tenant(Method::GET, "/employees", a.id, "hrms")
        .header("X-Tenant-ID", a.id.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::OK);

    let forged = [
        (
            api::sign(json!({"role": "tenant_member", "tenant_id": b.id}), "not-the-secret-not-the-secret-123"),
            "PGRST301",
        ),
        (api::expired_token(b.id), "PGRST303"),
        // alg none, claiming to be the superuser
        ("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoicG9zdGdyZXMifQ.".to_string(), "PGRST301"),
        ("not.a.token".to_string(), "PGRST301"),
    ];
    for (bad, code) in forged {
        let response = http.get(&url).bearer_auth(&bad).header("Accept-Profile", "hrms").send().await.unwrap();
        assert!(response.headers().contains_key("www-authenticate"));
        let (status, body) = json(response).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some(code)), "{bad}");
    }
    let wrong_aud = api::start_with(&[("PGRST_JWT_AUD", "tenancy")]).await;
    let response = http
        .get(format!("{}/employees", wrong_aud.url))
        .bearer_auth(api::token_with(json!({"role": "tenant_member", "tenant_id": a.id, "aud": "elsewhere"})))
        .header("Accept-Profile", "hrms")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_subdomain_must_be_the_tokens_tenant() {
    let api = api::start_with(&[("TENANCY_BASE_DOMAIN", "tenancy.test")]).await;
    let a = tenant_with_employees(1).await;
    let b = tenant_with_employees(1).await;
    let get = |host: String| api.as_tenant(Method::GET, "/employees", a.id, "hrms").header("Host", host).send();
    assert_eq!(get(format!("{}.tenancy.test", a.slug)).await.unwrap().status(), StatusCode::OK);
    let (status, body) = json(get(format!("{}.tenancy.test:3000", b.slug)).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("TN005")), "{body}");
    assert_eq!(
        get("elsewhere.example".into()).await.unwrap().status(),
        StatusCode::OK,
        "not under the base domain: no claim"
    );
}
