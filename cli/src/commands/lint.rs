//! `tenancy lint [FILES...]`: the linter over files, or over the migrations and policies built
//! into the binary. Exit 0 when clean (warnings allowed), 1 on any error, 2 when a file cannot be read.
use super::migrate::Scripts;
use crate::lint::{self, Finding, Role, Source};
use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct LintArgs {
    /// SQL files, or directories (their *.sql files in name order), linted as one run in the
    /// order given; files in a directory named `policies` may change RLS policies. Without
    /// any: the migrations and policies built into this binary.
    #[arg(value_name = "FILES")]
    files: Vec<PathBuf>,
}

/// Prints each finding and a summary; returns the number of errors.
pub fn print(findings: &[Finding], out: &mut dyn Write) -> io::Result<usize> {
    for finding in findings {
        writeln!(out, "{finding}")?;
    }
    let errors = findings.iter().filter(|f| f.is_error()).count();
    if !findings.is_empty() {
        writeln!(out, "{errors} error(s), {} warning(s)", findings.len() - errors)?;
    }
    Ok(errors)
}

fn role_of(path: &Path) -> Role {
    let in_policies = path.parent().and_then(Path::file_name).is_some_and(|d| d == "policies");
    if in_policies {
        Role::Policy
    } else {
        Role::Migration
    }
}

/// Files in the order given; a directory's *.sql files in name order.
fn expand(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut files = vec![];
    for path in paths {
        if path.is_dir() {
            let mut in_dir: Vec<PathBuf> =
                std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<io::Result<_>>()?;
            in_dir.retain(|p| p.extension().is_some_and(|e| e == "sql"));
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Reads every file it can; says on stderr which it cannot.
fn read(paths: &[PathBuf]) -> (Vec<Source>, bool) {
    let files = match expand(paths) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("tenancy lint: {e}");
            return (vec![], false);
        }
    };
    let mut all_read = true;
    let mut sources = vec![];
    for path in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push(Source { name: path.display().to_string(), text, role: role_of(&path) }),
            Err(e) => {
                eprintln!("{}: cannot read: {e}", path.display());
                all_read = false;
            }
        }
    }
    (sources, all_read)
}

pub fn run(args: &LintArgs) -> i32 {
    let (sources, all_read) = if args.files.is_empty() {
        match Scripts::load(None, None) {
            Ok(scripts) => (scripts.lint_sources(&HashSet::new()), true),
            Err(e) => {
                eprintln!("tenancy lint: {e:#}");
                return 2;
            }
        }
    } else {
        read(&args.files)
    };
    let findings = lint::lint(&sources);
    let Ok(errors) = print(&findings, &mut io::stdout()) else { return 2 };
    if findings.is_empty() {
        println!("{} file(s) linted, no findings", sources.len());
    }
    match (all_read, errors) {
        (false, _) => 2,
        (true, 0) => 0,
        (true, _) => 1,
    }
}
