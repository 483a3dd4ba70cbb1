//! `tenancy isolate` and `tenancy rebalance` on the Citus cluster (scripts/up-citus): a tenant
//! gets shards of its own and moves to another worker while it keeps writing and reading through
//! the coordinator, in SQL and over REST, and no acknowledged write is lost; its real-time
//! subscriber receives every change once, from the old worker's WAL and then the new one's.
mod common;

use common::{assert_ok, stdout, tenancy};
use serde_json::json;
use std::sync::Arc;
use tenancy_e2e::api::{self, Api};
use tenancy_e2e::citus::{connect, TenantTable, Writer, COORDINATOR};
use tenancy_e2e::node::drive;
use tenancy_e2e::realtime::{seen, subscribe};

fn coordinator_url() -> String {
    tenancy_e2e::citus::url(COORDINATOR, "postgres")
}

/// The node (host:port) and isolation of the tenant's shard of `table`.
async fn placement(table: &str, tenant: uuid::Uuid) -> (String, bool) {
    let db = connect(COORDINATOR, "postgres").await;
    let row = db
        .query_one(
            "SELECT format('%s:%s', n.nodename, n.nodeport), s.shardminvalue = s.shardmaxvalue
             FROM pg_dist_shard s JOIN pg_dist_placement pl USING (shardid)
             JOIN pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
             WHERE s.shardid = get_shard_id_for_distribution_column($1::text::regclass, $2::uuid)",
            &[&table, &tenant],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// A worker holding shards other than `node`.
async fn another_worker(node: &str) -> String {
    let workers = connect(COORDINATOR, "postgres")
        .await
        .query("SELECT format('%s:%s', nodename, nodeport) FROM pg_dist_node WHERE shouldhaveshards ORDER BY 1", &[])
        .await
        .unwrap();
    workers.iter().map(|r| r.get(0)).find(|n: &String| n != node).unwrap()
}

#[tokio::test]
async fn a_tenant_isolated_and_moved_online_keeps_every_acknowledged_write() {
    let t = Arc::new(TenantTable::create().await);
    let (before, isolated) = placement(&t.table, t.a).await;
    assert!(!isolated);
    let target = another_worker(&before).await;

    // The tenant writes through the coordinator for as long as the isolation and the move take,
    // in SQL and through the REST server, which also reads after each write.
    let writer = Writer::start(t.clone(), t.a);
    let (api, token, resource) = t.rest().await;
    let api = Arc::new(api);
    let rest = Writer::start_with(move |n| {
        let (api, token, resource) = (api.clone(), token.clone(), resource.clone());
        async move { write_then_read(&api, &token, &resource, n).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let url = coordinator_url();
    let slug = t.slug(t.a).await;
    let isolate = tokio::task::spawn_blocking({
        let (url, slug, target) = (url.clone(), slug.clone(), target.clone());
        move || tenancy(&url, &["isolate", "--tenant", &slug, "--to", &target])
    })
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (mut acknowledged, mut failed) = writer.finish().await;
    let (over_rest, failed_over_rest) = rest.finish().await;
    assert!(over_rest.len() > 2, "the tenant wrote over REST during the move: {over_rest:?} / {failed_over_rest:?}");
    acknowledged.extend(over_rest);
    failed.extend(failed_over_rest);
    assert_ok(&isolate);
    assert!(stdout(&isolate).contains(&format!("on {target} (isolated)")), "{}", stdout(&isolate));

    assert_eq!(placement(&t.table, t.a).await, (target.clone(), true));
    assert!(!placement(&t.table, t.b).await.1, "b still shares a shard");
    assert!(acknowledged.len() > 2, "the tenant wrote during the move: {acknowledged:?} / {failed:?}");
    // Every acknowledged write is there, and the tenant reads exactly its rows.
    let mut rows = t.as_tenant(t.a, &format!("SELECT body FROM {}", t.table)).await.unwrap();
    rows.sort();
    let mut expected: Vec<String> = ["a1", "a2"].iter().map(|s| s.to_string()).chain(acknowledged).collect();
    expected.sort();
    assert_eq!(rows, expected, "failed writes (not acknowledged): {failed:?}");
    assert_eq!(t.count_as_superuser(t.b).await, 3);

    // `status` names it among the isolated, and among the busiest tenants Citus counted.
    let status = stdout(&tenancy(&url, &["status"]));
    let (placement, busiest) = status.split_once("busiest tenants").expect("a busiest-tenants section");
    assert!(placement.contains(&slug), "{status}");
    assert!(busiest.contains(&format!("  {slug}: ")), "{status}");
}

/// One POST of a row (`r<n>`) and one GET of the tenant's rows: the row when both succeeded, and
/// a panic if the read showed anything but the tenant's own rows.
async fn write_then_read(api: &Api, token: &str, resource: &str, n: u32) -> Result<Vec<String>, String> {
    let (http, body) = (api.http(), format!("r{n}"));
    let post = http.post(resource).bearer_auth(token).header("Prefer", "return=minimal");
    let created = post.json(&serde_json::json!({"body": body})).send().await.map_err(|e| e.to_string())?;
    if created.status() != 201 {
        return Err(format!("POST {}: {}", created.status(), created.text().await.unwrap_or_default()));
    }
    let (status, rows) = api::json(
        http.get(resource).query(&[("select", "body")]).bearer_auth(token).send().await.map_err(|e| e.to_string())?,
    )
    .await;
    if status != 200 {
        return Err(format!("GET {status}: {rows}"));
    }
    let bodies: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["body"].as_str().unwrap()).collect();
    assert!(bodies.iter().all(|b| !b.starts_with('b')), "another tenant's row over REST: {bodies:?}");
    assert!(bodies.contains(&body.as_str()), "the row just written is read back: {bodies:?}");
    Ok(vec![body])
}

#[tokio::test]
async fn isolate_refuses_an_unknown_worker_or_tenant_and_changes_nothing() {
    let t = TenantTable::create().await;
    let before = placement(&t.table, t.a).await;
    let slug = t.slug(t.a).await;
    let url = coordinator_url();
    let wrong_node = tenancy(&url, &["isolate", "--tenant", &slug, "--to", "127.0.0.1:9"]);
    common::assert_refused(&wrong_node, "is not a worker that holds shards");
    let not_host_port = tenancy(&url, &["isolate", "--tenant", &slug, "--to", "somewhere"]);
    assert!(!not_host_port.status.success());
    let unknown = tenancy(&url, &["isolate", "--tenant", "no-such-tenant"]);
    common::assert_refused(&unknown, "no tenant");
    assert_eq!(placement(&t.table, t.a).await, before);
}

#[tokio::test]
async fn a_subscribed_tenant_isolated_and_moved_receives_each_change_once() {
    let t = Arc::new(TenantTable::create().await);
    let api = t.realtime_server().await;
    let (before, _) = placement(&t.table, t.a).await;
    let target = another_worker(&before).await;
    let table = t.table.trim_start_matches("public.");
    let input = json!({
            "url": api.url,
            "clients": {"ann": {"token": t.token(t.a)}},
            "steps": [
                subscribe("ann", "all", json!([{"event": "*", "schema": "public", "table": table}])),
                {"do": "rest", "token": t.token(t.a), "method": "POST", "path": format!("/{table}"), "body": {"body": "ready"}},
                {"do": "wait_for", "client": "ann", "channel": "all", "body": "last", "ms": 120_000},
            ],
    });
    let session = drive("realtime_session.mjs", &input);
    let moved = async {
        // Once subscribed (its first write is done), the tenant writes while it is isolated and moved.
        while t.count_as_superuser(t.a).await < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let writer = Writer::start(t.clone(), t.a);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (url, slug, to) = (coordinator_url(), t.slug(t.a).await, target.clone());
        let isolate = tokio::task::spawn_blocking(move || tenancy(&url, &["isolate", "--tenant", &slug, "--to", &to]))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let written = writer.finish().await;
        let last = format!("INSERT INTO {} (tenant_id, body) VALUES ('{}', 'last') RETURNING body", t.table, t.a);
        t.as_tenant(t.a, &last).await.unwrap();
        (isolate, written)
    };
    let (out, (isolate, (acknowledged, failed))) = tokio::join!(session, moved);
    assert_ok(&isolate);
    assert_eq!(placement(&t.table, t.a).await, (target, true), "isolated on the other worker");
    assert!(acknowledged.len() > 2, "the tenant wrote during the move: {acknowledged:?} / {failed:?}");

    let mut rows = t.as_tenant(t.a, &format!("SELECT body FROM {}", t.table)).await.unwrap();
    rows.sort();
    let mut written: Vec<String> =
        ["a1", "a2", "ready", "last"].iter().map(|s| s.to_string()).chain(acknowledged.clone()).collect();
    written.sort();
    assert_eq!(rows, written, "every acknowledged write is there");
    assert_eq!(out["results"][0], json!({"status": "SUBSCRIBED"}), "{out}");
    assert_eq!(out["results"][2], json!({"arrived": true}), "{out}");
    let received: Vec<(String, String)> = seen(&out, "ann", "all", "postgres_changes")
        .iter()
        .map(|c| (c["eventType"].as_str().unwrap().into(), c["new"]["body"].as_str().unwrap_or_default().into()))
        .collect();
    let expected: Vec<(String, String)> = std::iter::once("ready".to_string())
        .chain(acknowledged)
        .chain(std::iter::once("last".to_string()))
        .map(|body| ("INSERT".to_string(), body))
        .collect();
    // Nothing of the split's and the move's copies, nothing twice, nothing missing, in order.
    assert_eq!(received, expected, "failed writes (not acknowledged): {failed:?}");
}
