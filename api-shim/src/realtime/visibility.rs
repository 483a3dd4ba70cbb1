//! Which changes of a batch a GROUP of subscribers may see: subscribers who share tenant,
//! role and claims see the same rows, so the check runs once per group, in one query per
//! batch, as that group (tenant entered, role set, claims as on REST: RLS and its
//! `has_permission` policies apply) — never once per subscriber; all groups' queries of a
//! batch go in one round trip (`group_tx`), through the coordinator on Citus. A row is visible
//! when the group can SELECT it by its key now; a DELETE carries only the key and goes to whoever may read the table (checked
//! at join). A check that fails shows nothing.
use super::access;
use super::change::Change;
use super::group_tx::{self, GroupQuery};
use super::postgres_changes::ChangeKind;
use crate::auth::Identity;
use crate::state::AppState;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// What subscribers must share to share a check. The token's lifetime claims (`exp`, `iat`,
/// `nbf`, `jti`) do not change what a role sees, so they do not split groups.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct GroupKey {
    pub tenant: Option<Uuid>,
    pub company: Option<Uuid>,
    pub role: String,
    pub claims: String,
}

pub fn group_key(identity: &Identity) -> GroupKey {
    let mut claims = identity.claims.clone();
    if let Some(o) = claims.as_object_mut() {
        for lifetime in ["exp", "iat", "nbf", "jti"] {
            o.remove(lifetime);
        }
    }
    GroupKey {
        tenant: identity.tenant,
        company: identity.company,
        role: identity.role.clone(),
        claims: claims.to_string(),
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The module of a table, as the subscribers' joins found it (none: not a module's table).
pub type Modules<'a> = HashMap<(&'a str, &'a str), Option<&'a str>>;

/// One statement for the batch: per table, the candidates whose key still finds a row the
/// group may read; DELETEs pass while the table's module is enabled (the key is all they
/// carry). Each part fails the whole check with TN010 when the module was disabled, and the
/// transaction's setup fails when the tenant was suspended: then nothing is delivered.
/// The rows are joined by key and named by the group's tenant (all its candidates are of that
/// tenant): on Citus that makes each part a router query on the tenant's shard, where a
/// correlated `EXISTS` is refused ("correlated subqueries are not supported ...").
fn statement(
    changes: &[Change],
    candidates: &[usize],
    modules: &Modules,
    tenant: Option<Uuid>,
) -> (String, Vec<Option<String>>) {
    let mut by_table: BTreeMap<(&str, &str, bool), Vec<usize>> = BTreeMap::new();
    for &i in candidates {
        let c = &changes[i];
        by_table.entry((&c.schema, &c.table, c.kind == ChangeKind::Delete)).or_default().push(i);
    }
    let mut parts = Vec::new();
    let mut params = Vec::new();
    for ((schema, table, deleted), indices) in by_table {
        let items: Vec<Value> = indices.iter().map(|&i| json!({"i": i, "k": changes[i].key})).collect();
        params.push(Some(Value::Array(items).to_string()));
        let elements = format!("jsonb_array_elements(${}::text::jsonb) e", params.len());
        if deleted {
            let module = modules.get(&(schema, table)).copied().flatten();
            params.push(module.map(str::to_string));
            parts.push(format!(
                "SELECT (e->>'i')::int FROM {elements} WHERE ${0}::text IS NULL OR tenancy.require_module(${0}::text)",
                params.len()
            ));
            continue;
        }
        let relation = format!("{}.{}", quote_ident(schema), quote_ident(table));
        let keys: Vec<String> =
            changes[indices[0]].key.keys().map(|k| format!("t.{0} = k.{0}", quote_ident(k))).collect();
        let on = if keys.is_empty() { "false".to_string() } else { keys.join(" AND ") };
        let of_tenant = match tenant {
            Some(tenant) => {
                params.push(Some(tenant.to_string()));
                format!(" WHERE t.tenant_id = ${}::text::uuid", params.len())
            }
            None => String::new(),
        };
        parts.push(format!(
            "SELECT k.i FROM (SELECT (e->>'i')::int AS i, r.* FROM {elements} \
             CROSS JOIN LATERAL jsonb_populate_record(NULL::{relation}, e->'k') r) k \
             JOIN {relation} t ON {on}{of_tenant}"
        ));
    }
    (parts.join(" UNION ALL "), params)
}

/// One group's check: who it is, and the changes of the batch any of its members wants.
pub struct GroupCheck<'a> {
    pub identity: &'a Identity,
    pub candidates: Vec<usize>,
    pub modules: Modules<'a>,
}

/// Which candidates each group may see, every group checked as itself in one pipelined
/// transaction (`group_tx`). A group whose check failed sees nothing.
pub async fn visible(app: &AppState, changes: &[Change], checks: &[GroupCheck<'_>]) -> Vec<HashSet<usize>> {
    let mut seen = checked(app, changes, checks.iter()).await;
    // On Citus a row a worker's WAL has just shown can, for an instant while its tenant's shard
    // is split or moved, not be found yet through the coordinator (seen in about one move in
    // ten: the change was never delivered). What a group wanted and did not see is asked once
    // more, after a moment; still unseen, it stays undelivered.
    let missed: Vec<usize> = (0..checks.len()).filter(|&g| seen[g].len() < checks[g].candidates.len()).collect();
    if !missed.is_empty() && app.schema().citus {
        tokio::time::sleep(std::time::Duration::from_millis(RECHECK_AFTER_MS)).await;
        let again = checked(app, changes, missed.iter().map(|&g| &checks[g])).await;
        for (g, rows) in missed.into_iter().zip(again) {
            seen[g].extend(rows);
        }
    }
    seen
}

/// How long a row unseen on Citus is given before it is asked for again.
const RECHECK_AFTER_MS: u64 = 200;

async fn checked<'a>(
    app: &AppState,
    changes: &[Change],
    checks: impl ExactSizeIterator<Item = &'a GroupCheck<'a>> + Clone,
) -> Vec<HashSet<usize>> {
    let queries = checks
        .clone()
        .map(|c| {
            let (sql, params) = statement(changes, &c.candidates, &c.modules, c.identity.tenant);
            GroupQuery { settings: access::settings(app, c.identity), sql, params }
        })
        .collect();
    let answers = match group_tx::run(&app.pool, &app.setup_sql, queries).await {
        Ok(answers) => answers,
        Err(e) => {
            tracing::warn!(error = %e, "real-time visibility checks failed: nothing delivered");
            return checks.map(|_| HashSet::new()).collect();
        }
    };
    answers
        .into_iter()
        .zip(checks)
        .map(|(answer, check)| match answer {
            Ok(rows) => rows.iter().map(|r| r.get::<_, i32>(0) as usize).collect(),
            Err(e) => {
                let role = &check.identity.role;
                tracing::warn!(error = ?e, %role, "real-time visibility check failed: nothing delivered");
                HashSet::new()
            }
        })
        .collect()
}
