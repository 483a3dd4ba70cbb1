//! hspec-wai's matching, as PostgREST's spec relies on it (`shouldRespondWith`): the status is
//! equal (when the spec checks it); each header matcher holds (`<:>` an exact value, `matchHeaderAbsent`,
//! `matchHeaderValuePresent` a substring); a `[json|...|]` body equals as a JSON value (object
//! keys in any order, array order significant, numbers by value); a string body equals byte for
//! byte.
use super::case::Expect;
use serde_json::Value;

/// What the server answered.
pub struct Answer {
    pub status: u16,
    /// Names lowercased, in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    fn values(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// `201 application/json; charset=utf-8 [{"id":1}]`: the answer in one line, for messages
    /// and the list of known differences (so without what changes every run).
    pub fn summary(&self) -> String {
        let content_type = self.values("content-type").first().copied().unwrap_or("-").to_string();
        let body = String::from_utf8_lossy(&self.body);
        let body = without_volatile(&body);
        let body: String = body.chars().take(160).collect();
        format!("{} {content_type} {}", self.status, body.replace('\n', " "))
    }
}

/// The body without the string members that change from run to run (our error bodies'
/// `requestId` and `timestamp`), so that the one-line answer is the same every run.
fn without_volatile(body: &str) -> String {
    let mut body = body.to_string();
    for key in ["\"requestId\":\"", "\"timestamp\":\""] {
        if let Some(start) = body.find(key) {
            let after = start + key.len();
            let end = body[after..].find('"').map(|e| after + e + 1).unwrap_or(body.len());
            // the member and one comma beside it
            let (start, end) = match (body[end..].starts_with(','), body[..start].ends_with(',')) {
                (true, _) => (start, end + 1),
                (false, true) => (start - 1, end),
                _ => (start, end),
            };
            body.replace_range(start..end, "");
        }
    }
    body
}

/// Every way `answer` differs from `expect`; empty when it matches.
pub fn mismatches(expect: &Expect, answer: &Answer) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(status) = expect.status.filter(|s| *s != answer.status) {
        found.push(format!("status {} instead of {status}", answer.status));
    }
    if expect.json_content_type {
        let json = ["application/json", "application/json; charset=utf-8"];
        if !answer.values("content-type").iter().any(|v| json.contains(v)) {
            found.push("no JSON Content-Type".into());
        }
    }
    for (name, value) in &expect.headers {
        let seen = answer.values(name);
        if !seen.contains(&value.as_str()) {
            found.push(format!("{name}: {seen:?} instead of {value:?}"));
        }
    }
    for name in &expect.absent {
        if !answer.values(name).is_empty() {
            found.push(format!("{name} present"));
        }
    }
    for (name, pattern) in &expect.matching {
        let pattern = regex::Regex::new(pattern).expect("the case's regular expression compiles");
        if !answer.values(name).iter().any(|v| pattern.is_match(v)) {
            found.push(format!("{name} does not match {pattern}"));
        }
    }
    for (name, part) in &expect.containing {
        if !answer.values(name).iter().any(|v| v.contains(part.as_str())) {
            found.push(format!("{name} lacks {part:?}"));
        }
    }
    if let Some(expected) = &expect.json {
        let expected: Value = serde_json::from_str(expected).expect("the case's json parses");
        match serde_json::from_slice::<Value>(&answer.body) {
            Ok(actual) if same_json(&expected, &actual) => {}
            Ok(actual) => found.push(json_difference(&expected, &actual)),
            Err(_) => found.push("body is not JSON".into()),
        }
    }
    if !expect.at.is_empty() || !expect.nothing_at.is_empty() || !expect.something_at.is_empty() {
        found.extend(pointer_mismatches(expect, &answer.body));
    }
    if let Some(expected) = &expect.text {
        if answer.body != expected.as_bytes() {
            found.push("body differs".into());
        }
    }
    found
}

/// The values the case expects at JSON pointers into the body, and the pointers that must hold
/// nothing, or something.
fn pointer_mismatches(expect: &Expect, body: &[u8]) -> Vec<String> {
    let Ok(actual) = serde_json::from_slice::<Value>(body) else {
        return vec!["body is not JSON".into()];
    };
    let mut found = Vec::new();
    for (pointer, expected) in &expect.at {
        let expected: Value = serde_json::from_str(expected).expect("the case's json parses");
        match actual.pointer(pointer) {
            Some(value) if same_json(&expected, value) => {}
            Some(_) => found.push(format!("{pointer} differs")),
            None => found.push(format!("nothing at {pointer}")),
        }
    }
    for pointer in &expect.nothing_at {
        if actual.pointer(pointer).is_some() {
            found.push(format!("something at {pointer}"));
        }
    }
    for pointer in &expect.something_at {
        if actual.pointer(pointer).is_none() {
            found.push(format!("nothing at {pointer}"));
        }
    }
    found
}

/// Which keys an object body adds, lacks or answers differently; for other bodies, that it differs.
fn json_difference(expected: &Value, actual: &Value) -> String {
    let (Value::Object(e), Value::Object(a)) = (expected, actual) else {
        return "body differs".into();
    };
    let adds: Vec<&str> = a.keys().filter(|k| !e.contains_key(*k)).map(|k| k.as_str()).collect();
    let lacks: Vec<&str> = e.keys().filter(|k| !a.contains_key(*k)).map(|k| k.as_str()).collect();
    let differs: Vec<&str> =
        e.iter().filter(|(k, v)| a.get(*k).is_some_and(|w| !same_json(v, w))).map(|(k, _)| k.as_str()).collect();
    let mut parts = Vec::new();
    for (what, keys) in [("adds", adds), ("lacks", lacks), ("differs at", differs)] {
        if !keys.is_empty() {
            parts.push(format!("{what} {}", keys.join(", ")));
        }
    }
    format!("body {}", parts.join("; "))
}

/// Aeson's `Value` equality: numbers compare by value (`1` equals `1.0`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
