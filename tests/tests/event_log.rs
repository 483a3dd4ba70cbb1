//! The event log: lifecycle changes and opted-in writes land in the tenant's log, its
//! administrators read their own tenant's log over REST, nobody changes it.
use reqwest::StatusCode;
use serde_json::json;
use tenancy_e2e::api::{self, json, token, token_with};
use tenancy_e2e::*;

fn admin_token(tenant: uuid::Uuid) -> String {
    token_with(json!({"role": "tenant_member", "tenant_id": tenant, "sub": "boss", "tenant_role": "tenant_admin"}))
}

#[tokio::test]
async fn writes_to_employees_are_logged_and_only_the_tenants_admins_read_them() {
    let api = api::start().await;
    let admin = superuser().await;
    let (t, other) = (create_tenant(&admin, "free", &["hrms"]).await, create_tenant(&admin, "free", &["hrms"]).await);
    let hr = api.client(Some(&token(t.id))).schema("hrms");
    let (status, created) = json(
        hr.from("employees")
            .insert(r#"{"first_name": "Ada", "last_name": "L", "email": "ada@x.example"}"#)
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created[0]["id"].as_str().unwrap().to_string();
    hr.from("employees").eq("id", &id).update(r#"{"job_title": "countess"}"#).execute().await.unwrap();
    hr.from("employees").eq("id", &id).delete().execute().await.unwrap();

    let log = api.client(Some(&admin_token(t.id))).schema("api");
    let mine = || log.from("events").select("action,detail").like("action", "row.*").eq("detail->key->>id", &id);
    // postgrest-rs asks for the count with `Range: 0-0`
    let counted = mine().exact_count().execute().await.unwrap();
    assert_eq!(counted.headers()["content-range"], "0-0/3");
    let (_, rows) = json(mine().order("id").execute().await.unwrap()).await;
    let actions: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["row.insert", "row.update", "row.delete"]);
    assert_eq!(rows[0]["detail"]["table"], "hrms.employees");
    assert_eq!(rows[0]["detail"]["user"], "tests", "the token's subject");
    assert_eq!(rows[0]["detail"]["key"]["tenant_id"], json!(t.id));

    // paged, and lifecycle events are there too
    let paged = log.from("events").select("action").order("id").range(1, 1).execute().await.unwrap();
    assert_eq!(paged.headers()["content-range"], "1-1/*");
    let (status, page) = json(paged).await;
    assert_eq!((status, page.as_array().unwrap().len()), (StatusCode::OK, 1));
    let (_, created_event) = json(log.from("events").eq("action", "tenant.created").execute().await.unwrap()).await;
    assert_eq!(created_event.as_array().unwrap().len(), 1);

    // another tenant's administrator sees none of it
    let (_, theirs) = json(
        api.client(Some(&admin_token(other.id)))
            .schema("api")
            .from("events")
            .eq("detail->key->>id", &id)
            .execute()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(theirs, json!([]));

    // people without users:audit are told what they lack; nobody changes the log
    let (status, err) =
        json(api.client(Some(&token(t.id))).schema("api").from("events").execute().await.unwrap()).await;
    assert_eq!((status, err["permission"].as_str()), (StatusCode::FORBIDDEN, Some("users:audit")), "{err}");
    let before: i64 =
        admin.query_one("SELECT count(*) FROM tenancy.events WHERE tenant_id = $1", &[&t.id]).await.unwrap().get(0);
    let (status, _) =
        json(log.from("events").eq("action", "row.insert").update(r#"{"action": "nothing"}"#).execute().await.unwrap())
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = json(log.from("events").eq("action", "row.insert").delete().execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let after: i64 =
        admin.query_one("SELECT count(*) FROM tenancy.events WHERE tenant_id = $1", &[&t.id]).await.unwrap().get(0);
    assert_eq!(before, after);
}

#[tokio::test]
async fn record_writes_is_for_protected_tables_their_owners_and_can_be_switched_off() {
    let mut db = superuser().await;
    let mut admin = db.transaction().await.unwrap();
    let s = unique("log").replace('-', "_");
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {s}; GRANT USAGE ON SCHEMA {s} TO tenant_member;
             CREATE TABLE {s}.loose (id int PRIMARY KEY);
             CREATE TABLE {s}.notes (tenant_id uuid, id int, body text, PRIMARY KEY (tenant_id, id));
             SELECT tenancy.protect('{s}.notes');
             GRANT SELECT, INSERT ON {s}.notes TO tenant_member;"
        ))
        .await
        .unwrap();
    let unprotected = admin.savepoint("unprotected").await.unwrap();
    assert_eq!(
        sqlstate(unprotected.batch_execute(&format!("SELECT tenancy.record_writes('{s}.loose')")).await),
        "TN030"
    );
    unprotected.rollback().await.unwrap();

    let t: uuid::Uuid = value(&admin, "SELECT tenancy.create_tenant(md5(random()::text), 'Log test')").await;
    let logged = |n: i32| {
        format!("SELECT count(*) FROM tenancy.events WHERE tenant_id = '{t}' AND detail->'key'->>'id' = '{n}'")
    };
    admin.batch_execute(&format!("SELECT tenancy.record_writes('{s}.notes')")).await.unwrap();
    admin
        .batch_execute(&format!(
            "SELECT tenancy.enter_tenant('{t}'); SET LOCAL ROLE tenant_member; INSERT INTO {s}.notes (id, body) VALUES (1, 'a'); RESET ROLE"
        ))
        .await
        .unwrap();
    assert_eq!(value::<i64>(&admin, &logged(1)).await, 1);
    admin.batch_execute(&format!("SELECT tenancy.record_writes('{s}.notes', false)")).await.unwrap();
    admin
        .batch_execute(&format!(
            "SET LOCAL ROLE tenant_member; INSERT INTO {s}.notes (id, body) VALUES (2, 'b'); RESET ROLE"
        ))
        .await
        .unwrap();
    assert_eq!(value::<i64>(&admin, &logged(2)).await, 0, "switched off");

    let owner = unique("owner").replace('-', "_");
    admin
        .batch_execute(&format!("CREATE ROLE {owner}; ALTER TABLE {s}.notes OWNER TO {owner}; SET LOCAL ROLE {owner}"))
        .await
        .unwrap();
    let refused = admin.batch_execute(&format!("SELECT tenancy.record_writes('{s}.notes')")).await;
    assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE, "an owner outside tenancy_admin");
}
