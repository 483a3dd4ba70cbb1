//! The `tenancy-api` binary as a process, as it is deployed: its command line (usage, exit
//! codes), configured by a file (PostgREST's format) with the environment over it, refusing a
//! bad file at start-up, its admin port, its log, and stopping on SIGTERM only after the
//! requests in flight have been answered. Against the dev stack.
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tenancy_e2e::api::{self, token};
use tenancy_e2e::*;

/// The login role's URL for `dbname` on the test cluster.
fn authenticator_url(dbname: &str) -> String {
    database_url(dbname).replacen("postgres@", "authenticator@", 1)
}

/// A port nobody listens on (free when asked; the tests use it right away).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn refused(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
}

/// A config file of the test's own, removed when dropped.
struct ConfigFile(std::path::PathBuf);

impl ConfigFile {
    fn new(text: &str) -> ConfigFile {
        let path = std::env::temp_dir().join(format!("{}.conf", unique("tenancy-api")));
        std::fs::write(&path, text).unwrap();
        ConfigFile(path)
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The binary with only the environment given (nothing inherited), killed if the test ends
/// while it still runs.
struct Server {
    child: Child,
}

impl Server {
    /// The binary, its log (stdout) dropped.
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start(args, env, "warn", Stdio::null())
    }

    /// The binary logging every request, its log kept for `output` (a few lines: the pipe is
    /// read only once the process has ended).
    fn spawn_logging(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start(args, env, "info", Stdio::piped())
    }

    /// The binary serving `hrms` of the dev database on a free port, logging every request;
    /// ready, and its port.
    async fn serving_hrms_logged() -> (Server, u16) {
        let port = free_port();
        let (uri, port_text) = (authenticator_url("tenancy"), port.to_string());
        let mut server = Server::spawn_logging(
            &[],
            &[
                ("PGRST_DB_URI", &uri),
                ("PGRST_DB_SCHEMAS", "hrms"),
                ("PGRST_JWT_SECRET", api::SECRET),
                ("PGRST_SERVER_PORT", &port_text),
            ],
        );
        server.ready(port).await;
        (server, port)
    }

    fn start(args: &[&str], env: &[(&str, &str)], log: &str, stdout: Stdio) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenancy-api"));
        command.args(args).env_clear().env("RUST_LOG", log).stdout(stdout).stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        Server { child: command.spawn().expect("the binary starts") }
    }

    fn output(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut o, &mut text);
        }
        text
    }

    /// Waits for `GET /health` on `port` to answer 200.
    async fn ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited ({status}) before it was ready: {}", self.stderr());
            }
            let health = reqwest::get(format!("http://127.0.0.1:{port}/health")).await;
            if health.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                return;
            }
            assert!(Instant::now() < deadline, "the server never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How the process ended, waiting at most `limit`.
    async fn exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server still runs after {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
        }
        text
    }

    fn terminate(&self) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) with a pid we spawned and still own (not reaped yet).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill -TERM {pid}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::test]
async fn a_config_file_configures_the_server_and_the_environment_overrides_it() {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    as_tenant(
        &mut admin,
        t.id,
        "INSERT INTO hrms.employees (first_name, last_name, email)
         VALUES ('Ada', 'L', 'ada@x.example'), ('Grace', 'H', 'grace@x.example')",
    )
    .await
    .unwrap();
    let (file_port, env_port) = (free_port(), free_port());
    let file = ConfigFile::new(&format!(
        "# tenancy-api, as PostgREST reads its file\n\
         db-uri = \"{}\"\n\
         db-schemas = \"hrms\"   # the default profile\n\
         db-anon-role = \"web_anon\"\n\
         jwt-secret = \"{}\"\n\
         db-pool = 2\n\
         db-max-rows = 1\n\
         server-port = {file_port}\n\
         tenancy-statement-timeout-ms = 5000\n",
        authenticator_url("tenancy"),
        api::SECRET
    ));
    let port = env_port.to_string();
    let mut server = Server::spawn(&[file.0.to_str().unwrap()], &[("PGRST_SERVER_PORT", &port)]);
    server.ready(env_port).await;
    assert!(refused(file_port), "the environment's port wins over the file's");

    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{env_port}/employees?select=first_name&order=first_name"))
        .header("Authorization", format!("Bearer {}", token(t.id)))
        .header("Prefer", "count=exact")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::PARTIAL_CONTENT, "db-max-rows = 1 from the file");
    assert_eq!(response.headers()["content-range"], "0-0/2");
    let (_, rows) = api::json(response).await;
    assert_eq!(rows, json!([{"first_name": "Ada"}]), "hrms from db-schemas, the token checked with jwt-secret");
}

