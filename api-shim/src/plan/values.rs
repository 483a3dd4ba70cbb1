//! A one-row insert as plain parameters (`InsertRows::Values`): made only where each value is
//! exactly what `json_populate_record` makes of the body, so the row, its defaults and every
//! error stay those of the insert through `json_populate_recordset`.
use crate::schema_cache::{BodyValue, Relation};
use serde_json::{Map, Value};

/// The written columns of the one `object` as (value's text or NULL, column's type), or `None`
/// when the row must go through the record.
pub(super) fn plain_row(
    relation: &Relation,
    columns: &[String],
    object: &Map<String, Value>,
) -> Option<Vec<(Option<String>, String)>> {
    // The record reads every column, written or not: a domain is checked even where the body
    // leaves it out, and a key of a column that is not written is still read (and may fail).
    if relation.columns.iter().any(|c| c.body_value == BodyValue::Domain)
        || object.keys().any(|key| relation.column(key).is_some() && !columns.contains(key))
    {
        return None;
    }
    columns
        .iter()
        .map(|name| {
            let column = relation.column(name)?;
            let value = match (column.body_value, object.get(name)) {
                (_, None | Some(Value::Null)) => None,
                (BodyValue::Json, Some(json)) => Some(json.to_string()),
                // PostgreSQL refuses a NUL in a text parameter (22021); the record, `\u0000` (22P05).
                (BodyValue::Text, Some(Value::String(text))) if !text.contains('\0') => Some(text.clone()),
                (BodyValue::Text, Some(scalar @ (Value::Number(_) | Value::Bool(_)))) => Some(scalar.to_string()),
                // An array or object into a scalar column, any value into a composite or an array.
                _ => return None,
            };
            Some((value, column.type_name.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `t (n int, doc jsonb, tags text[])`, and a domain column when `domain`.
    fn relation(domain: bool) -> Relation {
        let column = |name: &str, type_name: &str, body_value: &str| {
            json!({"name": name, "type_name": type_name, "nullable": true, "has_default": false, "generated": false,
                   "body_value": body_value})
        };
        let mut columns = vec![
            column("n", "integer", "text"),
            column("doc", "jsonb", "json"),
            column("tags", "text[]", "structured"),
        ];
        if domain {
            columns.push(column("code", "public.code", "domain"));
        }
        serde_json::from_value(json!({"schema": "public", "name": "t", "is_view": false, "columns": columns,
                                      "primary_key": [], "foreign_keys": []}))
        .unwrap()
    }

    fn row(relation: &Relation, columns: &[&str], object: Value) -> Option<Vec<(Option<String>, String)>> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        plain_row(relation, &columns, object.as_object().unwrap())
    }

    fn text(value: &str, type_name: &str) -> (Option<String>, String) {
        (Some(value.into()), type_name.into())
    }

    #[test]
    fn a_scalar_is_its_text_and_json_stays_json() {
        let t = relation(false);
        assert_eq!(
            row(&t, &["n", "doc"], json!({"n": "12", "doc": "a"})),
            Some(vec![text("12", "integer"), text("\"a\"", "jsonb")])
        );
        assert_eq!(
            row(&t, &["n"], json!({"n": 12.5})),
            Some(vec![text("12.5", "integer")]),
            "the input function judges it"
        );
        assert_eq!(row(&t, &["n"], json!({"n": true})), Some(vec![text("true", "integer")]));
        assert_eq!(row(&t, &["doc"], json!({"doc": {"k": [1, null]}})), Some(vec![text(r#"{"k":[1,null]}"#, "jsonb")]));
        let nulls = Some(vec![(None, "integer".into()), (None, "jsonb".into())]);
        assert_eq!(row(&t, &["n", "doc"], json!({"n": null, "doc": null})), nulls);
        assert_eq!(row(&t, &["n", "doc"], json!({})), nulls, "a column named by columns= and not in the body");
    }

    #[test]
    fn what_only_the_record_reads_as_postgresql_does_keeps_the_record() {
        let t = relation(false);
        assert_eq!(row(&t, &["n"], json!({"n": [1]})), None, "an array into a scalar column");
        assert_eq!(row(&t, &["n"], json!({"n": {"a": 1}})), None, "an object into a scalar column");
        assert_eq!(row(&t, &["tags"], json!({"tags": ["a"]})), None, "an array column");
        assert_eq!(row(&t, &["n"], json!({"n": "1\u{0}"})), None, "a NUL, refused with other words");
        assert_eq!(row(&t, &["n"], json!({"n": 1, "doc": 2})), None, "a column the body names but does not write");
        assert_eq!(row(&relation(true), &["n"], json!({"n": 1})), None, "a domain column, even left out");
        assert_eq!(row(&t, &["n"], json!({"n": 1, "other": [1]})), Some(vec![text("1", "integer")]), "not a column");
    }
}
