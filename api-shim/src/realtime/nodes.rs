//! The nodes whose WAL real-time reads, and how each node's stream stands. On one node that is
//! the database of `TENANCY_REALTIME_REPLICATION_URI`. On Citus a row written through the
//! coordinator lands in a shard on a worker, so in that worker's WAL: every active primary of
//! the coordinator's `pg_dist_node` is read too, each from a slot of its own (same name on
//! every node), and asked again now and then, so a worker added later is read as well.
use super::Realtime;
use pgwire_replication::Lsn;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A PostgreSQL server whose WAL is read: `host:port`, the rest from the replication URI.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// The workers besides the coordinator (group 0, the URI's own node), where Citus is installed.
const WORKERS_SQL: &str = "SELECT nodename, nodeport FROM pg_dist_node
                           WHERE isactive AND noderole = 'primary' AND groupid <> 0 ORDER BY nodename, nodeport";

/// The URI's node, then the Citus workers its database lists (none without Citus).
pub async fn current(rt: &Realtime, uri_node: &Node) -> Result<Vec<Node>, String> {
    let db = rt.app.pool.get().await.map_err(|e| e.to_string())?;
    let on_citus: bool = db
        .query_one("SELECT to_regclass('pg_catalog.pg_dist_node') IS NOT NULL", &[])
        .await
        .map_err(|e| e.to_string())?
        .get(0);
    let mut nodes = vec![uri_node.clone()];
    if on_citus {
        let rows = db.query(WORKERS_SQL, &[]).await.map_err(|e| e.to_string())?;
        let workers = rows.iter().map(|r| Node { host: r.get(0), port: r.get::<_, i32>(1) as u16 });
        nodes.extend(workers.filter(|w| w != uri_node));
    }
    Ok(nodes)
}

/// Each read node's stream, for the health of real-time and the operator's status page.
#[derive(Default)]
pub struct Streams(Mutex<BTreeMap<Node, Stream>>);

#[derive(Default, Clone)]
struct Stream {
    streaming: bool,
    /// The end of the last transaction acknowledged to the node's slot (delivered or unpublished).
    acknowledged: Option<Lsn>,
    /// The node's end of WAL, as its last heartbeat told.
    wal_end: Option<Lsn>,
}

impl Streams {
    /// The nodes read from now on (a stream of a node left out is forgotten).
    pub fn read(&self, nodes: &[Node]) {
        let mut streams = self.0.lock().unwrap();
        streams.retain(|n, _| nodes.contains(n));
        for n in nodes {
            streams.entry(n.clone()).or_default();
        }
    }

    fn with(&self, node: &Node, f: impl FnOnce(&mut Stream)) {
        if let Some(stream) = self.0.lock().unwrap().get_mut(node) {
            f(stream);
        }
    }

    pub fn set_streaming(&self, node: &Node, on: bool) {
        self.with(node, |s| s.streaming = on);
    }

    pub fn acknowledged(&self, node: &Node, lsn: Lsn) {
        self.with(node, |s| s.acknowledged = Some(lsn));
    }

    pub fn wal_end(&self, node: &Node, lsn: Lsn) {
        self.with(node, |s| s.wal_end = Some(lsn));
    }

    /// Every node's stream is read: a commit anywhere from now on reaches the subscribers.
    pub fn all_streaming(&self) -> bool {
        let streams = self.0.lock().unwrap();
        !streams.is_empty() && streams.values().all(|s| s.streaming)
    }

    /// One entry per node: whether it streams, what was acknowledged, how far behind its WAL.
    pub fn status(&self) -> Value {
        let streams = self.0.lock().unwrap();
        let entry = |(node, s): (&Node, &Stream)| {
            let behind = s.wal_end.zip(s.acknowledged).map(|(end, ack)| end.as_u64().saturating_sub(ack.as_u64()));
            json!({
                "node": node.to_string(), "streaming": s.streaming,
                "acknowledged_lsn": s.acknowledged.map(Lsn::to_pg_string), "behind_bytes": behind,
            })
        };
        Value::Array(streams.iter().map(entry).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(port: u16) -> Node {
        Node { host: "127.0.0.1".into(), port }
    }

    #[test]
    fn every_read_node_must_stream_and_a_node_left_out_is_forgotten() {
        let streams = Streams::default();
        assert!(!streams.all_streaming(), "nothing read yet: no commit would reach anyone");
        streams.read(&[node(1), node(2)]);
        streams.set_streaming(&node(1), true);
        assert!(!streams.all_streaming(), "a worker not streamed yet");
        streams.set_streaming(&node(2), true);
        assert!(streams.all_streaming());
        streams.set_streaming(&node(2), false);
        streams.read(&[node(1)]);
        assert!(streams.all_streaming(), "the worker that left no longer counts");
        assert_eq!(streams.status().as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn the_status_tells_how_far_behind_its_wal_a_node_is() {
        let streams = Streams::default();
        streams.read(&[node(1)]);
        streams.acknowledged(&node(1), Lsn(0x100));
        streams.wal_end(&node(1), Lsn(0x180));
        let status = streams.status();
        assert_eq!(status[0]["node"], "127.0.0.1:1");
        assert_eq!(status[0]["behind_bytes"], 0x80);
        assert_eq!(status[0]["acknowledged_lsn"], "0/100");
    }
}