#[tokio::test]
async fn a_bad_config_file_stops_the_server_at_start_naming_the_line() {
    let port = free_port();
    let file = ConfigFile::new(&format!("server-port = {port}\n# the anonymous role\ndb-anon-roles = \"web_anon\"\n"));
    let mut server = Server::spawn(&[file.0.to_str().unwrap()], &[]);
    let status = server.exit(Duration::from_secs(10)).await;
    assert!(!status.success(), "{status}");
    let stderr = server.stderr();
    assert!(stderr.contains("line 3: unknown key \"db-anon-roles\""), "{stderr}");
    assert!(refused(port));

    let mut missing = Server::spawn(&["/nonexistent/tenancy.conf"], &[]);
    assert!(!missing.exit(Duration::from_secs(10)).await.success());
    assert!(missing.stderr().contains("cannot read the configuration file /nonexistent/tenancy.conf"));
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let scratch = sleepy_database("sigterm").await;
    let port = free_port();
    let (uri, port_text) = (authenticator_url(&scratch.name), port.to_string());
    let mut server = Server::spawn(
        &[],
        &[
            ("PGRST_DB_URI", &uri),
            ("PGRST_DB_SCHEMAS", "slow"),
            ("PGRST_DB_ANON_ROLE", "web_anon"),
            ("PGRST_SERVER_PORT", &port_text),
        ],
    );
    server.ready(port).await;

    let slow = tokio::spawn(
        reqwest::Client::new().post(format!("http://127.0.0.1:{port}/rpc/nap")).json(&json!({"seconds": 2})).send(),
    );
    // SIGTERM once PostgreSQL is running the request's statement.
    let db = scratch.connect().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let running: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND state = 'active' AND query LIKE '%\"nap\"%'
                   AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if running == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the request never reached PostgreSQL");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signalled = Instant::now();
    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!slow.is_finished(), "the request was not cut short");
    assert!(refused(port), "no new connections once told to stop");

    let response = slow.await.unwrap().expect("the request in flight is answered");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "\"rested 2\"");
    let status = server.exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "a clean exit: {}", server.stderr());
    assert!(signalled.elapsed() < Duration::from_secs(5));
    assert!(refused(port));
}

