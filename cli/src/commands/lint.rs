//! `tenancy lint [--applied PATH]... [FILES...]`: the linter over files, or over the migrations
//! and policies built into the binary, knowing what already exists: with a database
//! (`--database-url` / `DATABASE_URL`) from its catalog and refinery's history, offline from the
//! `--applied` files. Exit 0 when clean (warnings allowed), 1 on any error, 2 when a file cannot
//! be read, a directory holds no .sql file or the database cannot be read.
use super::migrate::Scripts;
use crate::connection;
use crate::lint::{self, report, Existing, Report, Role, Source};
use anyhow::Context;
use refinery::Migration;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One line per finding and its hint.
    Text,
    /// One JSON object: counts and findings.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

#[derive(clap::Args)]
pub struct LintArgs {
    /// SQL files, or directories (their *.sql files in name order), linted as one run in the
    /// order given; files in a directory named `policies` may change RLS policies. Without
    /// any: the migrations and policies built into this binary.
    #[arg(value_name = "FILES")]
    files: Vec<PathBuf>,
    /// Files or directories that have already run (repeatable): read first, for the tables they
    /// create and protect (existing, so lock rules apply to them), and not reported on. For CI
    /// without a database; with one, its catalog and refinery's history say this.
    #[arg(long, value_name = "PATH", requires = "files")]
    applied: Vec<PathBuf>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

fn role_of(path: &Path) -> Role {
    let in_policies = path.parent().and_then(Path::file_name).is_some_and(|d| d == "policies");
    if in_policies {
        Role::Policy
    } else {
        Role::Migration
    }
}

/// A file refinery's history lists (same version and name): it has run, so it is not reported on.
fn is_applied_migration(path: &Path, existing: &Existing) -> bool {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    Migration::unapplied(stem, "").is_ok_and(|m| existing.has_applied(m.version(), m.name()))
}

/// A directory's *.sql files in name order; none is a mistake (a wrong path), not a clean run.
fn sql_files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let cannot_read = |e: io::Error| format!("{}: cannot read: {e}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(cannot_read)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()
        .map_err(cannot_read)?;
    files.retain(|p| p.extension().is_some_and(|e| e == "sql"));
    if files.is_empty() {
        return Err(format!("no .sql files found in {}", dir.display()));
    }
    files.sort();
    Ok(files)
}

/// The sources of the run: the applied paths first, then the files to lint, each in the order
/// given. Says on stderr what it cannot read; returns whether everything was read.
fn read(applied: &[PathBuf], files: &[PathBuf], existing: &Existing) -> (Vec<Source>, bool) {
    let mut all_read = true;
    let mut sources = vec![];
    let given = applied.iter().map(|p| (p, true)).chain(files.iter().map(|p| (p, false)));
    for (path, is_applied) in given {
        let paths = if path.is_dir() {
            sql_files_in(path).unwrap_or_else(|problem| {
                eprintln!("tenancy lint: {problem}");
                all_read = false;
                vec![]
            })
        } else {
            vec![path.clone()]
        };
        for path in paths {
            let role = if is_applied || is_applied_migration(&path, existing) { Role::Applied } else { role_of(&path) };
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push(Source { name: path.display().to_string(), text, role }),
                Err(e) => {
                    eprintln!("{}: cannot read: {e}", path.display());
                    all_read = false;
                }
            }
        }
    }
    (sources, all_read)
}

/// What exists in the database, read in one read-only snapshot.
async fn read_database(url: &str) -> anyhow::Result<Existing> {
    let mut client = connection::connect(Some(url)).await?;
    let tx = client
        .build_transaction()
        .read_only(true)
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await?;
    lint::live::read(&tx).await.context("reading what exists in the database")
}

fn render(report: &Report, format: Format) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match format {
        Format::Text => report::text::write(report, &mut out)?,
        Format::Json => report::json::write(report, &mut out)?,
        Format::Sarif => report::sarif::write(report, &mut out)?,
    }
    out.flush()
}

/// Only a database named on purpose is read: offline (CI) the libpq defaults must not be tried.
pub async fn run(args: &LintArgs, database_url: Option<&str>) -> i32 {
    let existing = match database_url {
        Some(url) => match read_database(url).await {
            Ok(existing) => existing,
            Err(e) => {
                eprintln!("tenancy lint: {e:#}");
                return 2;
            }
        },
        None => Existing::default(),
    };
    let (sources, all_read) = if args.files.is_empty() {
        match Scripts::load(None, None) {
            Ok(scripts) => (scripts.lint_sources(&existing), true),
            Err(e) => {
                eprintln!("tenancy lint: {e:#}");
                return 2;
            }
        }
    } else {
        read(&args.applied, &args.files, &existing)
    };
    let report = lint::lint(&sources, &existing);
    if render(&report, args.format).is_err() {
        return 2;
    }
    match (all_read, report.errors()) {
        (false, _) => 2,
        (true, 0) => 0,
        (true, _) => 1,
    }
}
