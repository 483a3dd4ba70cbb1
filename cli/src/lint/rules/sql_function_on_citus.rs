//! A `LANGUAGE sql` function over a tenant table, on a Citus cluster `tenancy distribute` has
//! spread. Citus cannot plan a query over a distributed table inside a SQL function ("could not
//! create distributed plan ... parameters in SQL functions, which is not supported in Citus"):
//! on the cluster, sign-out was a 500 and an RPC over employees answered nothing. One node takes
//! it, so it is checked only against a distributed database.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "sql-function-on-citus",
        severity: Severity::Error,
        summary: "a LANGUAGE sql function reading or writing a tenant table, on a distributed Citus cluster",
        hint: "Citus cannot plan a query over a distributed table inside a SQL function: write it in PL/pgSQL \
               (RETURN QUERY SELECT ...), which hands Citus the values",
    },
    check,
};

/// The tables a function's SQL body names (`AS '...'`, or `BEGIN ATOMIC ... END`).
fn tables_of_body(function: &pg_query::protobuf::CreateFunctionStmt) -> Vec<QualifiedName> {
    let quoted = tree::def_elems(&function.options).find(|o| o.defname == "as").and_then(|o| {
        match o.arg.as_deref()?.node.as_ref()? {
            NodeEnum::List(list) => tree::strings(&list.items).into_iter().next(),
            _ => None,
        }
    });
    let statements: Vec<NodeEnum> = match quoted {
        Some(text) => match pg_query::parse(&text, pg_query::ParserOptions::DEFAULT) {
            Ok(parsed) => parsed.protobuf.stmts.into_iter().filter_map(|s| s.stmt?.node).collect(),
            Err(_) => vec![],
        },
        None => function.sql_body.as_deref().and_then(|b| b.node.clone()).into_iter().collect(),
    };
    statements.iter().flat_map(tree::relations).map(QualifiedName::of).collect()
}

fn check(context: &Context, out: &mut Vec<Violation>) {
    let NodeEnum::CreateFunctionStmt(function) = context.statement else { return };
    let in_sql = tree::def_elems(&function.options).any(|o| {
        o.defname == "language"
            && matches!(o.arg.as_deref().and_then(|a| a.node.as_ref()), Some(NodeEnum::String(s)) if s.sval == "sql")
    });
    if !context.catalog.distributed_on_citus || !in_sql {
        return;
    }
    if let Some(table) = tables_of_body(function).into_iter().find(|t| context.catalog.is_tenant_table(t)) {
        let name = tree::strings(&function.funcname).join(".");
        out.push(Violation::at_statement(format!(
            "function {name} is LANGUAGE sql over the tenant table {table}: Citus cannot plan it"
        )));
    }
}
