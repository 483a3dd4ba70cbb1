//! PostgREST's codes and statuses for what a client gets wrong in headers and ranges, each
//! from the cause it names: 416 `PGRST103` for ranges no row satisfies, 406 `PGRST107` for an
//! `Accept` the server cannot answer, 400 `PGRST122` for preferences refused under
//! `handling=strict`, 405 `PGRST105` / 400 `PGRST115` for a PUT whose URL does not name its row.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token, Api};
use tenancy_e2e::*;
use uuid::Uuid;

async fn tenant_with_departments(n: i32) -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    // RETURNING: Citus copies an INSERT … SELECT without it, which row-level security refuses
    let sql = format!("INSERT INTO hrms.departments (name) SELECT 'd' || i FROM generate_series(1, {n}) i RETURNING 1");
    as_tenant(&mut admin, t.id, &sql).await.unwrap();
    t
}

async fn get(api: &Api, t: &Tenant, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request =
        api.http().get(format!("{}{path}", api.url)).bearer_auth(token(t.id)).header("Accept-Profile", "hrms");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn refused(body: &Value, code: &str, details: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["details"], details, "{body}");
}

#[tokio::test]
async fn ranges_no_row_satisfies_are_416() {
    let api = api::start().await;
    let t = tenant_with_departments(3).await;

    let response = get(&api, &t, "/departments?offset=5", &[("Prefer", "count=exact")]).await;
    assert_eq!(response.headers()["content-range"], "*/3");
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    refused(&body, "PGRST103", "An offset of 5 was requested, but there are only 3 rows.");
    assert_eq!(body["message"], "Requested range not satisfiable");

    let (status, body) = json(get(&api, &t, "/departments?limit=-1", &[]).await).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        (body["code"].as_str(), body["message"].as_str()),
        (Some("PGRST103"), Some("Requested range not satisfiable"))
    );
    assert_eq!(body["details"], "Limit should be greater than or equal to zero.");

    let (status, body) = json(get(&api, &t, "/departments", &[("Range", "2-1")]).await).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    refused(
        &body,
        "PGRST103",
        "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
    );

    // Without a count, a range past the end is simply empty; the last row is still a page.
    let response = get(&api, &t, "/departments?offset=5", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = get(&api, &t, "/departments?offset=3", &[("Prefer", "count=exact")]).await;
    assert_eq!(
        (response.status(), response.headers()["content-range"].to_str().unwrap()),
        (StatusCode::PARTIAL_CONTENT, "*/3")
    );
}

#[tokio::test]
async fn media_and_preferences_the_server_cannot_honour() {
    let api = api::start().await;
    let t = tenant_with_departments(1).await;
    let (status, body) = json(get(&api, &t, "/departments", &[("Accept", "image/png")]).await).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        (body["code"].as_str(), body["message"].as_str()),
        (Some("PGRST107"), Some("None of these media types are available: image/png"))
    );

    let (status, body) = json(get(&api, &t, "/departments", &[("Prefer", "handling=strict, foo=bar")]).await).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST122")), "{body}");
}

#[tokio::test]
async fn a_put_must_name_its_row_by_the_primary_key() {
    let api = api::start().await;
    let t = tenant_with_departments(0).await;
    let id = Uuid::new_v4();
    let put = |query: String, body: Value| {
        api.http()
            .put(format!("{}/departments?{query}", api.url))
            .bearer_auth(token(t.id))
            .header("Content-Profile", "hrms")
            .json(&body)
            .send()
    };
    let (status, body) = json(put("name=eq.x".to_string(), json!({"id": id, "name": "x"})).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("PGRST105")), "{body}");
    let (status, body) = json(put(format!("id=gt.{id}"), json!({"id": id, "name": "x"})).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("PGRST105")), "{body}");
    let (status, body) =
        json(put(format!("id=eq.{id}"), json!({"id": Uuid::new_v4(), "name": "x"})).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST115")), "{body}");
    let n: i64 =
        value(&superuser().await, &format!("SELECT count(*) FROM hrms.departments WHERE tenant_id = '{}'", t.id)).await;
    assert_eq!(n, 0, "nothing was written");
}

#[tokio::test]
async fn writes_answer_with_postgrests_headers() {
    let api = api::start().await;
    let t = tenant_with_departments(2).await;
    let send = |method: reqwest::Method, query: &str, prefer: &str, body: Option<Value>| {
        let mut request = api
            .http()
            .request(method, format!("{}/departments{query}", api.url))
            .bearer_auth(token(t.id))
            .header("Content-Profile", "hrms")
            .header("Prefer", prefer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let header = |r: &reqwest::Response, name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_string());

    // return=minimal: no body, no Content-Type; the range of what was written.
    let r = send(reqwest::Method::POST, "", "", Some(json!({"name": "new"}))).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!((header(&r, "content-type"), header(&r, "content-range")), (None, Some("*/*".into())));
    assert_eq!(header(&r, "content-profile"), None, "no body, no profile");
    assert_eq!(r.text().await.unwrap(), "");

    let r =
        send(reqwest::Method::PATCH, "?name=like.d*", "count=exact", Some(json!({"name": "renamed"}))).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&r, "content-range").as_deref(), Some("0-1/2"));
    assert_eq!((header(&r, "content-type"), header(&r, "preference-applied")), (None, Some("count=exact".into())));

    let r = send(reqwest::Method::DELETE, "?name=eq.new", "return=representation", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type").as_deref(), Some("application/json; charset=utf-8"));
    assert_eq!(header(&r, "preference-applied").as_deref(), Some("return=representation"));
    assert_eq!(header(&r, "content-range").as_deref(), Some("*/*"));
    assert_eq!(header(&r, "content-profile").as_deref(), Some("hrms"), "the negotiated schema, beside the body");
    let (_, rows) = json(r).await;
    assert_eq!(rows[0]["name"], "new");

    // A read lists the count it honoured; tx= only where the server lets a request choose.
    let r = get(&api, &t, "/departments", &[("Prefer", "count=exact, tx=rollback")]).await;
    assert_eq!(header(&r, "preference-applied").as_deref(), Some("count=exact"));
}
