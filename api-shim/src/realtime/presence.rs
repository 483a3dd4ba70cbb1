//! Presence of one topic, in Phoenix's shape: `{key: {metas: [{phx_ref, ...meta}]}}` for the
//! state a joiner gets, `{joins, leaves}` of that shape for each change. One entry per socket:
//! tracking again replaces the socket's entry (a leave and a join in one diff).
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

struct Entry {
    conn: u64,
    phx_ref: String,
    meta: Value,
}

#[derive(Default)]
pub struct Presence {
    keys: BTreeMap<String, Vec<Entry>>,
}

static NEXT_REF: AtomicU64 = AtomicU64::new(1);

fn with_ref(entry: &Entry) -> Value {
    let mut meta = match &entry.meta {
        Value::Object(o) => o.clone(),
        other => Map::from_iter([("value".to_string(), other.clone())]),
    };
    meta.insert("phx_ref".into(), json!(entry.phx_ref));
    Value::Object(meta)
}

fn shape<'a>(entries: impl Iterator<Item = (&'a String, &'a Entry)>) -> Value {
    let mut out = Map::new();
    for (key, entry) in entries {
        let slot = out.entry(key.clone()).or_insert_with(|| json!({"metas": []}));
        slot["metas"].as_array_mut().expect("metas").push(with_ref(entry));
    }
    Value::Object(out)
}

impl Presence {
    pub fn state(&self) -> Value {
        shape(self.keys.iter().flat_map(|(k, entries)| entries.iter().map(move |e| (k, e))))
    }

    fn remove(&mut self, conn: u64) -> Option<(String, Entry)> {
        let (key, at) =
            self.keys.iter().find_map(|(k, v)| v.iter().position(|e| e.conn == conn).map(|i| (k.clone(), i)))?;
        let entries = self.keys.get_mut(&key).expect("found above");
        let entry = entries.remove(at);
        if entries.is_empty() {
            self.keys.remove(&key);
        }
        Some((key, entry))
    }

    pub fn track(&mut self, conn: u64, key: &str, meta: Value) -> Value {
        let left = self.remove(conn);
        let entry = Entry { conn, phx_ref: NEXT_REF.fetch_add(1, Ordering::Relaxed).to_string(), meta };
        let joins = shape(std::iter::once((&key.to_string(), &entry)));
        self.keys.entry(key.to_string()).or_default().push(entry);
        let leaves = left.as_ref().map_or(json!({}), |(k, e)| shape(std::iter::once((k, e))));
        json!({"joins": joins, "leaves": leaves})
    }

    /// The diff of the socket's leaving, if it had tracked anything.
    pub fn untrack(&mut self, conn: u64) -> Option<Value> {
        let (key, entry) = self.remove(conn)?;
        Some(json!({"joins": {}, "leaves": shape(std::iter::once((&key, &entry)))}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_retrack_and_untrack_give_phoenix_diffs() {
        let mut p = Presence::default();
        let first = p.track(1, "ann", json!({"online_at": 1}));
        assert_eq!(first["joins"]["ann"]["metas"][0]["online_at"], 1);
        assert_eq!(first["leaves"], json!({}));
        p.track(2, "bob", json!({"x": true}));
        let again = p.track(1, "ann", json!({"online_at": 2}));
        assert_eq!(again["leaves"]["ann"]["metas"][0]["online_at"], 1, "the old entry leaves");
        let state = p.state();
        assert_eq!(
            (state["ann"]["metas"].as_array().unwrap().len(), state["bob"]["metas"][0]["x"].clone()),
            (1, json!(true))
        );
        assert_eq!(p.untrack(2).unwrap()["leaves"]["bob"]["metas"][0]["x"], true);
        assert_eq!(p.untrack(2), None, "nothing tracked: no diff");
    }
}
