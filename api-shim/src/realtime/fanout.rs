//! One committed transaction out to its subscribers: broadcasts from the database to their
//! tenant's topic; row changes routed by `tenant_id` first (another tenant's subscribers are
//! never looked at), then checked once per group of subscribers (`visibility`), then matched
//! against each subscription's event and filter. A subscriber sees only the columns its role
//! may read.
use super::change::Change;
use super::hub::{Event, Subscriber};
use super::message::Encoded;
use super::postgres_changes::ChangeKind;
use super::visibility::{self, GroupCheck, GroupKey, Modules};
use super::Realtime;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
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
    /// When its first transaction committed, and how long after that its commit was read from
    /// the stream (how far behind the delivery is, in the log).
    pub first_commit: Option<(std::time::SystemTime, std::time::Duration)>,
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
    let tenants: Vec<(Vec<usize>, Vec<Subscriber>)> =
        by_tenant.into_iter().map(|(tenant, indices)| (indices, rt.hub.subscribers(tenant))).collect();
    let groups: Vec<Group> =
        tenants.iter().flat_map(|(indices, subscribers)| groups(&batch, indices, subscribers)).collect();
    let checks: Vec<GroupCheck> = groups.iter().map(Group::check).collect();
    let started = std::time::Instant::now();
    let visible = visibility::visible(&rt.app, &batch.changes, &checks).await;
    let checking = started.elapsed();
    let mut encoded = EncodedData::default();
    for (group, visible) in groups.iter().zip(visible) {
        for &i in group.candidates.iter().filter(|i| visible.contains(i)) {
            for s in &group.members {
                send(s, i, &batch.changes[i], &mut encoded);
            }
        }
    }
    let (changes, groups, sending) = (batch.changes.len(), groups.len(), started.elapsed() - checking);
    let (read, behind) = batch.first_commit.map(|(at, read)| (read, at.elapsed().unwrap_or_default())).unzip();
    tracing::debug!(changes, groups, ?checking, ?sending, ?read, ?behind, "real-time batch delivered");
}

/// Subscribers of one tenant who share a check, and the changes of the batch any of them wants.
struct Group<'a> {
    members: Vec<&'a Subscriber>,
    candidates: Vec<usize>,
}

impl Group<'_> {
    fn check(&self) -> GroupCheck<'_> {
        let modules: Modules = self
            .members
            .iter()
            .flat_map(|s| s.member.subscriptions.iter().flat_map(|sub| sub.tables.iter()))
            .map(|t| ((t.schema.as_str(), t.table.as_str()), t.module.as_deref()))
            .collect();
        GroupCheck { identity: &self.members[0].member.identity, candidates: self.candidates.clone(), modules }
    }
}

/// A tenant's subscribers grouped by what decides visibility; groups that want none of the
/// tenant's changes are left out.
fn groups<'a>(batch: &Batch, indices: &[usize], subscribers: &'a [Subscriber]) -> Vec<Group<'a>> {
    let mut by_key: HashMap<&GroupKey, Vec<&Subscriber>> = HashMap::new();
    for s in subscribers {
        by_key.entry(&s.member.group).or_default().push(s);
    }
    by_key
        .into_values()
        .filter_map(|members| {
            let candidates: Vec<usize> =
                indices.iter().copied().filter(|&i| members.iter().any(|s| covers(s, &batch.changes[i]))).collect();
            (!candidates.is_empty()).then_some(Group { members, candidates })
        })
        .collect()
}

fn covers(s: &Subscriber, change: &Change) -> bool {
    s.member.subscriptions.iter().any(|sub| sub.covers(&change.schema, &change.table, change.kind).is_some())
}

fn only(row: &Map<String, Value>, columns: &[String]) -> Map<String, Value> {
    row.iter().filter(|(k, _)| columns.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A change as JSON text, once per change and set of readable columns: every subscriber who
/// may read the same columns gets the same text.
#[derive(Default)]
struct EncodedData<'a> {
    texts: HashMap<(usize, &'a [String]), Arc<str>>,
}

impl<'a> EncodedData<'a> {
    fn get(&mut self, i: usize, change: &Change, columns: &'a [String]) -> Arc<str> {
        self.texts.entry((i, columns)).or_insert_with(|| data(change, columns).to_string().into()).clone()
    }
}

/// What realtime-js reads as the change (`data` of the message), with only `columns`.
fn data(change: &Change, columns: &[String]) -> Value {
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
    data
}

/// The change (number `i` of the batch) to one subscriber, under the ids of its subscriptions
/// that want it.
fn send<'a>(s: &'a Subscriber, i: usize, change: &Change, encoded: &mut EncodedData<'a>) {
    let mut ids = Vec::new();
    let mut readable: Option<&[String]> = None;
    for sub in s.member.subscriptions.iter() {
        let Some(table) = sub.covers(&change.schema, &change.table, change.kind) else { continue };
        let row = match change.kind {
            ChangeKind::Delete => &change.old_record,
            _ => &change.record,
        };
        if sub.filter.as_ref().is_none_or(|f| f.matches(row)) {
            ids.push(sub.id);
            readable = Some(&table.columns);
        }
    }
    let Some(columns) = readable else { return };
    let payload = format!(r#"{{"ids":{},"data":{}}}"#, json!(ids), encoded.get(i, change, columns));
    let message =
        Encoded { topic: s.topic.clone(), join_ref: s.member.join_ref.clone(), event: "postgres_changes", payload };
    s.member.outbox.send(Event::SendEncoded(message));
}
