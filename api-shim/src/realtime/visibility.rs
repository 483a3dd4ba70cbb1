//! Which changes of a batch a GROUP of subscribers may see: subscribers who share tenant,
//! role and claims see the same rows, so the check runs once per group, in one query per
//! batch, as that group (tenant entered, role set, claims as on REST: RLS and its
//! `has_permission` policies apply) — never once per subscriber. A row is visible when the
//! group can SELECT it by its key now; a DELETE carries only the key and goes to whoever may
//! read the table (checked at join). A check that fails shows nothing.
use super::access;
use super::change::Change;
use super::postgres_changes::ChangeKind;
use crate::auth::Identity;
use crate::state::AppState;
use crate::tx::{self, End, Options};
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
fn statement(changes: &[Change], candidates: &[usize], modules: &Modules) -> (String, Vec<Option<String>>) {
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
        let elements = format!("SELECT (e->>'i')::int FROM jsonb_array_elements(${}::text::jsonb) e", params.len());
        if deleted {
            let module = modules.get(&(schema, table)).copied().flatten();
            params.push(module.map(str::to_string));
            parts.push(format!(
                "{elements} WHERE ${0}::text IS NULL OR tenancy.require_module(${0}::text)",
                params.len()
            ));
            continue;
        }
        let relation = format!("{}.{}", quote_ident(schema), quote_ident(table));
        let keys: Vec<String> =
            changes[indices[0]].key.keys().map(|k| format!("t.{0} = r.{0}", quote_ident(k))).collect();
        let cond = if keys.is_empty() { "false".to_string() } else { keys.join(" AND ") };
        parts.push(format!(
            "{elements} CROSS JOIN LATERAL jsonb_populate_record(NULL::{relation}, e->'k') r \
             WHERE EXISTS (SELECT FROM {relation} t WHERE {cond})"
        ));
    }
    (parts.join(" UNION ALL "), params)
}

pub async fn visible(
    app: &AppState,
    identity: &Identity,
    changes: &[Change],
    candidates: &[usize],
    modules: &Modules<'_>,
) -> HashSet<usize> {
    let (sql, params) = statement(changes, candidates, modules);
    let options = Options { end: End::Rollback, check: None, read_only: true, explain: None };
    match tx::run(&app.pool, &app.setup_sql, access::settings(app, identity), sql, params, options).await {
        Ok(ran) => ran.rows.iter().map(|r| r.get::<_, i32>(0) as usize).collect(),
        Err(e) => {
            tracing::warn!(error = ?e, role = %identity.role, "real-time visibility check failed: nothing delivered");
            HashSet::new()
        }
    }
}
