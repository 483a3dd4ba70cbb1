//! A `tenancy.protect('schema.table', 'module', analytics => '{"col": "dimension", ...}')` call as
//! the linter reads it: the table it protects and the columns it gives an analytics class.
use super::names::QualifiedName;
use super::tree;
use pg_query::protobuf::FuncCall;
use pg_query::{Node, NodeEnum};

pub struct ProtectCall {
    pub table: QualifiedName,
    /// The keys of the `analytics` object: declared columns, whatever their class.
    pub analytics_columns: Vec<String>,
}

/// `analytics => '...'`, or the third argument, where the signature puts it.
fn analytics_argument(call: &FuncCall) -> Option<&Node> {
    let named = call.args.iter().find_map(|a| match &a.node {
        Some(NodeEnum::NamedArgExpr(named)) if named.name == "analytics" => named.arg.as_deref(),
        _ => None,
    });
    named.or_else(|| call.args.get(2).filter(|a| !matches!(a.node, Some(NodeEnum::NamedArgExpr(_)))))
}

/// The keys of a JSON object literal. Anything else declares nothing: the extension refuses it
/// when the policies run, so the table is no more exposed than before.
fn object_keys(json: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json)
        .map(|object| object.into_iter().map(|(key, _)| key).collect())
        .unwrap_or_default()
}

pub fn read(call: &FuncCall) -> Option<ProtectCall> {
    if tree::function_name(call, "tenancy").as_deref() != Some("protect") {
        return None;
    }
    let table = QualifiedName::from_regclass_text(call.args.first().and_then(tree::string_literal)?)?;
    let analytics_columns =
        analytics_argument(call).and_then(tree::string_literal).map(object_keys).unwrap_or_default();
    Some(ProtectCall { table, analytics_columns })
}

#[cfg(test)]
mod tests {
    use super::read;
    use crate::lint::tree;

    fn call(sql: &str) -> Option<(String, Vec<String>)> {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap();
        let statement = parsed.protobuf.stmts[0].stmt.as_ref().unwrap().node.as_ref().unwrap();
        let call = tree::calls(statement).into_iter().next()?;
        read(call).map(|p| (p.table.to_string(), p.analytics_columns))
    }

    #[test]
    fn reads_the_table_and_the_analytics_keys_named_or_third() {
        let declared = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            call(
                r#"SELECT tenancy.protect('HR.Staff', 'hr', analytics => '{"grade": "dimension", "pay": {"class": "measure"}}'::jsonb)"#
            ),
            Some(("hr.staff".into(), declared(&["grade", "pay"])))
        );
        assert_eq!(
            call(r#"SELECT tenancy.protect('hr.staff', 'hr', $${"grade": "dimension"}$$)"#),
            Some(("hr.staff".into(), declared(&["grade"])))
        );
        assert_eq!(call("SELECT tenancy.protect('hr.staff', 'hr')"), Some(("hr.staff".into(), vec![])));
        assert_eq!(call("SELECT tenancy.protect('hr.staff', 'hr', analytics => 'not json')").unwrap().1, declared(&[]));
        assert_eq!(call("SELECT other.protect('hr.staff')"), None);
    }
}
