//! What the drills found at the connection level (issue 10, item 7): a keep-alive connection
//! stays usable after a 404 or 405 to a request that carried a body, and a PostgreSQL backend
//! terminated under a request (a restart, `pg_terminate_backend`) is a 503 with `Retry-After`,
//! after which the server serves again.
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use tenancy_e2e::api::{self, json};
use tenancy_e2e::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One HTTP/1.1 response read off a connection: status, headers (lower-cased names), body.
async fn read_response<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> (u16, Vec<(String, String)>, String) {
    let mut status_line = String::new();
    let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut status_line)).await;
    assert!(read.is_ok_and(|r| r.is_ok_and(|n| n > 0)), "no response on the connection");
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = vec![];
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    (status, headers, String::from_utf8(body).unwrap())
}

/// Sends `request`, then `GET /health`, on one connection; both answers.
async fn then_health(url: &str, request: String) -> [(u16, Vec<(String, String)>, String); 2] {
    let address = url.trim_start_matches("http://");
    let mut reader = BufReader::new(TcpStream::connect(address).await.unwrap());
    reader.get_mut().write_all(request.as_bytes()).await.unwrap();
    let first = read_response(&mut reader).await;
    reader.get_mut().write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    [first, read_response(&mut reader).await]
}

fn with_body(method: &str, path: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_404_or_405_to_a_request_with_a_body_keeps_the_connection_usable() {
    let api = api::start().await;
    // Larger than what hyper reads with the head (within the body limit): an answer that
    // ignores it leaves it unread.
    let body = json!({"some": "payload", "padding": "x".repeat(50_000)}).to_string();
    for (request, status, code) in [
        (with_body("POST", "/no/such/path", &body), 404, "PGRST125"),
        (with_body("PUT", "/rpc/headcount", &body), 405, "PGRST101"),
        (with_body("POST", "/", &body), 405, "PGRST117"),
    ] {
        let [(first, headers, text), (second, _, health)] = then_health(&api.url, request.clone()).await;
        assert_eq!((second, health.as_str()), (200, r#"{"status":"ok"}"#), "the next request on the connection");
        assert!(!headers.iter().any(|(n, v)| n == "connection" && v == "close"), "{headers:?}");
        let error: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!((first, &error["code"]), (status, &json!(code)), "{}", &request[..40]);
    }
}

#[tokio::test]
async fn a_response_that_leaves_the_body_unread_says_connection_close() {
    let api = api::start_with(&[("TENANCY_MAX_BODY_BYTES", "1000")]).await;
    let address = api.url.trim_start_matches("http://").to_string();
    // Far more than the limit and than one read: the server answers before reading it all.
    let big = json!({"first_name": "x".repeat(300_000)}).to_string();
    let (read_half, mut write_half) = TcpStream::connect(&address).await.unwrap().into_split();
    let request = with_body("POST", "/employees", &big);
    let writer = tokio::spawn(async move { write_half.write_all(request.as_bytes()).await });
    let (status, headers, _) = read_response(&mut BufReader::new(read_half)).await;
    assert_eq!(status, 413);
    assert!(headers.iter().any(|(n, v)| n == "connection" && v == "close"), "the client is told: {headers:?}");
    let _ = writer.await; // the server may close before it has all: a broken pipe here is expected

    // A body the server never reads (a GET to a handler that takes none) is said too.
    let request = with_body("GET", "/employees", &json!({"x": "y".repeat(300_000)}).to_string());
    let (read_half, mut write_half) = TcpStream::connect(&address).await.unwrap().into_split();
    let writer = tokio::spawn(async move { write_half.write_all(request.as_bytes()).await });
    let (_, headers, _) = read_response(&mut BufReader::new(read_half)).await;
    assert!(headers.iter().any(|(n, v)| n == "connection" && v == "close"), "{headers:?}");
    let _ = writer.await;
}

#[tokio::test]
async fn a_backend_terminated_under_a_request_is_503_with_retry_after_then_the_server_recovers() {
    let scratch = sleepy_database("terminated").await;
    let uri = scratch.url().replacen("postgres@", "authenticator@", 1);
    let api = api::start_with(&[("PGRST_DB_URI", uri.as_str()), ("PGRST_DB_SCHEMAS", "slow")]).await;
    let nap = |seconds: f64| api.http().post(format!("{}/rpc/nap", api.url)).json(&json!({"seconds": seconds})).send();
    assert_eq!(nap(0.0).await.unwrap().status(), StatusCode::OK);

    let in_flight = tokio::spawn(nap(30.0));
    // Terminate the backend once PostgreSQL runs the request's statement, as a restart does.
    let db = scratch.connect().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let terminated: i64 = db
            .query_one(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND usename = 'authenticator' AND state = 'active'
                   AND query LIKE '%\"nap\"%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if terminated == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the request never reached PostgreSQL");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = tokio::time::timeout(Duration::from_secs(10), in_flight).await.unwrap().unwrap().unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let (status, body) = json(response).await;
    assert_eq!((status, &body["code"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("57P01")), "{body}");
    assert_eq!(body["message"], "The database is not available", "no database text: {body}");
    assert_eq!(retry_after.as_deref(), Some("1"));

    let next = nap(0.0).await.unwrap();
    assert_eq!(next.status(), StatusCode::OK, "the next request is served");
    assert_eq!(next.text().await.unwrap(), "\"rested 0\"");
}
