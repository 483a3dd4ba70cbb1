//! Rights change live: twice a second, once per group of channels sharing tenant, role and
//! claims, the database is asked (as that group, as a request would be) whether the tenant
//! can still be entered and which of the group's modules are still enabled. A suspended
//! tenant or a disabled module closes the affected channels with a `system` error; token
//! expiry is each socket's own check (`channel::expire`). Between a change of rights and the
//! next look, the visibility check already refuses to deliver (see `visibility`).
use super::access;
use super::hub::{Event, Subscriber};
use super::visibility::{group_key, GroupKey};
use super::Realtime;
use crate::tx::{self, End, Options, TxError};
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(500);

const DISABLED_SQL: &str = "SELECT m FROM jsonb_array_elements_text($1::text::jsonb) m WHERE NOT tenancy.has_module(m)";

/// What ends a tenant's access: unknown (deleted) or suspended.
const TENANT_GONE: [&str; 2] = ["TN001", "TN002"];

pub async fn watch(rt: Arc<Realtime>) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let mut groups: HashMap<GroupKey, Vec<Subscriber>> = HashMap::new();
        for s in rt.hub.tenant_members() {
            groups.entry(group_key(&s.member.identity)).or_default().push(s);
        }
        let checks = groups.into_values().map(|members| check(&rt, members));
        futures_util::stream::iter(checks).buffer_unordered(rt.app.config.pool_size.max(1)).collect::<()>().await;
    }
}

fn modules(s: &Subscriber) -> impl Iterator<Item = &str> {
    s.member.subscriptions.iter().flat_map(|sub| sub.tables.iter().filter_map(|t| t.module.as_deref()))
}

fn revoke(s: &Subscriber, reason: &str) {
    s.member.outbox.send(Event::Revoke { topic: s.topic.clone(), reason: reason.to_string() });
}

async fn check(rt: &Realtime, members: Vec<Subscriber>) {
    let identity = members[0].member.identity.clone();
    let wanted: BTreeSet<&str> = members.iter().flat_map(modules).collect();
    let param = Value::from(wanted.into_iter().collect::<Vec<_>>()).to_string();
    let options = Options { end: End::Rollback, check: None, read_only: true, explain: None };
    let settings = access::settings(&rt.app, &identity);
    match tx::run(&rt.app.pool, &rt.app.setup_sql, settings, DISABLED_SQL.into(), vec![Some(param)], options).await {
        Ok(ran) => {
            let disabled: Vec<String> = ran.rows.iter().map(|r| r.get(0)).collect();
            for s in &members {
                if let Some(m) = modules(s).find(|m| disabled.iter().any(|d| d == m)) {
                    revoke(s, &format!("Module not enabled: {m}"));
                }
            }
        }
        Err(TxError::Db(e)) if e.code().is_some_and(|c| TENANT_GONE.contains(&c.code())) => {
            for s in &members {
                revoke(s, "This organisation's account is suspended");
            }
        }
        Err(e) => tracing::warn!(error = ?e, "real-time rights check failed; will look again"),
    }
}
