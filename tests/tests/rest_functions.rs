//! Functions over `/rpc/` as PostgREST calls them, on a scratch database of their own: a
//! `void` function answers 204, a function of one unnamed `json`/`jsonb` parameter takes the
//! whole body, `response.headers` / `response.status` set by a function shape the answer, a
//! function that writes refuses GET (405), a function that is not there is PostgREST's 404, and
//! a function of a table's row type is a computed column (or, returning rows, a computed
//! relationship).
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, Api};
use tenancy_e2e::*;

const FUNCTIONS: &str = "CREATE EXTENSION tenancy;
    CREATE SCHEMA fn;
    CREATE TABLE fn.log (id serial PRIMARY KEY, note text NOT NULL);
    CREATE FUNCTION fn.forget() RETURNS void LANGUAGE sql AS $$ DELETE FROM fn.log $$;
    CREATE FUNCTION fn.echo(jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT $1 || '{\"seen\": true}' $$;
    CREATE FUNCTION fn.note(note text) RETURNS int LANGUAGE sql AS $$ INSERT INTO fn.log (note) VALUES (note) RETURNING id $$;
    CREATE FUNCTION fn.created(name text) RETURNS text LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM set_config('response.status', '201', true);
        PERFORM set_config('response.headers', json_build_array(json_build_object('Location', '/things/' || name))::text, true);
        RETURN name;
    END $$;
    CREATE FUNCTION fn.bad_headers() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM set_config('response.headers', '{\"not\": \"an array\"}', true);
        RETURN 1;
    END $$;
    CREATE FUNCTION fn.shout(fn.log) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper($1.note) $$;
    CREATE FUNCTION fn.namesakes(fn.log) RETURNS SETOF fn.log LANGUAGE sql STABLE
        AS $$ SELECT * FROM fn.log l WHERE l.note = $1.note AND l.id <> $1.id ORDER BY l.id $$;
    CREATE FUNCTION fn.first_namesake(fn.log) RETURNS SETOF fn.log LANGUAGE sql STABLE ROWS 1
        AS $$ SELECT * FROM fn.namesakes($1) LIMIT 1 $$;
    GRANT USAGE ON SCHEMA fn TO web_anon;
    GRANT ALL ON ALL TABLES IN SCHEMA fn TO web_anon;
    GRANT ALL ON ALL SEQUENCES IN SCHEMA fn TO web_anon;";

async fn functions() -> (ScratchDatabase, Api) {
    let scratch = ScratchDatabase::create("rest_functions").await;
    scratch.connect().await.batch_execute(FUNCTIONS).await.unwrap();
    let uri = scratch.url().replacen("postgres@", "authenticator@", 1);
    let api = api::start_with(&[("PGRST_DB_URI", uri.as_str()), ("PGRST_DB_SCHEMAS", "fn")]).await;
    (scratch, api)
}

async fn post(api: &Api, function: &str, body: Value) -> reqwest::Response {
    api.http().post(format!("{}/rpc/{function}", api.url)).json(&body).send().await.unwrap()
}

async fn notes(db: &ScratchDatabase) -> i64 {
    value(&db.connect().await, "SELECT count(*) FROM fn.log").await
}

#[tokio::test]
async fn void_functions_answer_204_with_no_body() {
    let (db, api) = functions().await;
    post(&api, "note", json!({"note": "a"})).await;
    let response = post(&api, "forget", json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(notes(&db).await, 0);
}

#[tokio::test]
async fn one_unnamed_json_parameter_takes_the_whole_body() {
    let (_db, api) = functions().await;
    let (status, body) = json(post(&api, "echo", json!({"a": 1, "b": [2]})).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"a": 1, "b": [2], "seen": true})));
    // Any JSON: an array too (jsonb's || appends to it).
    let (status, body) = json(post(&api, "echo", json!([1, 2])).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!([1, 2, {"seen": true}])));
}

#[tokio::test]
async fn functions_set_the_status_and_headers() {
    let (_db, api) = functions().await;
    let response = post(&api, "created", json!({"name": "kite"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/things/kite");
    assert_eq!(response.text().await.unwrap(), "\"kite\"");

    let (status, body) = json(post(&api, "bad_headers", json!({})).await).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("PGRST111")), "{body}");
}

#[tokio::test]
async fn a_function_that_writes_refuses_get_and_writes_nothing() {
    let (db, api) = functions().await;
    let response = api.http().get(format!("{}/rpc/note?note=x", api.url)).send().await.unwrap();
    let (status, body) = json(response).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("25006")), "{body}");
    assert_eq!(notes(&db).await, 0);
}

#[tokio::test]
async fn an_unknown_function_is_postgrests_404() {
    let (_db, api) = functions().await;
    let (status, body) = json(post(&api, "note", json!({"text": "x", "when": 1})).await).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("PGRST202")));
    assert_eq!(body["message"], "Could not find the function fn.note(text, when) in the schema cache");
    assert_eq!(
        body["details"],
        "Searched for the function fn.note with parameters text, when or with a single unnamed json/jsonb parameter, \
         but no matches were found in the schema cache."
    );
    let response = api.http().get(format!("{}/rpc/nothing", api.url)).send().await.unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "Could not find the function fn.nothing without parameters in the schema cache");
}

#[tokio::test]
async fn a_function_of_the_row_type_is_a_computed_column() {
    let (_db, api) = functions().await;
    let insert = api
        .http()
        .post(format!("{}/log?select=note,shout", api.url))
        .header("Prefer", "return=representation")
        .json(&json!([{"note": "b"}, {"note": "a"}]))
        .send()
        .await
        .unwrap();
    let (status, rows) = json(insert).await;
    assert_eq!(
        (status, rows),
        (StatusCode::CREATED, json!([{"note": "b", "shout": "B"}, {"note": "a", "shout": "A"}]))
    );
    let read = api.http().get(format!("{}/log?select=shout&shout=in.(A,B)&order=shout.desc", api.url)).send();
    let (status, rows) = json(read.await.unwrap()).await;
    assert_eq!((status, rows), (StatusCode::OK, json!([{"shout": "B"}, {"shout": "A"}])));
    let (_, rows) = json(api.http().get(format!("{}/log?select=*&limit=1", api.url)).send().await.unwrap()).await;
    assert!(rows[0].get("shout").is_none(), "* is the table's columns only: {rows}");
}

#[tokio::test]
async fn a_function_of_the_row_type_returning_rows_is_a_computed_relationship() {
    let (_db, api) = functions().await;
    let rows = json!([{"note": "a"}, {"note": "b"}, {"note": "a"}]);
    api.http().post(format!("{}/log", api.url)).json(&rows).send().await.unwrap();
    let read = api.http().get(format!("{}/log?select=id,namesakes(id),first_namesake(id)&order=id", api.url)).send();
    let (status, rows) = json(read.await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(
        rows,
        json!([
            {"id": 1, "namesakes": [{"id": 3}], "first_namesake": {"id": 3}},
            {"id": 2, "namesakes": [], "first_namesake": null},
            {"id": 3, "namesakes": [{"id": 1}], "first_namesake": {"id": 1}},
        ]),
        "SETOF: an array; ROWS 1: an object"
    );
    // Filters on it apply to its rows; !inner keeps parents that have one.
    let read = api.http().get(format!("{}/log?select=id,namesakes!inner(id)&namesakes.id=gt.1&order=id", api.url));
    let (_, rows) = json(read.send().await.unwrap()).await;
    assert_eq!(rows, json!([{"id": 1, "namesakes": [{"id": 3}]}]));
}
