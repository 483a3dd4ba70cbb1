//! One committed transaction out to its subscribers: broadcasts from the database to their
//! tenant's topic; row changes routed by `tenant_id` first (another tenant's subscribers are
//! never looked at), then checked once per group of subscribers (`visibility`), then matched
//! against each subscription's event and filter. A subscriber sees only the columns its role
//! may read.
use super::change::Change;
use super::hub::{Event, Subscriber};
use super::message::Message;
use super::visibility::{self, group_key, GroupKey, Modules};
use super::Realtime;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A `realtime.broadcast` call, delivered when its transaction commits.
pub struct DbBroadcast {
    pub tenant: Uuid,
    pub topic: String,
    pub event: String,
    pub payload: Value,
}

impl DbBroadcast {
    /// The logical message `realtime.broadcast` emits (V14): `{tenant, topic, event, payload}`.
    pub fn parse(content: &[u8]) -> Option<DbBroadcast> {
        let v: Value = serde_json::from_slice(content).ok()?;
        Some(DbBroadcast {
            tenant: Uuid::parse_str(v.get("tenant")?.as_str()?).ok()?,
            topic: v.get("topic")?.as_str()?.to_string(),
            event: v.get("event")?.as_str()?.to_string(),
            payload: v.get("payload").cloned().unwrap_or(json!({})),
        })
    }
}

/// The transactions committed since the last delivery, in commit order: delivered together,
/// so a group's check is one query for all of them.
#[derive(Default)]
pub struct Batch {
    pub changes: Vec<Change>,
    pub broadcasts: Vec<DbBroadcast>,
}

pub async fn deliver(rt: &Realtime, batch: Batch) {
    for b in &batch.broadcasts {
        let payload = json!({"type": "broadcast", "event": b.event, "payload": b.payload});
        rt.hub.broadcast(Some(b.tenant), &b.topic, None, &payload);
    }
    let mut by_tenant: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (i, change) in batch.changes.iter().enumerate() {
        if let Some(tenant) = change.tenant {
            by_tenant.entry(tenant).or_default().push(i);
        }
    }
    for (tenant, indices) in by_tenant {
        deliver_tenant(rt, &batch, &indices, rt.hub.subscribers(tenant)).await;
    }
}

fn covers(s: &Subscriber, change: &Change) -> bool {
    s.member.subscriptions.iter().any(|sub| sub.covers(&change.schema, &change.table, change.kind).is_some())
}

async fn deliver_tenant(rt: &Realtime, batch: &Batch, indices: &[usize], subscribers: Vec<Subscriber>) {
    let mut groups: HashMap<GroupKey, Vec<&Subscriber>> = HashMap::new();
    for s in &subscribers {
        groups.entry(group_key(&s.member.identity)).or_default().push(s);
    }
    let modules: Modules = subscribers
        .iter()
        .flat_map(|s| s.member.subscriptions.iter().flat_map(|sub| sub.tables.iter()))
        .map(|t| ((t.schema.as_str(), t.table.as_str()), t.module.as_deref()))
        .collect();
    let modules = &modules;
    let checks: Vec<_> = groups.into_values().map(|members| check(rt, batch, indices, members, modules)).collect();
    // As many checks at once as the pool has connections: more would only queue for one (and
    // time out under load, which would deliver nothing).
    let checked: Vec<_> =
        futures_util::stream::iter(checks).buffer_unordered(rt.app.config.pool_size.max(1)).collect().await;
    for (members, candidates, visible) in checked {
        for &i in candidates.iter().filter(|i| visible.contains(i)) {
            for s in &members {
                send(s, &batch.changes[i]);
            }
        }
    }
}

/// One group's check: the changes any of its members wants, and which of them it may see.
async fn check<'a>(
    rt: &Realtime,
    batch: &Batch,
    indices: &[usize],
    members: Vec<&'a Subscriber>,
    modules: &Modules<'_>,
) -> (Vec<&'a Subscriber>, Vec<usize>, HashSet<usize>) {
    let candidates: Vec<usize> =
        indices.iter().copied().filter(|&i| members.iter().any(|s| covers(s, &batch.changes[i]))).collect();
    let visible = match candidates.is_empty() {
        true => HashSet::new(),
        false => {
            let identity = &members[0].member.identity;
            visibility::visible(&rt.app, identity, &batch.changes, &candidates, modules).await
        }
    };
    (members, candidates, visible)
}

fn only(row: &Map<String, Value>, columns: &[String]) -> Map<String, Value> {
    row.iter().filter(|(k, _)| columns.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The change to one subscriber, under the ids of its subscriptions that want it.
fn send(s: &Subscriber, change: &Change) {
    let mut ids = Vec::new();
    let mut readable: Option<&[String]> = None;
    for sub in s.member.subscriptions.iter() {
        let Some(table) = sub.covers(&change.schema, &change.table, change.kind) else { continue };
        let row = match change.kind {
            super::postgres_changes::ChangeKind::Delete => &change.old_record,
            _ => &change.record,
        };
        if sub.filter.as_ref().is_none_or(|f| f.matches(row)) {
            ids.push(sub.id);
            readable = Some(&table.columns);
        }
    }
    let Some(columns) = readable else { return };
    let mut data = json!({
        "schema": change.schema,
        "table": change.table,
        "commit_timestamp": &*change.commit_timestamp,
        "type": change.kind.name(),
        "columns": change.columns.iter().filter(|(n, _)| columns.contains(n))
            .map(|(name, type_name)| json!({"name": name, "type": type_name})).collect::<Vec<_>>(),
        "errors": null,
    });
    if !change.record.is_empty() {
        data["record"] = Value::Object(only(&change.record, columns));
    }
    if !change.old_record.is_empty() {
        data["old_record"] = Value::Object(only(&change.old_record, columns));
    }
    let mut m = Message::new(&s.topic, "postgres_changes", json!({"ids": ids, "data": data}));
    m.join_ref = s.member.join_ref.clone();
    s.member.outbox.send(Event::Send(m));
}
