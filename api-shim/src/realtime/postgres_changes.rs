//! A join's `postgres_changes` config: `{event, schema, table, filter}` items, the filter in
//! realtime's grammar `column=op.value` (`eq`, `neq`, `lt`, `lte`, `gt`, `gte`, `in.(a,b)`),
//! and how a filter is evaluated on a change's row. Numbers compare as numbers, everything
//! else as its text (timestamps in PostgreSQL's ISO output sort as text); NULL matches nothing.
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChangeKind {
    Insert,
    Update,
    Delete,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Update => "UPDATE",
            ChangeKind::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: String,
    pub op: Op,
    pub values: Vec<String>,
}

/// One accepted item of the config: what the client asked (echoed in the join reply, which
/// realtime-js compares with what it sent), and the published tables it covers.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: u32,
    /// None: every event (`*`).
    pub event: Option<ChangeKind>,
    pub schema: String,
    pub table: Option<String>,
    pub filter_text: Option<String>,
    pub filter: Option<Filter>,
    /// The tables the subscriber may read that the request covers, with the columns the
    /// subscriber's role may read in each (what a change shows of the row).
    pub tables: Vec<ReadableTable>,
}

#[derive(Debug, Clone)]
pub struct ReadableTable {
    pub schema: String,
    pub table: String,
    pub columns: Vec<String>,
    /// The module the table belongs to (none: not a module's table).
    pub module: Option<String>,
}

impl Subscription {
    pub fn reply(&self) -> Value {
        let event = self.event.map_or("*", ChangeKind::name);
        let mut r = json!({"id": self.id, "event": event, "schema": self.schema});
        if let Some(t) = &self.table {
            r["table"] = json!(t);
        }
        if let Some(f) = &self.filter_text {
            r["filter"] = json!(f);
        }
        r
    }

    pub fn covers(&self, schema: &str, table: &str, kind: ChangeKind) -> Option<&ReadableTable> {
        if self.event.is_some_and(|e| e != kind) {
            return None;
        }
        self.tables.iter().find(|t| t.schema == schema && t.table == table)
    }
}

/// What the client asked for in one config item, checked for form only.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub event: Option<ChangeKind>,
    pub schema: String,
    pub table: Option<String>,
    pub filter_text: Option<String>,
    pub filter: Option<Filter>,
}

impl Request {
    /// The one table the request names (`*` or none: every published table of the schema).
    pub fn named_table(&self) -> Option<&str> {
        self.table.as_deref().filter(|t| *t != "*")
    }
}

/// The config's `postgres_changes` list (absent: none).
pub fn requests(config: &Value) -> Result<Vec<Request>, String> {
    match config.get("postgres_changes") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(request).collect(),
        Some(_) => Err("postgres_changes must be a list".into()),
    }
}

fn text<'a>(item: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("postgres_changes: {key} must be a string")),
    }
}

fn request(item: &Value) -> Result<Request, String> {
    let event = match text(item, "event")? {
        Some("*") => None,
        Some("INSERT") => Some(ChangeKind::Insert),
        Some("UPDATE") => Some(ChangeKind::Update),
        Some("DELETE") => Some(ChangeKind::Delete),
        other => return Err(format!("postgres_changes: event must be *, INSERT, UPDATE or DELETE, not {other:?}")),
    };
    let schema = text(item, "schema")?.ok_or("postgres_changes: schema is required")?.to_string();
    let table = text(item, "table")?.map(str::to_string);
    let filter_text = text(item, "filter")?.map(str::to_string);
    let filter = filter_text.as_deref().map(parse_filter).transpose()?;
    Ok(Request { event, schema, table, filter_text, filter })
}

pub fn parse_filter(text: &str) -> Result<Filter, String> {
    let bad = || format!("postgres_changes: filter \"{text}\" is not column=op.value (eq, neq, lt, lte, gt, gte, in)");
    let (column, rest) = text.split_once('=').ok_or_else(bad)?;
    let (op, value) = rest.split_once('.').ok_or_else(bad)?;
    let op = match op {
        "eq" => Op::Eq,
        "neq" => Op::Neq,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "in" => Op::In,
        _ => return Err(bad()),
    };
    let values = match op {
        Op::In => {
            let inner = value.strip_prefix('(').and_then(|v| v.strip_suffix(')')).ok_or_else(bad)?;
            inner.split(',').map(|v| v.trim().trim_matches('"').to_string()).collect()
        }
        _ => vec![value.to_string()],
    };
    if column.is_empty() || values.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(Filter { column: column.to_string(), op, values })
}

fn compare(cell: &Value, value: &str) -> Option<std::cmp::Ordering> {
    match cell {
        Value::Null => None,
        Value::Number(n) => n.as_f64()?.partial_cmp(&value.parse::<f64>().ok()?),
        Value::String(s) => Some(s.as_str().cmp(value)),
        other => Some(other.to_string().as_str().cmp(value)),
    }
}

impl Filter {
    pub fn matches(&self, row: &Map<String, Value>) -> bool {
        use std::cmp::Ordering::*;
        let Some(cell) = row.get(&self.column) else { return false };
        let first = || compare(cell, &self.values[0]);
        match self.op {
            Op::Eq => first() == Some(Equal),
            Op::Neq => matches!(first(), Some(Less | Greater)),
            Op::Lt => first() == Some(Less),
            Op::Lte => matches!(first(), Some(Less | Equal)),
            Op::Gt => first() == Some(Greater),
            Op::Gte => matches!(first(), Some(Greater | Equal)),
            Op::In => self.values.iter().any(|v| compare(cell, v) == Some(Equal)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn filters_compare_numbers_as_numbers_and_the_rest_as_text() {
        let r = row(json!({"id": 10, "body": "hi", "gone": null, "ok": true}));
        for (f, expected) in [
            ("id=eq.10", true),
            ("id=eq.10.0", true),
            ("id=neq.10", false),
            ("id=lt.9", false),
            ("id=gt.9", true),
            ("id=gte.10", true),
            ("id=lte.2", false),
            ("id=in.(1,10,3)", true),
            ("body=eq.hi", true),
            ("body=in.(\"a\",\"hi\")", true),
            ("gone=eq.null", false),
            ("gone=neq.x", false),
            ("missing=eq.1", false),
            ("ok=eq.true", true),
        ] {
            assert_eq!(parse_filter(f).unwrap().matches(&r), expected, "{f}");
        }
    }

    #[test]
    fn bad_configs_are_refused_with_a_reason() {
        for f in ["id", "id=like.x", "id=eq", "=eq.1", "id=in.1,2", "id=eq."] {
            assert!(parse_filter(f).is_err(), "{f}");
        }
        for config in [
            json!({"postgres_changes": {}}),
            json!({"postgres_changes": [{"event": "TRUNCATE", "schema": "chat"}]}),
            json!({"postgres_changes": [{"event": "*"}]}),
            json!({"postgres_changes": [{"event": "*", "schema": 1}]}),
        ] {
            assert!(requests(&config).is_err(), "{config}");
        }
        let ok = requests(&json!({"postgres_changes": [{"event": "*", "schema": "chat", "table": "*"}]})).unwrap();
        assert_eq!((ok[0].event, ok[0].named_table()), (None, None));
    }
}
