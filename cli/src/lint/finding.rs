//! What the linter reports, as data: findings and what each rule is. Rendering is `report/`'s.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Refuses the run: `tenancy lint` exits 1 and `tenancy migrate` applies nothing.
    Error,
    /// Printed, never refusing: lock hazards a small table can live with, reminders.
    Warning,
}

impl Severity {
    /// As printed, and as SARIF names the level.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A rule's identity: what suppressions name and what the report prints.
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    /// What the rule finds, in one sentence (code-scanning tools show it beside the id).
    pub summary: &'static str,
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

/// One run's result.
pub struct Report {
    pub findings: Vec<Finding>,
    /// Files reported on.
    pub files_linted: usize,
    /// Files read for what they create and protect only (applied migrations).
    pub files_applied: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}
