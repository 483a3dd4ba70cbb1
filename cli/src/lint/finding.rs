//! What the linter reports: one finding per line, with a hint on its own line.
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Refuses the run: `tenancy lint` exits 1 and `tenancy migrate` applies nothing.
    Error,
    /// Printed, never refusing: lock hazards a small table can live with.
    Warning,
}

/// A rule's identity: what suppressions name and what the report prints.
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    pub hint: &'static str,
}

pub struct Finding {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub rule: &'static RuleInfo,
    pub message: String,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.rule.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.rule.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}:{} {} {severity}: {}", self.file, self.line, self.column, self.rule.id, self.message)?;
        write!(f, "\n    hint: {}", self.rule.hint)
    }
}
