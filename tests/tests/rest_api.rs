//! The REST server over HTTP, with postgrest-rs (a real PostgREST client) where it can say
//! the request, plain HTTP where it cannot.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::*;
use uuid::Uuid;

/// A tenant with hrms and chat, and `n` employees numbered 1..=n.
async fn tenant_with_employees(n: i32) -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms", "chat"]).await;
    as_tenant(
        &mut admin,
        t.id,
        &format!(
            "INSERT INTO hrms.employees (first_name, last_name, email, salary, job_title)
             SELECT 'First' || i, 'Last' || i, 'e' || i || '@x.example', 1000 * i,
                    CASE WHEN i % 2 = 0 THEN 'engineer' ELSE 'sales rep' END
             FROM generate_series(1, {n}) i"
        ),
    )
    .await
    .unwrap();
    t
}

#[tokio::test]
async fn a_tenant_reads_its_rows_with_filters_order_and_limits() {
    let api = api::start().await;
    let t = tenant_with_employees(10).await;
    let db = api.client(Some(&token(t.id))).schema("hrms");

    let (status, rows) = json(db.from("employees").select("first_name,salary").execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows.as_array().unwrap().len(), 10);
    assert_eq!(rows[0].as_object().unwrap().len(), 2, "only the selected columns: {rows}");

    let response = db
        .from("employees")
        .select("name:first_name,salary")
        .gte("salary", "3000")
        .like("job_title", "eng*")
        .order("salary.desc")
        .limit(2)
        .execute()
        .await
        .unwrap();
    let (_, rows) = json(response).await;
    assert_eq!(rows, json!([{"name": "First10", "salary": 10000.00}, {"name": "First8", "salary": 8000.00}]));

    let (_, rows) = json(
        db.from("employees")
            .select("first_name")
            .or("salary.lt.2000,first_name.eq.First9")
            .order("first_name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rows, json!([{"first_name": "First1"}, {"first_name": "First9"}]));

    let (_, rows) = json(
        db.from("employees")
            .select("first_name")
            .in_("first_name", ["First2", "First3"])
            .order("first_name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rows, json!([{"first_name": "First2"}, {"first_name": "First3"}]));

    let response =
        db.from("employees").select("first_name").order("salary").exact_count().range(2, 4).execute().await.unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(response.headers()["content-range"], "2-4/10");
    let (_, rows) = json(response).await;
    assert_eq!(rows, json!([{"first_name": "First3"}, {"first_name": "First4"}, {"first_name": "First5"}]));
}

#[tokio::test]
async fn one_object_is_one_row_or_406() {
    let api = api::start().await;
    let t = tenant_with_employees(3).await;
    let db = api.client(Some(&token(t.id))).schema("hrms");
    let (status, one) =
        json(db.from("employees").select("first_name").eq("first_name", "First2").single().execute().await.unwrap())
            .await;
    assert_eq!((status, one), (StatusCode::OK, json!({"first_name": "First2"})));
    let (status, body) = json(db.from("employees").select("first_name").single().execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(body["code"], "PGRST116");
}

#[tokio::test]
async fn writes_return_what_was_asked() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    let db = api.client(Some(&token(t.id))).schema("hrms");

    let created = db
        .from("employees")
        .select("first_name,tenant_id")
        .insert(r#"[{"first_name": "Grace", "last_name": "H", "email": "grace@x.example"}]"#)
        .execute()
        .await
        .unwrap();
    let (status, rows) = json(created).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(rows, json!([{"first_name": "Grace", "tenant_id": t.id}]), "tenant_id defaults to the token's tenant");

    let updated =
        db.from("employees").eq("first_name", "Grace").update(r#"{"job_title": "admiral"}"#).execute().await.unwrap();
    let (status, rows) = json(updated).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows[0]["job_title"], "admiral");

    let minimal = api
        .http()
        .post(format!("{}/employees", api.url))
        .bearer_auth(token(t.id))
        .header("Content-Profile", "hrms")
        .header("Prefer", "return=minimal")
        .json(&json!({"first_name": "Alan", "last_name": "T", "email": "alan@x.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(minimal.status(), StatusCode::CREATED);
    assert_eq!(minimal.text().await.unwrap(), "");

    let deleted = db.from("employees").eq("first_name", "Alan").delete().execute().await.unwrap();
    let (_, rows) = json(deleted).await;
    assert_eq!(rows.as_array().unwrap().len(), 1);
    let admin = superuser().await;
    let left: i64 =
        admin.query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1", &[&t.id]).await.unwrap().get(0);
    assert_eq!(left, 2);
}

#[tokio::test]
async fn a_single_object_write_of_several_rows_changes_nothing() {
    let api = api::start().await;
    let t = tenant_with_employees(3).await;
    let response = api
        .http()
        .patch(format!("{}/employees", api.url))
        .bearer_auth(token(t.id))
        .header("Content-Profile", "hrms")
        .header("Accept", "application/vnd.pgrst.object+json")
        .json(&json!({"job_title": "everyone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    let admin = superuser().await;
    let changed: i64 = admin
        .query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1 AND job_title = 'everyone'", &[&t.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(changed, 0, "rolled back");
}

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
    let (status, _) =
        json(db.from("employees").eq("first_name", "First1").update(moved).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "move a row to B");

    let admin = superuser().await;
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

    let spoofed = http
        .get(&url)
        .bearer_auth(token(a.id))
        .header("Accept-Profile", "hrms")
        .header("X-Tenant-ID", b.id.to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = json(spoofed).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("TN101")));
    let same = http
        .get(&url)
        .bearer_auth(token(a.id))
        .header("Accept-Profile", "hrms")
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
    assert!(body["requestId"].is_string() && body["timestamp"].is_string());

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

#[tokio::test]
async fn client_mistakes_are_clear_4xx_errors() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    let http = api.http();
    let get = |path: &str| {
        http.get(format!("{}{path}", api.url)).bearer_auth(token(t.id)).header("Accept-Profile", "hrms").send()
    };
    for (path, status, code) in [
        ("/nope", StatusCode::NOT_FOUND, "PGRST205"),
        ("/employees?select=nope", StatusCode::BAD_REQUEST, "PGRST204"),
        ("/employees?nope=eq.1", StatusCode::BAD_REQUEST, "PGRST204"),
        ("/employees?salary=eq.abc", StatusCode::BAD_REQUEST, "22P02"),
        ("/employees?select=first_name,(", StatusCode::BAD_REQUEST, "PGRST100"),
        ("/employees?salary=is.maybe", StatusCode::BAD_REQUEST, "PGRST100"),
        ("/employees?order=salary.sideways", StatusCode::BAD_REQUEST, "PGRST100"),
    ] {
        let (got, body) = json(get(path).await.unwrap()).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}: {body}");
    }
    let (status, body) = json(
        http.get(format!("{}/employees", api.url))
            .bearer_auth(token(t.id))
            .header("Accept-Profile", "nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_ACCEPTABLE, Some("PGRST106")));

    let post = |body: String| {
        http.post(format!("{}/employees", api.url))
            .bearer_auth(token(t.id))
            .header("Content-Profile", "hrms")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let (status, body) = json(post("{not json".into()).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST102")));
    let (status, body) = json(post(r#"{"nope": 1}"#.into()).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST204")));
    let huge = format!(r#"{{"first_name": "{}", "last_name": "x", "email": "big@x.example"}}"#, "x".repeat(100_000));
    let (status, body) = json(post(huge).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("PGRST413")));

    let admin = superuser().await;
    let rows: i64 =
        admin.query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1", &[&t.id]).await.unwrap().get(0);
    assert_eq!(rows, 1, "no bad request wrote anything");
}

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
async fn prefer_tx_rollback_is_honoured_only_where_allowed() {
    let t = tenant_with_employees(0).await;
    let body = json!({"first_name": "Tmp", "last_name": "T", "email": "tmp@x.example"});
    for (tx_end, kept) in [("commit-allow-override", 0i64), ("commit", 1)] {
        let api = api::start_with(&[("PGRST_DB_TX_END", tx_end)]).await;
        let response = api
            .http()
            .post(format!("{}/employees", api.url))
            .bearer_auth(token(t.id))
            .header("Content-Profile", "hrms")
            .header("Prefer", "return=representation, tx=rollback")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, rows) = json(response).await;
        assert_eq!((status, rows[0]["first_name"].as_str()), (StatusCode::CREATED, Some("Tmp")), "{tx_end}");
        let admin = superuser().await;
        let n: i64 = admin
            .query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1 AND first_name = 'Tmp'", &[&t.id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, kept, "{tx_end}");
        admin.execute("DELETE FROM hrms.employees WHERE tenant_id = $1", &[&t.id]).await.unwrap();
    }
}

#[tokio::test]
async fn head_answers_headers_only() {
    let api = api::start().await;
    let t = tenant_with_employees(4).await;
    let response = api
        .http()
        .head(format!("{}/employees", api.url))
        .bearer_auth(token(t.id))
        .header("Accept-Profile", "hrms")
        .header("Prefer", "count=exact")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-range"], "0-3/4");
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn the_schema_cache_reloads_on_notify() {
    let api = api::start().await;
    let t = tenant_with_employees(0).await;
    let admin = superuser().await;
    let table = format!("reload_probe_{}", &Uuid::new_v4().simple().to_string()[..8]);
    let get = || {
        api.http().get(format!("{}/{table}", api.url)).bearer_auth(token(t.id)).header("Accept-Profile", "hrms").send()
    };
    assert_eq!(get().await.unwrap().status(), StatusCode::NOT_FOUND);
    admin
        .batch_execute(&format!(
            "CREATE TABLE hrms.{table} (note text); INSERT INTO hrms.{table} VALUES ('hi');
             GRANT SELECT ON hrms.{table} TO tenant_member; NOTIFY pgrst, 'reload schema'"
        ))
        .await
        .unwrap();
    let mut status = StatusCode::NOT_FOUND;
    for _ in 0..50 {
        status = get().await.unwrap().status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    admin.batch_execute(&format!("DROP TABLE hrms.{table}")).await.unwrap();
    assert_eq!(status, StatusCode::OK);
}

/// A tenant with two departments (Sales: 2 employees, Tech: 1) and one user linked to Ada.
async fn tenant_with_departments() -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    as_tenant(
        &mut admin,
        t.id,
        "INSERT INTO hrms.departments (name) VALUES ('Sales'), ('Tech');
         INSERT INTO core.users (email, display_name) VALUES ('ada@x.example', 'Ada');
         INSERT INTO hrms.employees (first_name, last_name, email, department_id, user_id)
         SELECT v.f, 'L', v.f || '@x.example', d.id, u.id
         FROM (VALUES ('Ada', 'Sales'), ('Bob', 'Sales'), ('Cy', 'Tech')) v (f, dept)
         JOIN hrms.departments d ON d.name = v.dept
         LEFT JOIN core.users u ON v.f = 'Ada';",
    )
    .await
    .unwrap();
    t
}

#[tokio::test]
async fn resources_embed_through_foreign_keys() {
    let api = api::start().await;
    let t = tenant_with_departments().await;
    let db = || api.client(Some(&token(t.id))).schema("hrms");

    let (status, rows) = json(
        db().from("employees")
            .select("first_name,dept:departments(name),users(email)")
            .order("first_name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(
        rows,
        json!([
            {"first_name": "Ada", "dept": {"name": "Sales"}, "users": {"email": "ada@x.example"}},
            {"first_name": "Bob", "dept": {"name": "Sales"}, "users": null},
            {"first_name": "Cy", "dept": {"name": "Tech"}, "users": null}
        ]),
        "many-to-one, across schemas too"
    );

    let response = db()
        .from("departments")
        .select("name,employees(first_name)")
        .order("name")
        .order_with_options("first_name", Some("employees"), false, true)
        .execute()
        .await
        .unwrap();
    let (_, rows) = json(response).await;
    assert_eq!(
        rows,
        json!([
            {"name": "Sales", "employees": [{"first_name": "Bob"}, {"first_name": "Ada"}]},
            {"name": "Tech", "employees": [{"first_name": "Cy"}]}
        ]),
        "one-to-many, ordered inside"
    );

    let (_, rows) = json(
        db().from("employees")
            .select("first_name,departments!inner(name)")
            .eq("departments.name", "Tech")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rows, json!([{"first_name": "Cy", "departments": {"name": "Tech"}}]), "!inner with an embedded filter");

    let (_, rows) = json(
        db().from("departments")
            .select("name,employees(first_name)")
            .eq("employees.first_name", "Ada")
            .limit(1)
            .order("name")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        rows,
        json!([{"name": "Sales", "employees": [{"first_name": "Ada"}]}]),
        "embedded filter without !inner keeps the parent"
    );

    let http = api.http();
    for (path, status, code) in [
        ("/employees?select=first_name,channels(name)", StatusCode::BAD_REQUEST, "PGRST200"),
        ("/employees?select=first_name,payslips(gross)", StatusCode::FORBIDDEN, "TN010"),
        ("/employees?select=first_name&departments.name=eq.Sales", StatusCode::BAD_REQUEST, "PGRST108"),
        ("/employees?select=first_name,departments(nope)", StatusCode::BAD_REQUEST, "PGRST204"),
    ] {
        let response = http
            .get(format!("{}{path}", api.url))
            .bearer_auth(token(t.id))
            .header("Accept-Profile", "hrms")
            .send()
            .await
            .unwrap();
        let (got, body) = json(response).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}: {body}");
    }
}

#[tokio::test]
async fn embedding_cannot_reach_another_tenant() {
    let api = api::start().await;
    let a = tenant_with_departments().await;
    let b = tenant_with_departments().await;
    let (_, rows) = json(
        api.client(Some(&token(a.id)))
            .schema("hrms")
            .from("departments")
            .select("tenant_id,employees(tenant_id)")
            .execute()
            .await
            .unwrap(),
    )
    .await;
    let tenants: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            std::iter::once(&d["tenant_id"]).chain(d["employees"].as_array().unwrap().iter().map(|e| &e["tenant_id"]))
        })
        .collect();
    assert_eq!(tenants.len(), 5);
    assert!(tenants.iter().all(|t| **t == json!(a.id)), "only A's rows: {rows}");
    assert!(!rows.to_string().contains(&b.id.to_string()));
}

#[tokio::test]
async fn functions_are_rpcs_scoped_to_the_tenant() {
    let api = api::start().await;
    let a = tenant_with_departments().await;
    let b = tenant_with_departments().await;
    let db = api.client(Some(&token(a.id))).schema("hrms");

    let (status, count) = json(db.rpc("headcount", "{}").execute().await.unwrap()).await;
    assert_eq!((status, count), (StatusCode::OK, json!(3)), "a scalar, counted under RLS: A's three only");

    let (_, rows) = json(db.rpc("headcount_by_department", "").order("department").execute().await.unwrap()).await;
    assert_eq!(rows, json!([{"department": "Sales", "headcount": 2}, {"department": "Tech", "headcount": 1}]));

    // GET with arguments in the query string, filtered, ordered and embedded like a table.
    let response = api
        .http()
        .get(format!("{}/rpc/hired_since?since=2000-01-01&select=first_name,departments(name)&first_name=neq.Bob&order=first_name", api.url))
        .bearer_auth(token(a.id))
        .header("Accept-Profile", "hrms")
        .send()
        .await
        .unwrap();
    let (status, rows) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(
        rows,
        json!([{"first_name": "Ada", "departments": {"name": "Sales"}}, {"first_name": "Cy", "departments": {"name": "Tech"}}])
    );

    // POST runs a volatile function and returns its row as an object; it cannot touch B.
    let b_employee: Uuid = superuser()
        .await
        .query_one("SELECT id FROM hrms.employees WHERE tenant_id = $1 LIMIT 1", &[&b.id])
        .await
        .unwrap()
        .get(0);
    let (status, body) =
        json(db.rpc("give_raise", json!({"employee": b_employee, "percent": 50}).to_string()).execute().await.unwrap())
            .await;
    assert_eq!((status, &body["id"]), (StatusCode::OK, &json!(null)), "B's employee is not there to raise: {body}");
    let salary: Option<f64> = superuser()
        .await
        .query_one("SELECT salary::float8 FROM hrms.employees WHERE id = $1", &[&b_employee])
        .await
        .unwrap()
        .get(0);
    assert_eq!(salary, None, "unchanged (the fixture has no salary)");

    // GET runs in a read-only transaction: a writing function is refused.
    let a_employee: Uuid = superuser()
        .await
        .query_one("SELECT id FROM hrms.employees WHERE tenant_id = $1 LIMIT 1", &[&a.id])
        .await
        .unwrap()
        .get(0);
    let response = api
        .http()
        .get(format!("{}/rpc/give_raise?employee={a_employee}&percent=10", api.url))
        .bearer_auth(token(a.id))
        .header("Accept-Profile", "hrms")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("25006")));

    let (status, body) = json(db.rpc("nope", "{}").execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("PGRST202")));
    let (status, body) = json(db.rpc("hired_since", r#"{"until": "2020-01-01"}"#).execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("PGRST202")), "unknown argument");
    let (status, body) = json(db.rpc("hired_since", r#"{"since": "yesterday-ish"}"#).execute().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("22007")),
        "a bad value is the client's mistake"
    );
}

#[tokio::test]
async fn anyone_reads_a_tenants_public_config_by_slug() {
    let api = api::start().await;
    let admin = superuser().await;
    let t = create_tenant(&admin, "standard", &["hrms", "payroll"]).await;
    let anon = api.client(None).schema("api");
    let (status, config) =
        json(anon.rpc("tenant_config", json!({"slug": t.slug}).to_string()).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{config}");
    assert_eq!(config["slug"], json!(t.slug));
    let modules: Vec<&str> = config["modules"].as_array().unwrap().iter().map(|m| m["key"].as_str().unwrap()).collect();
    assert_eq!(modules, vec!["users", "hrms", "payroll"]);
    let (status, body) =
        json(anon.rpc("tenant_config", r#"{"slug": "no-such-tenant"}"#).execute().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("TN001")));
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&t.id]).await.unwrap();
    let (status, _) =
        json(anon.rpc("tenant_config", json!({"slug": t.slug}).to_string()).execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a suspended tenant shows nothing");
}

#[tokio::test]
async fn upserts_merge_or_ignore_and_stay_in_the_tenant() {
    let api = api::start().await;
    let a = tenant_with_departments().await;
    let b = tenant_with_departments().await;
    let admin = superuser().await;
    let id_of = |tenant: Uuid, name: &'static str| {
        let admin = &admin;
        async move {
            admin
                .query_one("SELECT id FROM hrms.employees WHERE tenant_id = $1 AND first_name = $2", &[&tenant, &name])
                .await
                .unwrap()
                .get::<_, Uuid>(0)
        }
    };
    let (ada, bobs_of_b) = (id_of(a.id, "Ada").await, id_of(b.id, "Bob").await);
    let upsert = |prefer: &'static str, body: Value, query: &'static str| {
        api.http()
            .post(format!("{}/employees{query}", api.url))
            .bearer_auth(token(a.id))
            .header("Content-Profile", "hrms")
            .header("Prefer", format!("return=representation, {prefer}"))
            .json(&body)
            .send()
    };
    let row = |id: Uuid, title: &str, email: &str| json!({"id": id, "first_name": "X", "last_name": "Y", "email": email, "job_title": title});

    let (status, rows) =
        json(upsert("resolution=merge-duplicates", json!([row(ada, "merged", "ada@x.example")]), "").await.unwrap())
            .await;
    assert_eq!((status, rows[0]["job_title"].as_str()), (StatusCode::CREATED, Some("merged")), "{rows}");
    let (_, rows) =
        json(upsert("resolution=ignore-duplicates", json!([row(ada, "ignored", "ada@x.example")]), "").await.unwrap())
            .await;
    assert_eq!(rows, json!([]), "ignored: nothing written");
    let (status, rows) = json(
        upsert(
            "resolution=merge-duplicates",
            json!([row(Uuid::new_v4(), "by email", "ada@x.example")]),
            "?on_conflict=tenant_id,email",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, rows[0]["job_title"].as_str()), (StatusCode::CREATED, Some("by email")), "{rows}");
    let same_email: i64 = admin
        .query_one("SELECT count(*) FROM hrms.employees WHERE tenant_id = $1 AND email = 'ada@x.example'", &[&a.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(same_email, 1, "on_conflict named the key: the row was merged, not added");

    // B's key cannot be hit: the key includes tenant_id, so this is a new row of A.
    let (status, rows) = json(
        upsert("resolution=merge-duplicates", json!([row(bobs_of_b, "pwned", "new@x.example")]), "").await.unwrap(),
    )
    .await;
    assert_eq!((status, rows[0]["tenant_id"].clone()), (StatusCode::CREATED, json!(a.id)));
    let title: Option<String> = admin
        .query_one("SELECT job_title FROM hrms.employees WHERE id = $1 AND tenant_id = $2", &[&bobs_of_b, &b.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(title, None, "B's Bob untouched");
    let (status, _) = json(
        upsert(
            "resolution=merge-duplicates",
            json!([{"tenant_id": b.id, "id": bobs_of_b, "first_name": "E", "last_name": "V", "email": "e@x.example"}]),
            "",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an upsert naming B is refused");
}

#[tokio::test]
async fn put_replaces_one_row_named_by_its_key() {
    let api = api::start().await;
    let a = tenant_with_departments().await;
    let new_id = Uuid::new_v4();
    let put = |id: Uuid, body: Value| {
        api.http()
            .put(format!("{}/employees?id=eq.{id}", api.url))
            .bearer_auth(token(a.id))
            .header("Content-Profile", "hrms")
            .header("Prefer", "return=representation")
            .json(&body)
            .send()
    };
    let body = json!({"id": new_id, "first_name": "Put", "last_name": "P", "email": "put@x.example"});
    let (status, rows) = json(put(new_id, body.clone()).await.unwrap()).await;
    assert_eq!((status, rows[0]["first_name"].as_str()), (StatusCode::OK, Some("Put")), "{rows}");
    let (_, rows) = json(
        put(new_id, json!({"id": new_id, "first_name": "Again", "last_name": "P", "email": "put@x.example"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((rows.as_array().unwrap().len(), rows[0]["first_name"].as_str()), (1, Some("Again")));
    let (status, body) = json(put(Uuid::new_v4(), body).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST115")), "body and URL disagree");
}

#[tokio::test]
async fn browsers_may_call_and_slow_statements_are_cut_off() {
    let admin = superuser().await;
    let slow = format!("slow_{}", &Uuid::new_v4().simple().to_string()[..8]);
    admin
        .batch_execute(&format!(
            "CREATE FUNCTION hrms.{slow}() RETURNS int LANGUAGE sql AS 'SELECT 1 FROM pg_sleep(0.5)'"
        ))
        .await
        .unwrap();
    let api = api::start_with(&[("TENANCY_STATEMENT_TIMEOUT_MS", "100")]).await;
    let t = tenant_with_employees(1).await;

    let preflight = api
        .http()
        .request(reqwest::Method::OPTIONS, format!("{}/employees", api.url))
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PATCH")
        .header("Access-Control-Request-Headers", "authorization,prefer")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let read = api
        .http()
        .get(format!("{}/employees", api.url))
        .bearer_auth(token(t.id))
        .header("Accept-Profile", "hrms")
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    let exposed = read.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("content-range") && exposed.contains("x-request-id"), "{exposed}");

    let (status, body) =
        json(api.client(Some(&token(t.id))).schema("hrms").rpc(&slow, "{}").execute().await.unwrap()).await;
    admin.batch_execute(&format!("DROP FUNCTION hrms.{slow}()")).await.unwrap();
    assert_eq!((status, body["code"].as_str()), (StatusCode::GATEWAY_TIMEOUT, Some("57014")), "{body}");
}

#[tokio::test]
async fn the_openapi_document_lists_what_the_role_may_use() {
    let api = api::start().await;
    let t = tenant_with_employees(0).await;
    let get = |token: Option<String>, profile: &'static str| {
        let mut request = api.http().get(format!("{}/", api.url)).header("Accept-Profile", profile);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    let (status, doc) = json(get(Some(token(t.id)), "hrms").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    let employees = &doc["paths"]["/employees"];
    for method in ["get", "post", "patch", "delete"] {
        assert!(employees.get(method).is_some(), "{method} on /employees");
    }
    assert!(doc["paths"]["/rpc/hired_since"]["post"].is_object());
    assert_eq!(doc["components"]["schemas"]["employees"]["properties"]["salary"]["type"], "number");

    let (status, doc) = json(get(None, "hrms").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["paths"], json!({}), "the anonymous role may use nothing in hrms");
    let (_, doc) = json(get(None, "api").await.unwrap()).await;
    assert!(doc["paths"]["/rpc/tenant_config"].is_object(), "but it may ask for a tenant's public config");
}

#[tokio::test]
async fn a_subdomain_must_be_the_tokens_tenant() {
    let api = api::start_with(&[("TENANCY_BASE_DOMAIN", "tenancy.test")]).await;
    let a = tenant_with_employees(1).await;
    let b = tenant_with_employees(1).await;
    let get = |host: String| {
        api.http()
            .get(format!("{}/employees", api.url))
            .bearer_auth(token(a.id))
            .header("Accept-Profile", "hrms")
            .header("Host", host)
            .send()
    };
    assert_eq!(get(format!("{}.tenancy.test", a.slug)).await.unwrap().status(), StatusCode::OK);
    let (status, body) = json(get(format!("{}.tenancy.test:3000", b.slug)).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("TN005")), "{body}");
    assert_eq!(
        get("elsewhere.example".into()).await.unwrap().status(),
        StatusCode::OK,
        "not under the base domain: no claim"
    );
}

#[tokio::test]
async fn each_tenant_has_its_own_rate_limit() {
    let api = api::start_with(&[("TENANCY_RATE_LIMIT_RPS", "1"), ("TENANCY_RATE_LIMIT_BURST", "2")]).await;
    let a = tenant_with_employees(1).await;
    let b = tenant_with_employees(1).await;
    let get = |tenant: Uuid| {
        api.http()
            .get(format!("{}/employees", api.url))
            .bearer_auth(token(tenant))
            .header("Accept-Profile", "hrms")
            .send()
    };
    for _ in 0..2 {
        assert_eq!(get(a.id).await.unwrap().status(), StatusCode::OK);
    }
    let limited = get(a.id).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(get(b.id).await.unwrap().status(), StatusCode::OK, "B has its own bucket");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let api = api::start().await;
    let t = tenant_with_employees(1).await;
    for path in ["/employees", "/nope"] {
        api.http()
            .get(format!("{}{path}", api.url))
            .bearer_auth(token(t.id))
            .header("Accept-Profile", "hrms")
            .send()
            .await
            .unwrap();
    }
    let text = api.http().get(format!("{}/metrics", api.admin_url)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"tenancy_http_requests_total{route="/{resource}",method="GET",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"tenancy_http_requests_total{route="/{resource}",method="GET",status="404"} 1"#), "{text}");
    assert!(!text.contains("/employees") && !text.contains(&t.id.to_string()), "no raw paths or tenant ids in labels");
    assert!(text.contains("tenancy_tenants_served 1"), "{text}");
    assert!(text.contains("tenancy_http_request_duration_seconds_count"), "{text}");
    assert!(text.contains(r#"tenancy_pool_connections{state="max"} 4"#), "{text}");
}

/// A TCP proxy in front of PostgreSQL that the test can take down (dropping every
/// connection through it) and bring back.
struct Proxy {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        use std::sync::atomic::Ordering;
        let pg_port: u16 = std::env::var("PGPORT").ok().and_then(|p| p.parse().ok()).unwrap_or(54329);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            up: Default::default(),
            connections: Default::default(),
        };
        proxy.up.store(true, Ordering::SeqCst);
        let (up, connections) = (proxy.up.clone(), proxy.connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up.load(Ordering::SeqCst) {
                    continue; // refused: dropped at once
                }
                connections.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", pg_port)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        proxy
    }

    fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn while_the_database_is_down_requests_get_503_and_then_recover() {
    let proxy = Proxy::start().await;
    let uri = format!("postgres://authenticator@127.0.0.1:{}/tenancy", proxy.port);
    let api = api::start_with(&[("PGRST_DB_URI", uri.as_str())]).await;
    let t = tenant_with_employees(1).await;
    let get = || {
        api.http()
            .get(format!("{}/employees", api.url))
            .bearer_auth(token(t.id))
            .header("Accept-Profile", "hrms")
            .send()
    };
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);

    proxy.down();
    for _ in 0..2 {
        let response = get().await.unwrap();
        assert!(response.headers().contains_key("retry-after"));
        let (status, body) = json(response).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("PGRST000")), "{body}");
    }
    assert_eq!(
        api.http().get(format!("{}/health", api.url)).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    proxy.up();
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..20 {
        status = get().await.unwrap().status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::OK, "recovered without a restart");
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
    let get = |block: &'static str| {
        api.http()
            .get(format!("{}/employees", api.url))
            .bearer_auth(token(t.id))
            .header("Accept-Profile", "hrms")
            .header("X-Block", block)
            .send()
    };
    let allowed = get("no").await.unwrap().status();
    let (status, body) = json(get("yes").await.unwrap()).await;
    admin.batch_execute(&format!("DROP FUNCTION api.{guard}()")).await.unwrap();
    assert_eq!(allowed, StatusCode::OK);
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("P0001")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("role tenant_member"), "it ran as the request's role: {body}");
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
async fn csv_is_served_on_request() {
    let api = api::start().await;
    let t = tenant_with_employees(2).await;
    let response = api
        .http()
        .get(format!("{}/employees?select=first_name,salary,job_title&order=first_name", api.url))
        .bearer_auth(token(t.id))
        .header("Accept-Profile", "hrms")
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        response.text().await.unwrap(),
        "first_name,salary,job_title\nFirst1,1000.00,\"sales rep\"\nFirst2,2000.00,engineer"
    );
    let refused = api
        .http()
        .get(format!("{}/employees", api.url))
        .bearer_auth(token(t.id))
        .header("Accept-Profile", "hrms")
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn headers_only_answers_where_the_row_is() {
    let api = api::start().await;
    let t = tenant_with_employees(0).await;
    let created = api
        .http()
        .post(format!("{}/employees", api.url))
        .bearer_auth(token(t.id))
        .header("Content-Profile", "hrms")
        .header("Prefer", "return=headers-only")
        .json(&json!({"first_name": "Loc", "last_name": "L", "email": "loc@x.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/employees?") && location.contains(&format!("tenant_id=eq.{}", t.id)), "{location}");
    assert!(location.contains("id=eq."), "{location}");
    assert_eq!(created.text().await.unwrap(), "");
    let (_, rows) = json(
        api.http()
            .get(format!("{}{location}", api.url))
            .bearer_auth(token(t.id))
            .header("Accept-Profile", "hrms")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rows[0]["first_name"], "Loc");
}
