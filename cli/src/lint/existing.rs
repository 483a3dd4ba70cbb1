//! What exists before the run: the application's tables (columns, primary key, whether they are
//! protected, which columns have an analytics class) and the migrations refinery has applied.
//! Read from a live database by `live.rs`; offline it is empty, and the `--applied` files tell
//! the same things through their statements.
use super::names::QualifiedName;
use std::collections::HashSet;

pub struct ExistingTable {
    pub name: QualifiedName,
    pub columns: Vec<String>,
    pub primary_key: Vec<String>,
    pub protected: bool,
    /// Columns declared to analytics (`tenancy.analytics_columns`); none: not exposed.
    pub analytics_columns: Vec<String>,
}

#[derive(Default)]
pub struct Existing {
    pub tables: Vec<ExistingTable>,
    /// (version, name) of every migration in refinery's history.
    pub applied_migrations: HashSet<(u32, String)>,
    /// A Citus cluster `tenancy distribute` has spread: migrations run there with Citus's DDL
    /// propagation, one worker connection per role.
    pub distributed_on_citus: bool,
}

impl Existing {
    /// Whether the migration `V<version>__<name>` has run (refinery names a migration by both).
    pub fn has_applied(&self, version: u32, name: &str) -> bool {
        self.applied_migrations.contains(&(version, name.to_string()))
    }
}
