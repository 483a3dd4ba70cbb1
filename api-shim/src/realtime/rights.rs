//! Rights change live: twice a second, once per tenant, company and role of the channels (what
//! decides entering the tenant and its modules; the claims do not), the database is asked (as
//! one of them, as a request would be; all in one round trip) whether the tenant can still be
//! entered and which of their modules are still enabled. A suspended tenant or a disabled
//! module closes the affected channels with a `system` error; token expiry is each socket's
//! own check (`channel::expire`). Between a change of rights and the next look, the
//! visibility check already refuses to deliver (see `visibility`).
use super::access;
use super::group_tx::{self, GroupQuery};
use super::hub::{Event, Subscriber};
use super::visibility::GroupKey;
use super::Realtime;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const EVERY: Duration = Duration::from_millis(500);

const DISABLED_SQL: &str = "SELECT m FROM jsonb_array_elements_text($1::text::jsonb) m WHERE NOT tenancy.has_module(m)";

/// What ends a tenant's access: unknown (deleted) or suspended.
const TENANT_GONE: [&str; 2] = ["TN001", "TN002"];

pub async fn watch(rt: Arc<Realtime>) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let mut groups: HashMap<(Option<Uuid>, Option<Uuid>, String), Vec<Subscriber>> = HashMap::new();
        for s in rt.hub.tenant_members() {
            let GroupKey { tenant, company, role, .. } = &*s.member.group;
            groups.entry((*tenant, *company, role.clone())).or_default().push(s);
        }
        check(&rt, groups.into_values().collect()).await;
    }
}

fn modules(s: &Subscriber) -> impl Iterator<Item = &str> {
    s.member.subscriptions.iter().flat_map(|sub| sub.tables.iter().filter_map(|t| t.module.as_deref()))
}

fn revoke(s: &Subscriber, reason: &str) {
    s.member.outbox.send(Event::Revoke { topic: s.topic.clone(), reason: reason.to_string() });
}

/// Each group asked as one of its channels, all groups in one round trip (`group_tx`).
async fn check(rt: &Realtime, groups: Vec<Vec<Subscriber>>) {
    let queries = groups
        .iter()
        .map(|members| {
            let wanted: BTreeSet<&str> = members.iter().flat_map(modules).collect();
            let param = Value::from(wanted.into_iter().collect::<Vec<_>>()).to_string();
            let settings = access::settings(&rt.app, &members[0].member.identity);
            GroupQuery { settings, sql: DISABLED_SQL.into(), params: vec![Some(param)] }
        })
        .collect();
    let answers = match group_tx::run(&rt.app.pool, &rt.app.setup_sql, queries).await {
        Ok(answers) => answers,
        Err(e) => {
            tracing::warn!(error = %e, "real-time rights check failed; will look again");
            return;
        }
    };
    for (members, answer) in groups.iter().zip(answers) {
        match answer {
            Ok(rows) => {
                let disabled: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
                for s in members {
                    if let Some(m) = modules(s).find(|m| disabled.iter().any(|d| d == m)) {
                        revoke(s, &format!("Module not enabled: {m}"));
                    }
                }
            }
            Err(e) if e.code().is_some_and(|c| TENANT_GONE.contains(&c.code())) => {
                for s in members {
                    revoke(s, "This organisation's account is suspended");
                }
            }
            Err(e) => tracing::warn!(error = ?e, "real-time rights check failed; will look again"),
        }
    }
}