/// Runs the binary with `args` and no environment to completion: (exit code, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenancy-api"));
    command.args(args).env_clear();
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("the binary runs");
    (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn help_is_usage_on_stdout_and_exit_0() {
    for flag in ["--help", "-h"] {
        let (code, stdout, stderr) = run(&[flag], &[("RUST_BACKTRACE", "1")]);
        assert_eq!(code, Some(0), "{flag}: {stderr}");
        assert!(stdout.contains("Usage: tenancy-api [CONFIG_FILE]") && stdout.contains("token"), "{stdout}");
        assert_eq!(stderr, "", "no error, no backtrace");
    }
    let (code, stdout, _) = run(&["token", "--help"], &[]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("Usage: tenancy-api token [OPTIONS] <TENANT_ID|-> [ROLE]"), "{stdout}");
}

#[test]
fn a_wrong_argument_is_usage_on_stderr_and_exit_2() {
    for args in [&["--bogus"][..], &["a.conf", "b.conf"], &["token"], &["token", "acme"]] {
        let (code, stdout, stderr) = run(args, &[("RUST_BACKTRACE", "1")]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        // The usage, or (for a value of the wrong form) where to find it.
        assert!(stderr.starts_with("error: ") && stderr.contains("--help"), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
    }
}

#[test]
fn tokens_of_tenant_roles_name_a_tenant() {
    let secret = [("PGRST_JWT_SECRET", api::SECRET)];
    let (code, stdout, stderr) = run(&["token", "-"], &secret);
    assert_eq!((code, stdout.as_str()), (Some(2), ""), "a tenant_member token without a tenant would be refused");
    assert!(stderr.contains("the role tenant_member acts for a tenant"), "{stderr}");
    let (code, stdout, stderr) = run(&["token", "-", "platform_admin"], &secret);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim().split('.').count(), 3, "a JWT: {stdout}");
}

/// The quick start's tokens: with --sub and --tenant-role the user may write what the tenant
/// role allows (hrms:write for hr_manager); without, the same write is 403 TN071.
#[tokio::test]
async fn issued_tokens_carry_the_user_and_the_tenant_roles() {
    let api = api::start().await;
    let t = create_tenant(&superuser().await, "free", &["hrms"]).await;
    let secret = [("PGRST_JWT_SECRET", api::SECRET)];
    let tenant = t.id.to_string();
    for (extra, expected) in [
        (&["--sub", "hr@x.example", "--tenant-role", "hr_manager"][..], reqwest::StatusCode::CREATED),
        (&[][..], reqwest::StatusCode::FORBIDDEN),
    ] {
        let args: Vec<&str> = ["token", tenant.as_str()].into_iter().chain(extra.iter().copied()).collect();
        let (code, stdout, stderr) = run(&args, &secret);
        assert_eq!(code, Some(0), "{stderr}");
        let response = api
            .http()
            .post(format!("{}/employees", api.url))
            .bearer_auth(stdout.trim())
            .header("Content-Profile", "hrms")
            .json(&json!({"first_name": "Ada", "last_name": "L", "email": format!("ada{}@x.example", extra.len())}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{args:?}: {}", response.text().await.unwrap());
    }
}

#[tokio::test]
async fn the_admin_port_serves_probes_and_metrics_when_configured() {
    let (port, admin_port) = (free_port(), free_port());
    let (uri, port_text, admin_text) = (authenticator_url("tenancy"), port.to_string(), admin_port.to_string());
    let base =
        [("PGRST_DB_URI", uri.as_str()), ("PGRST_DB_SCHEMAS", "hrms"), ("PGRST_SERVER_PORT", port_text.as_str())];
    let mut server = Server::spawn(&[], &base);
    server.ready(port).await;
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), reqwest::StatusCode::UNAUTHORIZED, "a resource like any other: no anonymous role");
    assert!(!metrics.text().await.unwrap().contains("tenancy_"), "no metrics on the API port");
    assert!(refused(admin_port), "off by default");
    drop(server);

    let mut with_admin = base.to_vec();
    with_admin.push(("PGRST_ADMIN_SERVER_PORT", admin_text.as_str()));
    let mut server = Server::spawn(&[], &with_admin);
    server.ready(port).await;
    for (path, status) in [("/live", 200), ("/ready", 200), ("/metrics", 200), ("/employees", 404)] {
        let response = reqwest::get(format!("http://127.0.0.1:{admin_port}{path}")).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
    }
    let text = reqwest::get(format!("http://127.0.0.1:{admin_port}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains("tenancy_pool_connections"), "{text}");
}

#[tokio::test]
async fn a_suspended_tenants_operator_hint_goes_to_the_log_not_to_the_user() {
    let admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&t.id]).await.unwrap();
    let (mut server, port) = Server::serving_hrms_logged().await;
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/employees"))
        .header("Authorization", format!("Bearer {}", token(t.id)))
        .header("X-Request-ID", "suspended-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(!response.text().await.unwrap().contains("activate_tenant"), "not for the user");
    server.terminate();
    server.exit(Duration::from_secs(5)).await;
    let log = server.output();
    let line = log.lines().find(|l| l.contains("suspended-1")).unwrap_or_else(|| panic!("no log line: {log}"));
    assert!(line.contains("activate_tenant") && line.contains(&t.slug), "the operator's hint is logged: {line}");
}

#[tokio::test]
async fn the_log_line_carries_the_request_id_the_response_returned() {
    let (mut server, port) = Server::serving_hrms_logged().await;
    let mut returned = Vec::new();
    for sent in [None, Some("an odd id!"), Some("sane-id-7")] {
        let mut request = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/employees?select=nope"));
        if let Some(id) = sent {
            request = request.header("X-Request-ID", id);
        }
        let response = request.send().await.unwrap();
        returned.push(response.headers()["x-request-id"].to_str().unwrap().to_string());
    }
    assert_eq!(returned[2], "sane-id-7");
    server.terminate();
    server.exit(Duration::from_secs(5)).await;
    let log = server.output();
    for id in &returned {
        let line = log
            .lines()
            .find(|l| l.contains(&format!("\"request_id\":\"{id}\"")))
            .unwrap_or_else(|| panic!("{id}: {log}"));
        assert!(line.contains("/{resource}"), "the request's line: {line}");
    }
    assert!(!log.contains("an odd id!"), "an odd id reaches neither the response nor the log: {log}");
}
