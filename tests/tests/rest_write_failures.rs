//! Writes that fail leave nothing (issue 10, item 4): a request answered with an error commits
//! nothing, for a function that writes exactly as for a table, even under `Prefer: tx=commit`;
//! `Prefer: handling=strict, max-affected=n` refuses and rolls back; and the safe-update guard
//! (TENANCY_SAFE_UPDATES) refuses a PATCH or DELETE without a filter.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token, Api};
use tenancy_e2e::*;
use tokio_postgres::Client;

/// A schema of the test's own with `hire(names text[])`, which inserts one employee per name
/// into the caller's tenant and returns them (a function that writes and returns rows).
struct HiringSchema {
    name: String,
    admin: Client,
}

impl HiringSchema {
    async fn create() -> HiringSchema {
        let name = unique("hiring").replace('-', "_");
        let admin = superuser().await;
        admin
            .batch_execute(&format!(
                "CREATE SCHEMA {name};
                 GRANT USAGE ON SCHEMA {name} TO tenant_member;
                 CREATE FUNCTION {name}.hire(names text[]) RETURNS SETOF hrms.employees LANGUAGE sql AS $$
                     INSERT INTO hrms.employees (first_name, last_name, email)
                     SELECT n, 'Hired', n || '@hire.example' FROM unnest(names) AS n
                     RETURNING * $$;"
            ))
            .await
            .unwrap();
        HiringSchema { name, admin }
    }

    /// The server, exposing the schema first (the default profile) and hrms.
    async fn api(&self, extra: &[(&str, &str)]) -> Api {
        let schemas = format!("{},hrms", self.name);
        let mut settings = vec![("PGRST_DB_SCHEMAS", schemas.as_str())];
        settings.extend_from_slice(extra);
        api::start_with(&settings).await
    }

    async fn drop(self) {
        self.admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name)).await.unwrap();
    }
}

async fn hired(tenant: &Tenant) -> i64 {
    superuser()
        .await
        .query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1 AND last_name = 'Hired'", &[&tenant.id])
        .await
        .unwrap()
        .get(0)
}

/// `POST /rpc/hire` for `tenant` with these headers.
async fn hire(api: &Api, tenant: &Tenant, names: &[&str], headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut request = api.http().post(format!("{}/rpc/hire", api.url)).bearer_auth(token(tenant.id));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    json(request.json(&json!({"names": names})).send().await.unwrap()).await
}

const OBJECT: (&str, &str) = ("Accept", "application/vnd.pgrst.object+json");

#[tokio::test]
async fn a_function_call_answered_406_commits_nothing() {
    let schema = HiringSchema::create().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let api = schema.api(&[("PGRST_DB_TX_END", "commit-allow-override")]).await;

    let (status, body) = hire(&api, &t, &["ada", "grace"], &[OBJECT]).await;
    assert_eq!((status, &body["code"]), (StatusCode::NOT_ACCEPTABLE, &json!("PGRST116")), "{body}");
    assert_eq!(body["details"], "The result contains 2 rows");
    let (status, body) = hire(&api, &t, &["ada", "grace"], &[OBJECT, ("Prefer", "tx=commit")]).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{body}");
    let written = hired(&t).await;

    let (status, one) = hire(&api, &t, &["alan"], &[OBJECT]).await;
    schema.drop().await;
    assert_eq!(written, 0, "the writes of both refused calls were rolled back");
    assert_eq!((status, &one["first_name"]), (StatusCode::OK, &json!("alan")), "{one}");
    assert_eq!(hired(&t).await, 1, "one row asked, one row written: committed");
}

#[tokio::test]
async fn max_affected_refuses_a_function_that_touches_more_rows() {
    let schema = HiringSchema::create().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    let api = schema.api(&[]).await;

    let (status, body) = hire(&api, &t, &["ada", "grace"], &[("Prefer", "handling=strict, max-affected=1")]).await;
    let refused = hired(&t).await;
    let (lenient, _) = hire(&api, &t, &["alan", "edsger"], &[("Prefer", "max-affected=1")]).await;
    let after_lenient = hired(&t).await;
    let (within, _) = hire(&api, &t, &["barbara", "frances"], &[("Prefer", "handling=strict, max-affected=2")]).await;
    let after_within = hired(&t).await;
    schema.drop().await;

    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("PGRST124")), "{body}");
    assert_eq!(
        (&body["message"], &body["details"]),
        (&json!("Query result exceeds max-affected preference constraint"), &json!("The query affects 2 rows"))
    );
    assert_eq!(refused, 0, "rolled back");
    assert_eq!((lenient, after_lenient), (StatusCode::OK, 2), "without handling=strict it is ignored, as PostgREST");
    assert_eq!((within, after_within), (StatusCode::OK, 4));

    // A function returning one value has no rows to count: PostgREST refuses the preference.
    let response = api
        .http()
        .get(format!("{}/rpc/headcount", api.url))
        .bearer_auth(token(t.id))
        .header("Accept-Profile", "hrms")
        .header("Prefer", "handling=strict, max-affected=1")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("PGRST128")), "{body}");
}

