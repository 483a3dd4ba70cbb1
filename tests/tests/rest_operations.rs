//! The server as operators run it: browsers (CORS preflight, exposed headers), the statement
//! timeout, the database going away and coming back.
use reqwest::{Method, StatusCode};
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::demo_tenants::tenant_with_employees;
use tenancy_e2e::*;
use uuid::Uuid;

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
        .as_tenant(Method::GET, "/employees", t.id, "hrms")
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
    let get = || api.as_tenant(Method::GET, "/employees", t.id, "hrms").send();
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
