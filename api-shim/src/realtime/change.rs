//! A decoded row change as the subscribers get it: values typed as JSON the way realtime-js
//! expects them (numbers, booleans, JSON; the rest as PostgreSQL's text), the columns with
//! their type names, the tenant it belongs to, and its key (what the visibility check
//! looks the row up by). A DELETE keeps only the key: a deleted row's contents never travel.
use super::pgoutput::{Cell, Kind, RowChange};
use super::postgres_changes::ChangeKind;
use serde_json::{Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

pub struct Change {
    /// When its transaction committed (RFC 3339), as realtime-js shows it.
    pub commit_timestamp: std::sync::Arc<str>,
    pub schema: String,
    pub table: String,
    pub kind: ChangeKind,
    pub tenant: Option<Uuid>,
    /// INSERT, UPDATE: the new row.
    pub record: Map<String, Value>,
    /// DELETE (and an UPDATE of the key): the old key.
    pub old_record: Map<String, Value>,
    pub key: Map<String, Value>,
    pub columns: Vec<(String, String)>,
}

fn typed(type_name: &str, text: &str) -> Value {
    let parsed = || serde_json::from_str::<Value>(text).ok();
    match type_name {
        "bool" => Value::Bool(text == "t"),
        "int2" | "int4" | "int8" | "float4" | "float8" | "numeric" | "oid" => {
            parsed().filter(Value::is_number).unwrap_or_else(|| Value::String(text.into()))
        }
        "json" | "jsonb" => parsed().unwrap_or_else(|| Value::String(text.into())),
        _ => Value::String(text.into()),
    }
}

fn row(cells: &[Cell], names: &[(String, String)], only_key: Option<&[bool]>) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, cell) in cells.iter().enumerate() {
        let Some((name, type_name)) = names.get(i) else { continue };
        if only_key.is_some_and(|keys| !keys.get(i).copied().unwrap_or(false)) {
            continue;
        }
        match cell {
            Cell::Null => {
                out.insert(name.clone(), Value::Null);
            }
            Cell::Text(text) => {
                out.insert(name.clone(), typed(type_name, text));
            }
            // An unchanged TOASTed value is not in the message: left out rather than guessed.
            Cell::Unchanged => {}
        }
    }
    out
}

impl Change {
    pub fn from_row(
        change: &RowChange,
        type_names: &HashMap<u32, String>,
        commit_timestamp: std::sync::Arc<str>,
    ) -> Change {
        let relation = &change.relation;
        let columns: Vec<(String, String)> = relation
            .columns
            .iter()
            .map(|c| (c.name.clone(), type_names.get(&c.type_oid).cloned().unwrap_or_else(|| "text".into())))
            .collect();
        let keys: Vec<bool> = relation.columns.iter().map(|c| c.key).collect();
        let record = change.new.as_deref().map(|cells| row(cells, &columns, None)).unwrap_or_default();
        let old_record = change.old.as_deref().map(|cells| row(cells, &columns, Some(&keys))).unwrap_or_default();
        let key = match change.kind {
            Kind::Delete => old_record.clone(),
            _ => change.new.as_deref().map(|cells| row(cells, &columns, Some(&keys))).unwrap_or_default(),
        };
        let tenant = [&record, &old_record]
            .iter()
            .find_map(|r| r.get("tenant_id").and_then(Value::as_str).and_then(|t| Uuid::parse_str(t).ok()));
        Change {
            commit_timestamp,
            schema: relation.schema.clone(),
            table: relation.table.clone(),
            kind: match change.kind {
                Kind::Insert => ChangeKind::Insert,
                Kind::Update => ChangeKind::Update,
                Kind::Delete => ChangeKind::Delete,
            },
            tenant,
            record,
            old_record,
            key,
            columns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_typed_as_realtime_js_expects() {
        assert_eq!(typed("int8", "42"), json!(42));
        assert_eq!(typed("numeric", "NaN"), json!("NaN"));
        assert_eq!(typed("bool", "t"), json!(true));
        assert_eq!(typed("jsonb", r#"{"a":[1]}"#), json!({"a": [1]}));
        assert_eq!(typed("timestamptz", "2026-01-01 00:00:00+00"), json!("2026-01-01 00:00:00+00"));
        assert_eq!(typed("text", "12"), json!("12"), "text stays text");
    }
}
