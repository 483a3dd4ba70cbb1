//! What a run applies: the migrations and policy files built into the binary, or read from
//! directories (`--migrations`, `--policies`) through the same path.
use crate::lint::{Existing, Role, Source};
use anyhow::Context;
use refinery::Migration;
use std::fs;
use std::path::Path;

mod embedded {
    refinery::embed_migrations!("../migrations");
}
include!(concat!(env!("OUT_DIR"), "/policies.rs"));

pub struct Scripts {
    /// In version order.
    pub migrations: Vec<Migration>,
    migrations_dir: String,
    /// (file name, SQL), in name order.
    pub policies: Vec<(String, String)>,
    policies_dir: String,
}

impl Scripts {
    pub fn load(migrations_dir: Option<&Path>, policies_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut migrations = match migrations_dir {
            Some(dir) => refinery::load_sql_migrations(dir)
                .with_context(|| format!("reading migrations from {}", dir.display()))?,
            None => embedded::migrations::runner().get_migrations().clone(),
        };
        migrations.sort();
        let policies = match policies_dir {
            Some(dir) => read_policies(dir)?,
            None => POLICIES.iter().map(|(name, sql)| (name.to_string(), sql.to_string())).collect(),
        };
        let shown = |dir: Option<&Path>, default: &str| dir.map_or(default.to_string(), |d| d.display().to_string());
        Ok(Scripts {
            migrations,
            migrations_dir: shown(migrations_dir, "migrations"),
            policies,
            policies_dir: shown(policies_dir, "policies"),
        })
    }

    /// The run as the linter sees it: migrations refinery's history lists, for context, then the
    /// pending ones and every policy file, which are linted.
    pub fn lint_sources(&self, existing: &Existing) -> Vec<Source> {
        let migrations = self.migrations.iter().map(|m| Source {
            name: format!("{}/{m}.sql", self.migrations_dir),
            text: m.sql().unwrap_or_default().to_string(),
            role: if existing.has_applied(m.version(), m.name()) { Role::Applied } else { Role::Migration },
        });
        let policies = self.policies.iter().map(|(name, sql)| Source {
            name: format!("{}/{name}", self.policies_dir),
            text: sql.clone(),
            role: Role::Policy,
        });
        migrations.chain(policies).collect()
    }
}

fn read_policies(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = vec![];
    for entry in fs::read_dir(dir).with_context(|| format!("reading policies from {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            let sql = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            files.push((path.file_name().unwrap_or_default().to_string_lossy().into_owned(), sql));
        }
    }
    files.sort();
    Ok(files)
}
