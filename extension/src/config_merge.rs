//! Three-level configuration: module defaults, then the tenant's, then the company's.
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

/// `overlay` merged into `base`: objects merge key by key, recursively; anything else in
/// `overlay` (scalars, arrays, explicit nulls) replaces what `base` had.
pub fn deep_merge(base: Value, overlay: Value) -> Value {
    match (base, overlay) {
        (Value::Object(mut base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                let merged = match base.remove(&key) {
                    Some(old) => deep_merge(old, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Object(base)
        }
        (_, overlay) => overlay,
    }
}

/// `tenancy.merge_config(base, overlay)`: the deep merge used to resolve module configuration.
#[pg_extern(immutable, parallel_safe)]
fn merge_config(base: Option<JsonB>, overlay: Option<JsonB>) -> JsonB {
    let empty = || Value::Object(Default::default());
    JsonB(deep_merge(base.map_or_else(empty, |j| j.0), overlay.map_or_else(empty, |j| j.0)))
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::deep_merge;
    use pgrx::prelude::*;
    use serde_json::json;

    #[pg_test]
    fn merges_three_levels_as_in_the_design() {
        let defaults = json!({"currency": "USD", "tax_rate": 0, "invoice_prefix": "INV", "payment_terms_days": 30});
        let tenant = json!({"currency": "EUR", "tax_rate": 0.20, "invoice_prefix": "ACME"});
        let company = json!({"tax_rate": 0.19, "invoice_prefix": "ACME-DE"});
        assert_eq!(
            deep_merge(deep_merge(defaults, tenant), company),
            json!({"currency": "EUR", "tax_rate": 0.19, "invoice_prefix": "ACME-DE", "payment_terms_days": 30})
        );
    }

    #[pg_test]
    fn nested_objects_merge_and_arrays_replace() {
        let base = json!({"mail": {"from": "a@x", "smtp": {"port": 25, "tls": false}}, "tags": [1, 2]});
        let over = json!({"mail": {"smtp": {"tls": true}}, "tags": [3]});
        assert_eq!(
            deep_merge(base, over),
            json!({"mail": {"from": "a@x", "smtp": {"port": 25, "tls": true}}, "tags": [3]})
        );
    }

    #[pg_test]
    fn sql_function_treats_null_as_empty() {
        let merged =
            Spi::get_one::<pgrx::JsonB>(r#"SELECT tenancy.merge_config(NULL, '{"a": {"b": 1}}')"#).unwrap().unwrap();
        assert_eq!(merged.0, json!({"a": {"b": 1}}));
    }
}
