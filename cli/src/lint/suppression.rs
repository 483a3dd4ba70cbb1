//! `-- tenancy-lint: allow <rule-id> -- <why>` on the line before a statement, or on the
//! statement's own lines, lets that statement break that rule. The reason is required: a
//! suppression is a decision someone must be able to read later. Comments are not in the parse
//! tree, so they come from the scanner's tokens; only their text is read here.
use super::finding::{RuleInfo, Severity};
use super::location::LineIndex;
use super::parse::{Comment, Statement};
use super::rules;

const MARKER: &str = "tenancy-lint:";

pub const INVALID: RuleInfo = RuleInfo {
    id: "invalid-suppression",
    severity: Severity::Error,
    summary: "a suppression without a reason, naming an unknown rule, or malformed",
    hint: "write `-- tenancy-lint: allow <rule-id> -- <why it is safe>` on the line above the statement",
};

pub const UNUSED: RuleInfo = RuleInfo {
    id: "unused-suppression",
    severity: Severity::Warning,
    summary: "a suppression next to no statement breaking its rule",
    hint: "remove it, or put it on the line right above the statement it is meant for",
};

pub struct Suppression {
    pub offset: usize,
    pub rule: &'static RuleInfo,
    /// The statement it applies to, if it is next to one.
    pub statement: Option<usize>,
}

/// A comment that speaks to the linter but cannot be obeyed.
pub struct Invalid {
    pub offset: usize,
    pub message: String,
}

fn read(text: &str) -> Option<Result<&'static RuleInfo, String>> {
    let body = text.strip_prefix("--")?.trim();
    let rest = body.strip_prefix(MARKER)?;
    let (directive, reason) = rest.split_once("--").map_or((rest, ""), |(d, r)| (d, r.trim()));
    let words: Vec<&str> = directive.split_whitespace().collect();
    let ["allow", id] = words.as_slice() else {
        return Some(Err(format!("`{}` is not `allow <rule-id> -- <why>`", body.trim())));
    };
    Some(match rules::find(id) {
        None => Err(format!("suppression names unknown rule {id}")),
        Some(_) if reason.is_empty() => Err(format!("suppression of {id} gives no reason after `--`")),
        Some(rule) => Ok(rule),
    })
}

/// The statement a comment on `line` speaks for: one it sits in or trails on the same line,
/// else one that starts on the next line.
fn statement_for(comment: &Comment, statements: &[Statement], lines: &LineIndex) -> Option<usize> {
    let line = lines.line(comment.offset);
    let around = statements.iter().rposition(|s| {
        s.span.start < comment.offset && lines.line(s.span.start) <= line && line <= lines.line(s.span.end)
    });
    around.or_else(|| statements.iter().position(|s| lines.line(s.span.start) == line + 1))
}

pub fn read_all(comments: &[Comment], statements: &[Statement], lines: &LineIndex) -> (Vec<Suppression>, Vec<Invalid>) {
    let mut valid = vec![];
    let mut invalid = vec![];
    for comment in comments {
        match read(&comment.text) {
            Some(Ok(rule)) => valid.push(Suppression {
                offset: comment.offset,
                rule,
                statement: statement_for(comment, statements, lines),
            }),
            Some(Err(message)) => invalid.push(Invalid { offset: comment.offset, message }),
            None => {}
        }
    }
    (valid, invalid)
}
