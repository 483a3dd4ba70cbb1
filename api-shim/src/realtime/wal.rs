//! The WAL consumer: this instance's logical replication slot on each node real-time reads
//! (`nodes`: the database, and on Citus every worker; created on first start, kept across
//! restarts), read with `pgwire-replication` over the `tenancy_realtime` publication. Each
//! node's committed transactions are delivered whole (`fanout`, one batch at a time whatever
//! its node), then acknowledged to that node's slot: a server that stops resumes on every node
//! from the first transaction it had not delivered. A lost connection is retried with a
//! growing pause, node by node.
use super::access::PUBLICATION;
use super::change::Change;
use super::fanout::{self, Batch, DbBroadcast};
use super::nodes::{self, Node};
use super::pgoutput::Decoder;
use super::Realtime;
use futures_util::FutureExt;
use pgwire_replication::{ReplicationClient, ReplicationConfig, ReplicationEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::task::JoinHandle;

/// The prefix of `realtime.broadcast`'s logical messages.
const BROADCAST_PREFIX: &str = "tenancy_realtime";
/// PostgreSQL's epoch (2000-01-01) in Unix seconds.
const PG_EPOCH: u64 = 946_684_800;
/// How often the nodes are asked for again once known (a worker added, one removed).
const NODES_EVERY: Duration = Duration::from_secs(10);

/// One stream per node, started and stopped as the nodes come and go.
pub async fn run(rt: Arc<Realtime>) {
    let uri_node = match replication_uri(&rt) {
        Ok(pg) => uri_node(&pg),
        Err(e) => return tracing::error!(error = %e, "real-time replication is not configured"),
    };
    let mut reading: HashMap<Node, JoinHandle<()>> = HashMap::new();
    loop {
        match nodes::current(&rt, &uri_node).await {
            Ok(nodes) => {
                rt.streams.read(&nodes);
                reading.retain(|node, task| {
                    let still_read = nodes.contains(node);
                    if !still_read {
                        task.abort();
                    }
                    still_read
                });
                for node in nodes {
                    reading.entry(node.clone()).or_insert_with(|| tokio::spawn(read(rt.clone(), node)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "real-time could not ask which nodes to read"),
        }
        // Until the nodes are known nothing is read: retried soon.
        tokio::time::sleep(if reading.is_empty() { Duration::from_secs(1) } else { NODES_EVERY }).await;
    }
}

/// One node's stream, reconnected for as long as the node is read.
async fn read(rt: Arc<Realtime>, node: Node) {
    let mut pause = Duration::from_millis(500);
    loop {
        match stream(&rt, &node).await {
            Ok(()) => tracing::warn!(%node, "real-time replication stream ended; reconnecting"),
            Err(e) => tracing::error!(%node, error = %e, "real-time replication stream failed; reconnecting"),
        }
        rt.streams.set_streaming(&node, false);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

fn replication_uri(rt: &Realtime) -> Result<tokio_postgres::Config, String> {
    let uri = rt.app.config.realtime.replication_uri.as_deref().ok_or("TENANCY_REALTIME_REPLICATION_URI is not set")?;
    uri.parse().map_err(|e| format!("TENANCY_REALTIME_REPLICATION_URI: {e}"))
}

fn uri_node(pg: &tokio_postgres::Config) -> Node {
    let host = match pg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    Node { host, port: pg.get_ports().first().copied().unwrap_or(5432) }
}

/// The URI's login, password and database, on `node`.
fn config(rt: &Realtime, node: &Node) -> Result<ReplicationConfig, String> {
    let realtime = &rt.app.config.realtime;
    let pg = replication_uri(rt)?;
    let password = pg.get_password().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default();
    let config = ReplicationConfig::new(
        node.host.clone(),
        pg.get_user().unwrap_or("tenancy_realtime"),
        password,
        pg.get_dbname().unwrap_or("tenancy"),
        realtime.slot.clone(),
        PUBLICATION,
    )
    .with_port(node.port)
    // Acknowledge delivered transactions within a second: a restart re-reads little.
    .with_status_interval(Duration::from_secs(1))
    .with_wakeup_interval(Duration::from_secs(1))
    .with_application_name(format!("tenancy-realtime {}", realtime.slot));
    Ok(config)
}

fn text(row: &[Option<impl AsRef<[u8]>>], i: usize) -> Option<String> {
    row.get(i)?.as_ref().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
}

/// Refuses a node that would stream nothing of its tables (the reason, with its fix), creates
/// the slot the first time (its name is checked by the configuration); the names of all types,
/// for the columns' `type` (types created later arrive in the stream).
async fn prepare(client: &mut ReplicationClient, slot: &str) -> Result<HashMap<u32, String>, String> {
    let check = client.simple_query(NODE_CHECK).await.map_err(|e| e.to_string())?;
    if let Some(problem) = check.first().and_then(|r| text(r, 0)) {
        return Err(problem);
    }
    let exists = client
        .simple_query(&format!("SELECT 1 FROM pg_replication_slots WHERE slot_name = '{slot}'"))
        .await
        .map_err(|e| e.to_string())?;
    if exists.is_empty() {
        client
            .simple_query(&format!("CREATE_REPLICATION_SLOT {slot} LOGICAL pgoutput NOEXPORT_SNAPSHOT"))
            .await
            .map_err(|e| format!("creating the replication slot {slot}: {e}"))?;
    }
    let rows = client.simple_query("SELECT oid, typname FROM pg_type").await.map_err(|e| e.to_string())?;
    Ok(rows.iter().filter_map(|r| Some((text(r, 0)?.parse().ok()?, text(r, 1)?))).collect())
}

/// What would make a node's stream silently empty. Without the publication pgoutput fails at
/// the first change; with Citus loaded and `citus.enable_change_data_capture` off, a shard's
/// changes are decoded under the shard's own name, which no publication lists.
const NODE_CHECK: &str = "SELECT problem FROM (
    SELECT 'the publication tenancy_realtime is missing on this node (on Citus: run tenancy distribute)' AS problem
    WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'tenancy_realtime')
    UNION ALL
    SELECT 'citus.enable_change_data_capture is off on this node: its shards'' changes would not be published '
           || '(ALTER SYSTEM SET citus.enable_change_data_capture = on; SELECT pg_reload_conf();)'
    WHERE current_setting('citus.enable_change_data_capture', true) = 'off'
      AND EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')) p";

fn commit_time(pg_micros: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(PG_EPOCH) + Duration::from_micros(pg_micros.max(0) as u64)
}

/// Transactions delivered together at most: a bound on one batch's check and memory.
const MAX_BATCH: usize = 1000;

async fn stream(rt: &Realtime, node: &Node) -> Result<(), String> {
    let mut client = ReplicationClient::connect_gated(config(rt, node)?).await.map_err(|e| e.to_string())?;
    let mut decoder = Decoder::with_types(prepare(&mut client, &rt.app.config.realtime.slot).await?);
    client.start().await.map_err(|e| e.to_string())?;
    client.wait_started().await.map_err(|e| e.to_string())?;
    rt.streams.set_streaming(node, true);
    tracing::info!(%node, slot = %rt.app.config.realtime.slot, "real-time replication stream started");
    let mut reader = Reader::default();
    while let Some(event) = client.recv().await.map_err(|e| e.to_string())? {
        reader.read(event, &mut decoder)?;
        // What has already arrived joins the batch: under load, many commits share one check.
        // Unconstrained: tokio's cooperative budget would otherwise call a full channel empty
        // after a hundred-odd events and keep batches small exactly when the stream is behind.
        while reader.committed < MAX_BATCH {
            match tokio::task::unconstrained(client.recv()).now_or_never() {
                Some(event) => match event.map_err(|e| e.to_string())? {
                    Some(event) => reader.read(event, &mut decoder)?,
                    None => break,
                },
                None => break,
            }
        }
        if let Some(end) = reader.wal_end.take() {
            rt.streams.wal_end(node, end);
        }
        let acknowledge = if let Some(lsn) = reader.acknowledgeable.take() {
            let batch = std::mem::take(&mut reader.batch);
            // One batch at a time, whatever its node: the checks' connections stay bounded.
            let _one_at_a_time = rt.delivering.lock().await;
            fanout::deliver(rt, batch).await;
            reader.committed = 0;
            Some(lsn)
        } else {
            reader.idle_at.take()
        };
        if let Some(lsn) = acknowledge {
            client.update_applied_lsn(lsn);
            rt.streams.acknowledged(node, lsn);
        }
    }
    Ok(())
}

/// The stream read into batches of whole transactions.
#[derive(Default)]
struct Reader {
    /// Committed transactions not yet delivered, and the transaction being read.
    batch: Batch,
    open: Batch,
    commit_timestamp: std::sync::Arc<str>,
    commit_time: Option<SystemTime>,
    committed: usize,
    /// The end of the last committed transaction in `batch`.
    acknowledgeable: Option<pgwire_replication::Lsn>,
    /// Between a transaction's Begin and its Commit.
    in_transaction: bool,
    /// The server's end of WAL, told by a heartbeat while nothing was read and not delivered:
    /// all before it is delivered or was not published (pgoutput sends no empty transaction).
    /// Acknowledged, or the slot would keep the WAL of every write to other tables for ever.
    idle_at: Option<pgwire_replication::Lsn>,
    /// The server's end of WAL, as its last heartbeat told (how far behind the slot is).
    wal_end: Option<pgwire_replication::Lsn>,
}

impl Reader {
    fn read(&mut self, event: ReplicationEvent, decoder: &mut Decoder) -> Result<(), String> {
        match event {
            ReplicationEvent::Begin { commit_time_micros, .. } => {
                let at = commit_time(commit_time_micros);
                self.commit_timestamp = humantime::format_rfc3339_millis(at).to_string().into();
                self.commit_time = Some(at);
                self.in_transaction = true;
                self.idle_at = None;
            }
            ReplicationEvent::XLogData { data, .. } => {
                if let Some(row) = decoder.decode(&data)? {
                    let change = Change::from_row(&row, &decoder.type_names, self.commit_timestamp.clone());
                    self.open.changes.push(change);
                }
            }
            ReplicationEvent::Message { transactional: true, prefix, content, .. } if prefix == BROADCAST_PREFIX => {
                self.open.broadcasts.extend(DbBroadcast::parse(&content));
            }
            ReplicationEvent::Commit { end_lsn, .. } => {
                let open = std::mem::take(&mut self.open);
                self.batch.changes.extend(open.changes);
                self.batch.broadcasts.extend(open.broadcasts);
                let read = self.commit_time.map(|at| (at, at.elapsed().unwrap_or_default()));
                self.batch.first_commit = self.batch.first_commit.or(read);
                self.committed += 1;
                self.acknowledgeable = Some(end_lsn);
                self.in_transaction = false;
            }
            ReplicationEvent::KeepAlive { wal_end, .. } => {
                self.wal_end = Some(wal_end);
                if !self.in_transaction && self.acknowledgeable.is_none() {
                    self.idle_at = Some(wal_end);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
