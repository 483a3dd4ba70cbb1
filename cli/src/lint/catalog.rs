//! What the run knows about tables, gathered before any rule runs: what exists before it (a live
//! database's catalog), what applied migrations created, and what the whole run does (a table
//! protected in the last policy file is protected for a `CREATE TABLE` in the first migration).
use super::constraints;
use super::existing::Existing;
use super::names::QualifiedName;
use super::parse::ParsedFile;
use super::protect_call;
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
    /// Where a linted file creates it: from there on it is empty. `None`: it exists before the
    /// run (in the database, or created by an applied migration) and may hold rows.
    new_since: Option<Position>,
    columns: HashSet<String>,
    primary_key: Vec<String>,
}

#[derive(Default)]
pub struct Catalog {
    tables: HashMap<QualifiedName, Table>,
    protected: HashSet<QualifiedName>,
    /// Tables with analytics declarations, and the columns declared.
    analytics: HashMap<QualifiedName, HashSet<String>>,
    pub distributed_on_citus: bool,
}

impl Catalog {
    pub fn build(existing: &Existing, files: &[(Role, &ParsedFile)]) -> Self {
        let mut catalog = Catalog { distributed_on_citus: existing.distributed_on_citus, ..Catalog::default() };
        for table in &existing.tables {
            let known = Table {
                new_since: None,
                columns: table.columns.iter().cloned().collect(),
                primary_key: table.primary_key.clone(),
            };
            catalog.tables.insert(table.name.clone(), known);
            if table.protected {
                catalog.protected.insert(table.name.clone());
            }
            catalog.declare(&table.name, &table.analytics_columns);
        }
        for (file, (role, parsed)) in files.iter().enumerate() {
            for (statement, s) in parsed.statements.iter().enumerate() {
                let new_since = (*role != Role::Applied).then_some(Position { file, statement });
                catalog.learn(&s.node, new_since);
            }
        }
        catalog
    }

    fn declare(&mut self, table: &QualifiedName, columns: &[String]) {
        if !columns.is_empty() {
            self.analytics.entry(table.clone()).or_default().extend(columns.iter().cloned());
        }
    }

    fn learn(&mut self, statement: &NodeEnum, new_since: Option<Position>) {
        match statement {
            NodeEnum::CreateStmt(create) => {
                let Some(relation) = &create.relation else { return };
                let name = QualifiedName::of(relation);
                // IF NOT EXISTS on a table that exists leaves it (and its rows) as it was.
                if create.if_not_exists && self.tables.contains_key(&name) {
                    return;
                }
                let mut table = Table { new_since, columns: HashSet::new(), primary_key: vec![] };
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
                self.tables.insert(name, table);
            }
            NodeEnum::CreateTableAsStmt(create) => {
                let Some(relation) = create.into.as_ref().and_then(|i| i.rel.as_ref()) else { return };
                let columns = tree::strings(&create.into.as_ref().map(|i| i.col_names.clone()).unwrap_or_default());
                let table = Table { new_since, columns: columns.into_iter().collect(), primary_key: vec![] };
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
                for protect in tree::calls(statement).into_iter().filter_map(protect_call::read) {
                    self.declare(&protect.table, &protect.analytics_columns);
                    self.protected.insert(protect.table);
                }
            }
        }
    }

    pub fn is_protected(&self, table: &QualifiedName) -> bool {
        self.protected.contains(table)
    }

    /// A table whose rows belong to tenants: protected, or with a `tenant_id` column.
    pub fn is_tenant_table(&self, table: &QualifiedName) -> bool {
        self.is_protected(table) || self.tables.get(table).is_some_and(|t| t.columns.contains(TENANT_ID))
    }

    /// Created earlier in the linted part of the run: empty, so no lock on it can hurt.
    pub fn is_new(&self, table: &QualifiedName, at: Position) -> bool {
        self.tables.get(table).and_then(|t| t.new_since).is_some_and(|created| created < at)
    }

    pub fn primary_key(&self, table: &QualifiedName) -> Option<&[String]> {
        self.tables.get(table).map(|t| t.primary_key.as_slice()).filter(|k| !k.is_empty())
    }

    /// The columns analytics may read by class, if the table declares any (it is then exposed
    /// to `tenancy.aggregate`); declarations anywhere in the run or the database count.
    pub fn analytics_columns(&self, table: &QualifiedName) -> Option<&HashSet<String>> {
        self.analytics.get(table)
    }

    pub fn tenant_tables_in(&self, schema: &str) -> Vec<&QualifiedName> {
        let known = self.tables.keys().chain(&self.protected);
        let mut names: Vec<_> = known.filter(|t| t.schema == schema && self.is_tenant_table(t)).collect();
        names.sort_by(|a, b| a.name.cmp(&b.name));
        names.dedup();
        names
    }
}
