//! The constraints a statement declares, each with its table and the columns it covers, whether
//! written in `CREATE TABLE` (table or column constraints) or added by `ALTER TABLE`.
use super::names::QualifiedName;
use super::tree;
use pg_query::protobuf::{AlterTableType, ColumnDef, ConstrType, Constraint, CreateStmt};
use pg_query::{Node, NodeEnum};

pub struct TableConstraint<'a> {
    pub table: QualifiedName,
    /// The key's columns; for a foreign key, the referencing ones.
    pub columns: Vec<String>,
    pub constraint: &'a Constraint,
    /// Added by `ALTER TABLE ... ADD CONSTRAINT` (validated against existing rows), not declared with the table.
    pub added_to_table: bool,
}

pub fn columns(create: &CreateStmt) -> impl Iterator<Item = &ColumnDef> {
    create.table_elts.iter().filter_map(|n| match &n.node {
        Some(NodeEnum::ColumnDef(c)) => Some(c.as_ref()),
        _ => None,
    })
}

fn constraint(node: &Node) -> Option<&Constraint> {
    match &node.node {
        Some(NodeEnum::Constraint(c)) => Some(c),
        _ => None,
    }
}

fn key_columns(constraint: &Constraint) -> Vec<String> {
    match constraint.contype() {
        ConstrType::ConstrForeign => tree::strings(&constraint.fk_attrs),
        _ => tree::strings(&constraint.keys),
    }
}

/// A column's own constraints (`id uuid PRIMARY KEY REFERENCES ...`) cover that column.
fn column_constraints(column: &ColumnDef) -> impl Iterator<Item = (Vec<String>, &Constraint)> {
    column.constraints.iter().filter_map(constraint).map(|c| (vec![column.colname.clone()], c))
}

pub fn of_statement(statement: &NodeEnum) -> Vec<TableConstraint<'_>> {
    let declared: Vec<(Vec<String>, &Constraint)>;
    let (table, added_to_table) = match statement {
        NodeEnum::CreateStmt(create) => {
            let Some(relation) = &create.relation else { return vec![] };
            let of_table = create.table_elts.iter().filter_map(constraint).map(|c| (key_columns(c), c));
            declared = of_table.chain(columns(create).flat_map(column_constraints)).collect();
            (QualifiedName::of(relation), false)
        }
        NodeEnum::AlterTableStmt(_) => {
            let Some((relation, commands)) = tree::alter_table(statement) else { return vec![] };
            declared = commands
                .into_iter()
                .flat_map(|(kind, command)| match (kind, command.def.as_ref().and_then(|d| d.node.as_ref())) {
                    (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(c))) => {
                        vec![(key_columns(c), c.as_ref())]
                    }
                    (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(column))) => {
                        column_constraints(column).collect()
                    }
                    _ => vec![],
                })
                .collect();
            (QualifiedName::of(relation), true)
        }
        _ => return vec![],
    };
    declared
        .into_iter()
        .map(|(columns, constraint)| TableConstraint { table: table.clone(), columns, constraint, added_to_table })
        .collect()
}
