//! For people: one line per finding (`file:line:column rule-id severity: message`), its hint on
//! the next, then a summary.
use crate::lint::{Finding, Report};
use std::io::{self, Write};

/// The findings and, if any, how many of each severity.
pub fn write_findings(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    for f in findings {
        writeln!(out, "{}:{}:{} {} {}: {}", f.file, f.line, f.column, f.rule.id, f.rule.severity.name(), f.message)?;
        writeln!(out, "    hint: {}", f.rule.hint)?;
    }
    if !findings.is_empty() {
        let errors = findings.iter().filter(|f| f.is_error()).count();
        writeln!(out, "{errors} error(s), {} warning(s)", findings.len() - errors)?;
    }
    Ok(())
}

/// The findings, or a line saying there are none and what was read.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_findings(&report.findings, out)?;
    if report.findings.is_empty() {
        let applied = match report.files_applied {
            0 => String::new(),
            n => format!(" ({n} applied file(s) read, not reported on)"),
        };
        writeln!(out, "{} file(s) linted{applied}, no findings", report.files_linted)?;
    }
    Ok(())
}
