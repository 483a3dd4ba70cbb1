//! For scripts: one JSON object with the counts and every finding.
use crate::lint::Report;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Document<'a> {
    files_linted: usize,
    files_applied: usize,
    errors: usize,
    warnings: usize,
    findings: Vec<Finding<'a>>,
}

#[derive(Serialize)]
struct Finding<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    rule: &'static str,
    severity: &'static str,
    message: &'a str,
    hint: &'static str,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let findings = report
        .findings
        .iter()
        .map(|f| Finding {
            file: &f.file,
            line: f.line,
            column: f.column,
            rule: f.rule.id,
            severity: f.rule.severity.name(),
            message: &f.message,
            hint: f.rule.hint,
        })
        .collect();
    let document = Document {
        files_linted: report.files_linted,
        files_applied: report.files_applied,
        errors: report.errors(),
        warnings: report.warnings(),
        findings,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
