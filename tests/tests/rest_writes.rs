//! Writes over REST: what `return=` asks for, a single-object write of several rows rolled
//! back, `Prefer: tx=rollback` where allowed, upserts (merge, ignore, `on_conflict`) that stay in
//! the tenant, `PUT` of one row by its key, `return=headers-only` with `Location`.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::{tenant_with_departments, tenant_with_employees};
use tenancy_e2e::*;
use uuid::Uuid;

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
        .as_tenant(Method::POST, "/employees", t.id, "hrms")
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
        .as_tenant(Method::PATCH, "/employees", t.id, "hrms")
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
async fn prefer_tx_rollback_is_honoured_only_where_allowed() {
    let t = tenant_with_employees(0).await;
    let body = json!({"first_name": "Tmp", "last_name": "T", "email": "tmp@x.example"});
    for (tx_end, kept) in [("commit-allow-override", 0i64), ("commit", 1)] {
        let api = api::start_with(&[("PGRST_DB_TX_END", tx_end)]).await;
        let response = api
            .as_tenant(Method::POST, "/employees", t.id, "hrms")
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
        api.as_tenant(Method::POST, &format!("/employees{query}"), a.id, "hrms")
            .header("Prefer", format!("return=representation, {prefer}"))
            .json(&body)
            .send()
    };
    let row = |id: Uuid, title: &str, email: &str| json!({"id": id, "first_name": "X", "last_name": "Y", "email": email, "job_title": title});

    let (status, rows) =
        json(upsert("resolution=merge-duplicates", json!([row(ada, "merged", "ada@x.example")]), "").await.unwrap())
            .await;
    // The row existed: merged, nothing inserted, 200 as in PostgREST.
    assert_eq!((status, rows[0]["job_title"].as_str()), (StatusCode::OK, Some("merged")), "{rows}");
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
    assert_eq!((status, rows[0]["job_title"].as_str()), (StatusCode::OK, Some("by email")), "{rows}");
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
        api.as_tenant(Method::PUT, &format!("/employees?id=eq.{id}"), a.id, "hrms")
            .header("Prefer", "return=representation")
            .json(&body)
            .send()
    };
    let body = json!({"id": new_id, "first_name": "Put", "last_name": "P", "email": "put@x.example"});
    let (status, rows) = json(put(new_id, body.clone()).await.unwrap()).await;
    assert_eq!((status, rows[0]["first_name"].as_str()), (StatusCode::CREATED, Some("Put")), "created: {rows}");
    let (status, rows) = json(
        put(new_id, json!({"id": new_id, "first_name": "Again", "last_name": "P", "email": "put@x.example"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "replaced");
    assert_eq!((rows.as_array().unwrap().len(), rows[0]["first_name"].as_str()), (1, Some("Again")));
    let (status, body) = json(put(Uuid::new_v4(), body).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST115")), "body and URL disagree");
}

#[tokio::test]
async fn headers_only_answers_where_the_row_is() {
    let api = api::start().await;
    let t = tenant_with_employees(0).await;
    let created = api
        .as_tenant(Method::POST, "/employees", t.id, "hrms")
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
    let (_, rows) = json(api.as_tenant(Method::GET, &location, t.id, "hrms").send().await.unwrap()).await;
    assert_eq!(rows[0]["first_name"], "Loc");
}
