//! Small readers over pg_query's protobuf nodes, so rules say what they look for, not how to dig.
use pg_query::protobuf::{a_const, AlterTableCmd, AlterTableType, DefElem, FuncCall, RangeVar, VariableSetKind};
use pg_query::{Node, NodeEnum, NodeRef};

/// The names in a list of `String` nodes (column lists, qualified names).
pub fn strings(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// The value of a string literal, also through a cast (`'hrms.employees'::regclass`).
pub fn string_literal(node: &Node) -> Option<&str> {
    match node.node.as_ref()? {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            a_const::Val::Sval(s) => Some(&s.sval),
            _ => None,
        },
        NodeEnum::TypeCast(cast) => string_literal(cast.arg.as_deref()?),
        _ => None,
    }
}

/// `DefElem` options (`WITH (...)`, role and function options) among other nodes.
pub fn def_elems(nodes: &[Node]) -> impl Iterator<Item = &DefElem> {
    nodes.iter().filter_map(|n| match &n.node {
        Some(NodeEnum::DefElem(d)) => Some(d.as_ref()),
        _ => None,
    })
}

/// Whether an option is switched on: `WITH (security_invoker)`, `= true`, `= on`, `= 1`, `BYPASSRLS`.
pub fn is_on(option: &DefElem) -> bool {
    let Some(arg) = option.arg.as_deref().and_then(|a| a.node.as_ref()) else { return true };
    match arg {
        NodeEnum::Boolean(b) => b.boolval,
        NodeEnum::Integer(i) => i.ival != 0,
        NodeEnum::String(s) => matches!(s.sval.to_lowercase().as_str(), "true" | "on" | "yes" | "1"),
        _ => false,
    }
}

/// Every function call and table reference pg_query's walker finds in a statement
/// (select lists, joins, subqueries, CTEs; not the bodies of functions or DO blocks, which are strings).
pub fn calls(statement: &NodeEnum) -> Vec<&FuncCall> {
    statement
        .nodes()
        .into_iter()
        .filter_map(|(node, ..)| match node {
            NodeRef::FuncCall(call) => Some(call),
            _ => None,
        })
        .collect()
}

pub fn relations(statement: &NodeEnum) -> Vec<&RangeVar> {
    statement
        .nodes()
        .into_iter()
        .filter_map(|(node, ..)| match node {
            NodeRef::RangeVar(relation) => Some(relation),
            _ => None,
        })
        .collect()
}

/// A call's name without its schema, if it is `schema.name` with the given schema or unqualified.
pub fn function_name(call: &FuncCall, schema: &str) -> Option<String> {
    match strings(&call.funcname).as_slice() {
        [s, name] if s == schema => Some(name.clone()),
        [name] => Some(name.clone()),
        _ => None,
    }
}

/// The table and subcommands of an `ALTER TABLE`.
pub fn alter_table(statement: &NodeEnum) -> Option<(&RangeVar, Vec<(AlterTableType, &AlterTableCmd)>)> {
    let NodeEnum::AlterTableStmt(alter) = statement else { return None };
    let commands = alter
        .cmds
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::AlterTableCmd(cmd)) => Some((cmd.subtype(), cmd.as_ref())),
            _ => None,
        })
        .collect();
    Some((alter.relation.as_ref()?, commands))
}

/// What a `SET [LOCAL] ROLE` or `RESET ROLE` statement does to the current role.
#[derive(Debug, PartialEq)]
pub enum RoleChange<'a> {
    To(&'a str),
    /// Back to the session's role: `RESET ROLE`, `SET ROLE NONE`, `SET ROLE DEFAULT`.
    Back,
}

pub fn role_change(statement: &NodeEnum) -> Option<RoleChange<'_>> {
    let NodeEnum::VariableSetStmt(set) = statement else { return None };
    if set.name != "role" {
        return None;
    }
    match set.args.first().and_then(string_literal) {
        Some(role) if set.kind() == VariableSetKind::VarSetValue && role != "none" => Some(RoleChange::To(role)),
        _ => Some(RoleChange::Back),
    }
}
