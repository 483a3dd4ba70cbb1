//! A one-row insert is `INSERT … VALUES` of plain parameters (the SQL: api-shim's golden
//! snapshots); a body of several rows still goes through `json_populate_recordset`. Each row
//! below is posted alone and inside a body of two: the rows stored, and the refusals (status,
//! code, message, details), are the same both ways, for a value of each kind into a column of
//! each type, in a database of the test's own.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, token};
use tenancy_e2e::*;

const SCHEMA: &str = "
    CREATE SCHEMA kinds;
    CREATE TABLE kinds.samples (
        tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, n int, t text, b boolean,
        j json, jb jsonb, v varchar(3), amount numeric(5, 2), doubled int GENERATED ALWAYS AS (n * 2) STORED,
        PRIMARY KEY (tenant_id, id));
    SELECT tenancy.protect('kinds.samples');
    GRANT USAGE ON SCHEMA kinds TO tenant_member;
    GRANT SELECT, INSERT ON kinds.samples TO tenant_member;
";

/// The columns a row is compared by (everything but its identity).
const STORED: &str = "SELECT coalesce(json_agg(json_build_object('n', n, 't', t, 'b', b, 'j', j, 'jb', jb, 'v', v,
    'amount', amount, 'doubled', doubled) ORDER BY id), '[]')::text FROM kinds.samples WHERE tenant_id = $1";

struct Fixture {
    _scratch: ScratchDatabase,
    db: tokio_postgres::Client,
    api: api::Api,
    tenant: Tenant,
}

async fn fixture() -> Fixture {
    let scratch = ScratchDatabase::create("insert_values").await;
    let db = scratch.connect().await;
    db.batch_execute("CREATE EXTENSION tenancy").await.unwrap();
    let tenant = create_tenant(&db, "free", &[]).await;
    db.batch_execute(SCHEMA).await.unwrap();
    let uri = scratch.url().replacen("postgres://postgres@", "postgres://authenticator@", 1);
    let api = api::start_with(&[("PGRST_DB_URI", &uri), ("PGRST_DB_SCHEMAS", "kinds")]).await;
    Fixture { _scratch: scratch, db, api, tenant }
}

impl Fixture {
    async fn post(&self, body: &Value) -> (StatusCode, Value) {
        let request = self.api.http().post(format!("{}/samples", self.api.url));
        let request = request.bearer_auth(token(self.tenant.id)).header("Prefer", "return=minimal");
        let response = request.json(body).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn stored(&self) -> Value {
        let text: String = self.db.query_one(STORED, &[&self.tenant.id]).await.unwrap().get(0);
        serde_json::from_str(&text).unwrap()
    }

    async fn clear(&self) {
        self.db.execute("DELETE FROM kinds.samples", &[]).await.unwrap();
    }

    /// `row` posted alone, then in a body of two (the record's way): the same answer, and the
    /// same rows stored (nothing when refused). The answer and the rows.
    async fn alone_and_in_two(&self, row: Value) -> ((StatusCode, Value), Value) {
        self.clear().await;
        let alone = self.post(&row).await;
        let stored = self.stored().await;
        self.clear().await;
        let in_two = self.post(&json!([row, row])).await;
        let stored_twice = self.stored().await;
        assert_eq!(alone, in_two, "{row}");
        let expected = match stored.as_array().map(Vec::as_slice) {
            Some([one]) => json!([one, one]),
            _ => stored.clone(),
        };
        assert_eq!(stored_twice, expected, "{row}");
        (alone, stored)
    }
}

#[tokio::test]
async fn each_value_is_what_the_record_makes_of_it() {
    let f = fixture().await;
    let rows = [
        json!({"n": "12", "t": 7, "b": true, "j": "a\"b", "jb": {"k": [1, null]}, "v": "abc", "amount": 1.005}),
        json!({"n": 12, "t": 1.50, "b": "yes", "j": {"x": [1, 2]}, "jb": "text", "v": null, "amount": "3"}),
        json!({"n": -0, "t": true, "b": 0, "j": null, "jb": null, "amount": 1e2}),
        json!({"t": "ünïcödé \u{1F600} \\ \"quoted\"", "jb": 12.50, "j": [true, {"a": null}]}),
        json!({"t": "", "v": "ab "}),
        json!({}),
    ];
    for row in rows {
        let ((status, body), stored) = f.alone_and_in_two(row.clone()).await;
        assert_eq!((status, body), (StatusCode::CREATED, Value::Null), "{row}");
        assert_eq!(stored.as_array().map(Vec::len), Some(1), "{row}: {stored}");
    }
    // What the record makes of the first row, spelled out.
    let (_, stored) = f
        .alone_and_in_two(json!({"n": "12", "t": 7, "b": true, "j": "a\"b", "jb": {"k": [1, null]}, "amount": 1.005}))
        .await;
    assert_eq!(
        stored,
        json!([{"n": 12, "t": "7", "b": true, "j": "a\"b", "jb": {"k": [1, null]}, "v": null, "amount": 1.01, "doubled": 24}]),
        "a JSON string stays a string in json and jsonb"
    );
}

#[tokio::test]
async fn a_bad_value_is_refused_as_the_record_refuses_it_and_nothing_is_written() {
    let f = fixture().await;
    let refusals = [
        (json!({"n": "abc"}), "22P02"),
        (json!({"n": 1.5}), "22P02"),
        (json!({"n": 99999999999i64}), "22003"),
        (json!({"b": "maybe"}), "22P02"),
        (json!({"v": "abcd"}), "22001"),
        (json!({"amount": 1000}), "22003"),
        (json!({"t": "nul \u{0} inside"}), "22P05"),
        (json!({"n": [1]}), "22P02"),
        (json!({"doubled": 1}), "428C9"),
        (json!({"id": 5}), "428C9"),
        (json!({"id": null}), "428C9"),
    ];
    for (row, code) in refusals {
        let ((status, body), stored) = f.alone_and_in_two(row.clone()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{row}: {body}");
        assert_eq!(stored, json!([]), "{row}: nothing written");
    }
}

#[tokio::test]
async fn a_role_that_may_not_insert_is_refused_that_before_any_value_is_read() {
    let f = fixture().await;
    f.db.batch_execute("REVOKE INSERT ON kinds.samples FROM tenant_member").await.unwrap();
    // More than the five custom plans PostgreSQL makes of a prepared statement before it may
    // keep a generic one: each time the same answer.
    for _ in 0..8 {
        let ((status, body), stored) = f.alone_and_in_two(json!({"n": "abc"})).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("42501")), "{body}");
        assert_eq!(stored, json!([]));
    }
}
