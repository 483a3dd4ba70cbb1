//! What the whole run does to tables, gathered before any rule runs: a table protected in the
//! last policy file is protected for a `CREATE TABLE` in the first migration.
use super::constraints;
use super::names::QualifiedName;
use super::parse::ParsedFile;
use super::tree;
use super::Role;
use pg_query::protobuf::{AlterTableType, ConstrType};
use pg_query::NodeEnum;
use std::collections::{HashMap, HashSet};

pub const TENANT_ID: &str = "tenant_id";

/// A statement's place in the run: files in order, statements in order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Position {
    pub file: usize,
    pub statement: usize,
}

struct Table {
    created: Position,
    /// Created by a file being linted, not by an applied migration: it holds no rows yet.
    new: bool,
    columns: HashSet<String>,
    primary_key: Vec<String>,
}

#[derive(Default)]
pub struct Catalog {
    tables: HashMap<QualifiedName, Table>,
    protected: HashSet<QualifiedName>,
}

impl Catalog {
    pub fn build(files: &[(Role, &ParsedFile)]) -> Self {
        let mut catalog = Catalog::default();
        for (file, (role, parsed)) in files.iter().enumerate() {
            for (statement, s) in parsed.statements.iter().enumerate() {
                catalog.learn(&s.node, Position { file, statement }, *role != Role::Applied);
            }
        }
        catalog
    }

    fn learn(&mut self, statement: &NodeEnum, at: Position, new: bool) {
        match statement {
            NodeEnum::CreateStmt(create) => {
                let Some(relation) = &create.relation else { return };
                let mut table = Table { created: at, new, columns: HashSet::new(), primary_key: vec![] };
                // A partition or child table has its parent's columns.
                for parent in &create.inh_relations {
                    if let Some(NodeEnum::RangeVar(parent)) = &parent.node {
                        if let Some(p) = self.tables.get(&QualifiedName::of(parent)) {
                            table.columns.extend(p.columns.iter().cloned());
                        }
                    }
                }
                table.columns.extend(constraints::columns(create).map(|c| c.colname.clone()));
                table.primary_key = constraints::of_statement(statement)
                    .into_iter()
                    .find(|c| c.constraint.contype() == ConstrType::ConstrPrimary)
                    .map(|c| c.columns)
                    .unwrap_or_default();
                self.tables.insert(QualifiedName::of(relation), table);
            }
            NodeEnum::CreateTableAsStmt(create) => {
                let Some(relation) = create.into.as_ref().and_then(|i| i.rel.as_ref()) else { return };
                let columns = tree::strings(&create.into.as_ref().map(|i| i.col_names.clone()).unwrap_or_default());
                let table = Table { created: at, new, columns: columns.into_iter().collect(), primary_key: vec![] };
                self.tables.insert(QualifiedName::of(relation), table);
            }
            NodeEnum::AlterTableStmt(_) => {
                let Some((relation, commands)) = tree::alter_table(statement) else { return };
                let Some(table) = self.tables.get_mut(&QualifiedName::of(relation)) else { return };
                for (kind, command) in commands {
                    if let (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(c))) =
                        (kind, command.def.as_ref().and_then(|d| d.node.as_ref()))
                    {
                        table.columns.insert(c.colname.clone());
                    }
                }
            }
            _ => {
                for call in tree::calls(statement) {
                    if tree::function_name(call, "tenancy").as_deref() == Some("protect") {
                        if let Some(name) = call.args.first().and_then(tree::string_literal) {
                            self.protected.extend(QualifiedName::from_regclass_text(name));
                        }
                    }
                }
            }
        }
    }

    pub fn is_protected(&self, table: &QualifiedName) -> bool {
        self.protected.contains(table)
    }

    /// A table whose rows belong to tenants: protected in this run, or with a `tenant_id` column.
    pub fn is_tenant_table(&self, table: &QualifiedName) -> bool {
        self.is_protected(table) || self.tables.get(table).is_some_and(|t| t.columns.contains(TENANT_ID))
    }

    /// Created earlier in the linted part of the run: empty, so no lock on it can hurt.
    pub fn is_new(&self, table: &QualifiedName, at: Position) -> bool {
        self.tables.get(table).is_some_and(|t| t.new && t.created < at)
    }

    pub fn primary_key(&self, table: &QualifiedName) -> Option<&[String]> {
        self.tables.get(table).map(|t| t.primary_key.as_slice()).filter(|k| !k.is_empty())
    }

    pub fn tenant_tables_in(&self, schema: &str) -> Vec<&QualifiedName> {
        let known = self.tables.keys().chain(&self.protected);
        let mut names: Vec<_> = known.filter(|t| t.schema == schema && self.is_tenant_table(t)).collect();
        names.sort_by(|a, b| a.name.cmp(&b.name));
        names.dedup();
        names
    }
}
