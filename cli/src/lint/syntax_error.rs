//! Where a file stops being SQL. pg_query reports a parse error without its position, so the
//! failing statement is found by splitting at top-level semicolons, and the failing token by
//! parsing ever longer prefixes of it: the first prefix that fails other than "at end of input"
//! ends at the offending token.
use pg_query::protobuf::{ScanToken, Token};
use std::ops::Range;

pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
    /// The statement's bytes, blanked before the rest of the file is parsed again.
    statement: Range<usize>,
}

impl SyntaxError {
    pub fn at_start(error: pg_query::Error) -> Self {
        SyntaxError { offset: 0, message: message(error), statement: 0..0 }
    }
}

/// The parser's message on one line: it quotes the rest of the text after an unterminated literal.
fn message(error: pg_query::Error) -> String {
    let message = match error {
        pg_query::Error::Parse(m) | pg_query::Error::Scan(m) => m,
        other => other.to_string(),
    };
    match message.split_once('\n') {
        Some((first, _)) => format!("{first}…"),
        None => message,
    }
}

fn is_incomplete(error: &pg_query::Error) -> bool {
    matches!(error, pg_query::Error::Parse(m) if m.ends_with("at end of input"))
}

/// Statements as byte ranges, split at semicolons outside literals (the scanner's tokens).
pub fn statement_ranges(text: &str, tokens: &[ScanToken]) -> Vec<Range<usize>> {
    let mut ranges = vec![];
    let mut start = 0;
    for token in tokens.iter().filter(|t| t.token == Token::Ascii59 as i32) {
        ranges.push(start..token.start as usize);
        start = token.end as usize;
    }
    ranges.push(start..text.len());
    ranges
}

/// The syntax error in one statement, if it has one.
pub fn locate(text: &str, range: Range<usize>) -> Option<SyntaxError> {
    let statement = &text[range.clone()];
    let error = pg_query::parse(statement, pg_query::ParserOptions::DEFAULT).err()?;
    let tokens = pg_query::scan(statement).map(|s| s.tokens).unwrap_or_default();
    let offending =
        tokens.iter().find(|t| match pg_query::parse(&statement[..t.end as usize], pg_query::ParserOptions::DEFAULT) {
            Ok(_) => false,
            Err(e) => !is_incomplete(&e),
        });
    let offset = match (offending, tokens.last()) {
        (Some(token), _) => token.start as usize,
        (None, Some(last)) => last.end as usize,
        (None, None) => 0,
    };
    Some(SyntaxError { offset: range.start + offset, message: message(error), statement: range })
}

/// An unterminated literal or comment. The scanner quotes it from where it starts to the end of
/// the text ("unterminated quoted string at or near \"'abc);\""), which gives its offset; failing
/// that, it starts on the line after the last one up to which the text still scans.
pub fn unterminated(text: &str, error: pg_query::Error) -> SyntaxError {
    let full = error.to_string();
    let quoted = full.split_once(" at or near \"").and_then(|(_, rest)| rest.strip_suffix('"'));
    let offset = match quoted.filter(|q| !q.is_empty() && text.ends_with(q)) {
        Some(rest) => text.len() - rest.len(),
        None => {
            let scans = |end: usize| pg_query::scan(&text[..end]).is_ok();
            let line_ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
            line_ends.iter().rev().find(|&&end| scans(end)).map_or(0, |end| end + 1)
        }
    };
    SyntaxError { offset, message: message(error), statement: 0..0 }
}

/// The text with every failing statement replaced by spaces (newlines kept, so lines stay put).
pub fn blank(text: &str, errors: &[SyntaxError]) -> String {
    let mut out = text.to_string();
    for error in errors {
        let blanked: String =
            text[error.statement.clone()].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
        // Multi-byte characters become one space each; pad so the byte offsets after stay the same.
        let padded = format!("{blanked:<width$}", width = error.statement.len());
        out.replace_range(error.statement.clone(), &padded);
    }
    out
}