/// A tenant with three employees, last name `L`, job `clerk`.
async fn three_clerks() -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    as_tenant(
        &mut admin,
        t.id,
        "INSERT INTO hrms.employees (first_name, last_name, email, job_title)
         SELECT 'E' || i, 'L', 'e' || i || '@x.example', 'clerk' FROM generate_series(1, 3) i RETURNING 1",
    )
    .await
    .unwrap();
    t
}

/// (employees, of which clerks) of the tenant.
async fn staff(t: &Tenant) -> (i64, i64) {
    let row = superuser()
        .await
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE job_title = 'clerk') FROM hrms.employees WHERE tenant_id = $1",
            &[&t.id],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

async fn write(
    api: &Api,
    t: &Tenant,
    method: reqwest::Method,
    query: &str,
    prefer: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = api
        .http()
        .request(method.clone(), format!("{}/employees{query}", api.url))
        .bearer_auth(token(t.id))
        .header("Content-Profile", "hrms");
    if let Some(prefer) = prefer {
        request = request.header("Prefer", prefer);
    }
    if method == reqwest::Method::PATCH {
        request = request.json(&json!({"job_title": "manager"}));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn max_affected_rolls_back_a_patch_or_delete_of_too_many_rows() {
    let api = api::start().await;
    let t = three_clerks().await;
    let strict = |n: u32| format!("handling=strict, max-affected={n}");

    let (status, body) = write(&api, &t, reqwest::Method::PATCH, "?last_name=eq.L", Some(&strict(2))).await;
    assert_eq!(
        (status, &body["code"], &body["details"]),
        (StatusCode::BAD_REQUEST, &json!("PGRST124"), &json!("The query affects 3 rows"))
    );
    assert_eq!(staff(&t).await, (3, 3), "nothing changed");
    let (status, body) = write(&api, &t, reqwest::Method::DELETE, "?last_name=eq.L", Some(&strict(1))).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("PGRST124")));
    assert_eq!(staff(&t).await, (3, 3), "nothing deleted");

    let (status, _) = write(&api, &t, reqwest::Method::PATCH, "?first_name=eq.E1", Some(&strict(1))).await;
    assert_eq!((status, staff(&t).await), (StatusCode::NO_CONTENT, (3, 2)), "within the limit");
    let (status, _) = write(&api, &t, reqwest::Method::DELETE, "?last_name=eq.L", Some("max-affected=1")).await;
    assert_eq!((status, staff(&t).await), (StatusCode::NO_CONTENT, (0, 0)), "lenient: ignored, as PostgREST");
}

#[tokio::test]
async fn the_safe_update_guard_refuses_unfiltered_mass_writes() {
    // PostgREST's default: a PATCH without a filter changes every row the caller can see.
    let t = three_clerks().await;
    let api = api::start().await;
    let (status, _) = write(&api, &t, reqwest::Method::PATCH, "", None).await;
    assert_eq!((status, staff(&t).await), (StatusCode::NO_CONTENT, (3, 0)));

    let t = three_clerks().await;
    let guarded = api::start_with(&[("TENANCY_SAFE_UPDATES", "true")]).await;
    for method in [reqwest::Method::PATCH, reqwest::Method::DELETE] {
        for query in ["", "?select=first_name"] {
            let (status, body) = write(&guarded, &t, method.clone(), query, None).await;
            assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("TN104")), "{method} {query}: {body}");
            assert!(body["message"].as_str().unwrap().starts_with(method.as_str()), "{body}");
        }
    }
    assert_eq!(staff(&t).await, (3, 3), "nothing changed");
    let (status, _) = write(&guarded, &t, reqwest::Method::PATCH, "?first_name=eq.E2", None).await;
    assert_eq!((status, staff(&t).await), (StatusCode::NO_CONTENT, (3, 2)), "a filtered write passes");
    let (status, _) = write(&guarded, &t, reqwest::Method::DELETE, "?job_title=eq.clerk", None).await;
    assert_eq!((status, staff(&t).await), (StatusCode::NO_CONTENT, (1, 0)));
}
