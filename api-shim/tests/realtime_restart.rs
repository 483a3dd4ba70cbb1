//! The real-time server stopped (SIGTERM) and started again on its slot: realtime-js
//! reconnects and rejoins by itself, what was delivered before is not delivered again, what
//! was committed while no server ran is read from the slot (it advances past it), and what is
//! written afterwards arrives.
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tenancy_e2e::api::{token, SECRET};
use tenancy_e2e::node::drive;
use tenancy_e2e::realtime::{slot_name, wait_for_stream};
use tenancy_e2e::*;
use uuid::Uuid;

struct Server(Child);

impl Server {
    fn start(port: u16, slot: &str) -> Server {
        let url = |user: &str| database_url("tenancy").replacen("postgres@", &format!("{user}@"), 1);
        let child = Command::new(env!("CARGO_BIN_EXE_tenancy-api"))
            .env_clear()
            .env("PGRST_DB_URI", url("authenticator"))
            .env("PGRST_DB_SCHEMAS", "chat")
            .env("PGRST_DB_ANON_ROLE", "web_anon")
            .env("PGRST_JWT_SECRET", SECRET)
            .env("PGRST_SERVER_PORT", port.to_string())
            .env("TENANCY_REALTIME_REPLICATION_URI", url("tenancy_realtime"))
            .env("TENANCY_REALTIME_SLOT", slot)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        Server(child)
    }

    /// SIGTERM, and the process gone.
    async fn stop(mut self) {
        let pid = self.0.id() as i32;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

async fn count(admin: &tokio_postgres::Client, tenant: Uuid, body: &str) -> i64 {
    admin
        .query_one("SELECT count(*) FROM chat.messages WHERE tenant_id = $1 AND body = $2", &[&tenant, &body])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_restarted_server_resumes_from_its_slot_and_the_client_rejoins() {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["chat"]).await;
    as_tenant(&mut admin, t.id, "INSERT INTO chat.channels (name) VALUES ('general')").await.unwrap();
    let channel: Uuid = value(&admin, &format!("SELECT id FROM chat.channels WHERE tenant_id = '{}'", t.id)).await;
    let write = |body: &'static str| {
        let admin = &admin;
        async move {
            admin
                .execute(
                    "INSERT INTO chat.messages (tenant_id, channel_id, body) VALUES ($1, $2, $3)",
                    &[&t.id, &channel, &body],
                )
                .await
                .unwrap();
        }
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let slot = slot_name("tenancy_test");
    let first = Server::start(port, &slot);
    wait_for_stream(&slot).await;
    let url = format!("http://127.0.0.1:{port}");
    let input = json!({
        "url": url,
        "clients": {"ann": {"token": token(t.id)}},
        "steps": [
            {"do": "subscribe", "client": "ann", "channel": "chat",
             "changes": [{"event": "INSERT", "schema": "chat", "table": "messages"}]},
            {"do": "rest", "token": token(t.id), "method": "POST", "path": "/messages", "schema": "chat",
             "body": {"channel_id": channel, "body": "one"}},
            {"do": "wait", "ms": 16000},
        ],
    });
    let restart = async {
        while count(&admin, t.id, "one").await == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        first.stop().await;
        write("two").await;
        let committed: String = admin.query_one("SELECT pg_current_wal_lsn()::text", &[]).await.unwrap().get(0);
        let second = Server::start(port, &slot);
        wait_for_stream(&slot).await;
        // realtime-js retries after 1 s, 2 s, 5 s: it is back within seconds.
        tokio::time::sleep(Duration::from_millis(7000)).await;
        write("three").await;
        (second, committed)
    };
    let (out, (second, committed)) = tokio::join!(drive("realtime_session.mjs", &input), restart);
    let bodies: Vec<Value> = out["events"]["ann"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "postgres_changes")
        .map(|e| e["payload"]["new"]["body"].clone())
        .collect();
    assert_eq!(bodies, [json!("one"), json!("three")], "one once, and three after the rejoin: {out}");
    let resumed = tenancy_e2e::realtime::slot_confirmed(&admin, &slot, &committed).await;
    assert!(resumed, "the restarted server read what was committed while none ran");
    second.stop().await;
    admin.execute("SELECT pg_drop_replication_slot($1)", &[&slot]).await.unwrap();
}
