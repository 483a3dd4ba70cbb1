//! Module manifests: the shape checks that need no catalog (the catalog checks — known
//! plans, installed required modules — are in `sql/modules.sql`).
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{Map, Value};

const FIELDS: &[&str] = &[
    "key",
    "name",
    "description",
    "icon",
    "version",
    "platform",
    "requires",
    "tier",
    "permissions",
    "config",
    "features",
    "core",
    "sort_order",
];

fn is_key(s: &str) -> bool {
    let mut chars = s.chars();
    (1..=40).contains(&s.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_action(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
}

fn strings<'a>(m: &'a Map<String, Value>, field: &str, problems: &mut Vec<String>) -> Vec<&'a str> {
    match m.get(field) {
        None => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let s = v.as_str();
                if s.is_none() {
                    problems.push(format!("{field}[{i}]: must be a string"));
                }
                s
            })
            .collect(),
        Some(_) => {
            problems.push(format!("{field}: must be an array of strings"));
            vec![]
        }
    }
}

/// Every problem with `manifest`, each naming its field; empty when the shape is right.
pub fn problems(manifest: &Value, platform_version: &str, installed_version: Option<&str>) -> Vec<String> {
    let Some(m) = manifest.as_object() else {
        return vec!["manifest: must be a JSON object".into()];
    };
    let mut problems = vec![];
    for field in m.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        problems.push(format!("{field}: unknown field (known: {})", FIELDS.join(", ")));
    }
    let key = match m.get("key").map(|v| v.as_str()) {
        Some(Some(k)) if is_key(k) => k,
        Some(Some(k)) => {
            problems.push(format!("key: \"{k}\" must be 1-40 characters of a-z, 0-9 and _, starting with a letter"));
            k
        }
        _ => {
            problems.push("key: required string".into());
            ""
        }
    };
    match m.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => {}
        _ => problems.push("name: required non-empty string".into()),
    }
    for field in ["description", "icon", "tier"] {
        if m.get(field).is_some_and(|v| !v.is_string()) {
            problems.push(format!("{field}: must be a string"));
        }
    }
    match m.get("version").and_then(Value::as_str) {
        Some(v) => match (semver::Version::parse(v), installed_version.map(semver::Version::parse)) {
            (Err(e), _) => problems.push(format!("version: \"{v}\" is not a semantic version MAJOR.MINOR.PATCH ({e})")),
            (Ok(new), Some(Ok(old))) if new < old => {
                problems.push(format!("version: {new} is older than the installed {old}"))
            }
            _ => {}
        },
        None => problems.push("version: required string (semantic version, e.g. \"1.0.0\")".into()),
    }
    match m.get("platform").and_then(Value::as_str) {
        Some(req) => match semver::VersionReq::parse(req) {
            Ok(r) => {
                let platform = semver::Version::parse(platform_version).expect("the extension's own version is semver");
                if !r.matches(&platform) {
                    problems.push(format!("platform: requires tenancy {req}, but this is tenancy {platform_version}"));
                }
            }
            Err(e) => {
                problems.push(format!("platform: \"{req}\" is not a version requirement such as \">=0.1, <1\" ({e})"))
            }
        },
        None => problems.push("platform: required string (the tenancy versions it runs on, e.g. \">=0.1\")".into()),
    }
    for (i, r) in strings(m, "requires", &mut problems).into_iter().enumerate() {
        if !is_key(r) {
            problems.push(format!("requires[{i}]: \"{r}\" is not a module key"));
        } else if r == key {
            problems.push(format!("requires[{i}]: a module cannot require itself"));
        }
    }
    for (i, p) in strings(m, "permissions", &mut problems).into_iter().enumerate() {
        match p.split_once(':') {
            Some((prefix, action)) if prefix == key && is_action(action) => {}
            _ => {
                problems.push(format!("permissions[{i}]: \"{p}\" must be \"{key}:<action>\" (action: a-z, 0-9, _ . -)"))
            }
        }
    }
    if m.get("config").is_some_and(|v| !v.is_object()) {
        problems.push("config: must be an object of default settings".into());
    }
    match m.get("features") {
        None => {}
        Some(Value::Object(f)) => {
            for (name, default) in f {
                if !is_key(name) {
                    problems.push(format!("features.{name}: feature names are a-z, 0-9 and _, starting with a letter"));
                }
                if !default.is_boolean() {
                    problems.push(format!("features.{name}: the default must be true or false"));
                }
            }
        }
        Some(_) => problems.push("features: must be an object of feature name -> default (true/false)".into()),
    }
    if m.get("core").is_some_and(|v| !v.is_boolean()) {
        problems.push("core: must be true or false".into());
    }
    if m.get("sort_order").is_some_and(|v| !v.is_i64()) {
        problems.push("sort_order: must be an integer".into());
    }
    problems
}

#[pg_extern(name = "_manifest_problems", immutable, parallel_safe)]
fn manifest_problems(manifest: Option<JsonB>, platform_version: &str, installed_version: Option<&str>) -> Vec<String> {
    problems(&manifest.map_or(Value::Null, |m| m.0), platform_version, installed_version)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::problems;
    use pgrx::prelude::*;
    use serde_json::json;

    fn valid() -> serde_json::Value {
        json!({"key": "payroll", "name": "Payroll", "version": "1.2.0", "platform": ">=0.1",
               "requires": ["hrms"], "tier": "standard", "permissions": ["payroll:read", "payroll:run"],
               "config": {"currency": "USD"}, "features": {"bonuses": false}})
    }

    #[pg_test]
    fn a_valid_manifest_has_no_problems() {
        assert_eq!(problems(&valid(), "0.1.0", None), Vec::<String>::new());
    }

    #[pg_test]
    fn each_problem_names_its_field() {
        let mut m = valid();
        m["version"] = json!("1.2");
        m["permissions"] = json!(["hrms:read", "payroll:"]);
        m["requires"] = json!(["payroll"]);
        m["platform"] = json!(">=2");
        m["colour"] = json!("red");
        let p = problems(&m, "0.1.0", None);
        let starts = |prefix: &str| p.iter().any(|s| s.starts_with(prefix));
        assert!(starts("version: \"1.2\""), "{p:?}");
        assert!(starts("permissions[0]: \"hrms:read\""), "{p:?}");
        assert!(starts("permissions[1]"), "{p:?}");
        assert!(starts("requires[0]: a module cannot require itself"), "{p:?}");
        assert!(starts("platform: requires tenancy >=2"), "{p:?}");
        assert!(starts("colour: unknown field"), "{p:?}");
        assert_eq!(p.len(), 6, "{p:?}");
    }

    #[pg_test]
    fn missing_required_fields_are_listed() {
        let p = problems(&json!({}), "0.1.0", None);
        for field in ["key:", "name:", "version:", "platform:"] {
            assert!(p.iter().any(|s| s.starts_with(field)), "{field} missing from {p:?}");
        }
        assert_eq!(problems(&json!([1]), "0.1.0", None), vec!["manifest: must be a JSON object".to_string()]);
    }

    #[pg_test]
    fn an_upgrade_cannot_go_back_in_version() {
        let p = problems(&valid(), "0.1.0", Some("2.0.0"));
        assert_eq!(p, vec!["version: 1.2.0 is older than the installed 2.0.0".to_string()]);
        assert!(problems(&valid(), "0.1.0", Some("1.2.0")).is_empty());
    }
}
