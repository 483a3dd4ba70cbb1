//! One file through PostgreSQL's parser: its statements with where they start and end, its
//! `--` comments (for suppressions), and where it does not parse.
use super::syntax_error::{self, SyntaxError};
use pg_query::protobuf::{ScanToken, Token};
use pg_query::NodeEnum;
use std::ops::Range;

pub struct Statement {
    pub node: NodeEnum,
    /// Bytes from the first token to the end of the last one: no leading comments, no semicolon.
    pub span: Range<usize>,
}

pub struct Comment {
    pub offset: usize,
    pub text: String,
}

#[derive(Default)]
pub struct ParsedFile {
    pub statements: Vec<Statement>,
    pub comments: Vec<Comment>,
    pub syntax_errors: Vec<SyntaxError>,
}

fn is_comment(token: &ScanToken) -> bool {
    token.token == Token::SqlComment as i32 || token.token == Token::CComment as i32
}

fn span(token: &ScanToken) -> Range<usize> {
    token.start as usize..token.end as usize
}

pub fn parse_file(text: &str) -> ParsedFile {
    let tokens = match pg_query::scan(text) {
        Ok(scan) => scan.tokens,
        Err(e) => return ParsedFile { syntax_errors: vec![syntax_error::unterminated(text, e)], ..Default::default() },
    };
    let comments = tokens
        .iter()
        .filter(|t| t.token == Token::SqlComment as i32)
        .map(|t| Comment { offset: t.start as usize, text: text[span(t)].to_string() })
        .collect();
    // Statements that do not parse are reported, then blanked (same length, same lines) so the
    // rest of the file is still checked with its offsets intact.
    let syntax_errors = match pg_query::parse(text, pg_query::ParserOptions::DEFAULT) {
        Ok(_) => vec![],
        Err(_) => syntax_error::statement_ranges(text, &tokens)
            .into_iter()
            .filter_map(|range| syntax_error::locate(text, range))
            .collect(),
    };
    let parsed_text = syntax_error::blank(text, &syntax_errors);
    let statements =
        match (pg_query::parse(&parsed_text, pg_query::ParserOptions::DEFAULT), pg_query::scan(&parsed_text)) {
            (Ok(parsed), Ok(scan)) => {
                let code: Vec<Range<usize>> = scan.tokens.iter().filter(|t| !is_comment(t)).map(span).collect();
                parsed
                    .protobuf
                    .stmts
                    .into_iter()
                    .filter_map(|raw| {
                        let start = raw.stmt_location as usize;
                        let end = if raw.stmt_len == 0 { parsed_text.len() } else { start + raw.stmt_len as usize };
                        let first = code.iter().find(|t| t.start >= start)?;
                        let last = code.iter().rev().find(|t| t.end <= end)?;
                        Some(Statement { node: raw.stmt?.node?, span: first.start..last.end })
                    })
                    .collect()
            }
            _ => vec![],
        };
    let syntax_errors = if syntax_errors.is_empty() && statements.is_empty() {
        // Parsed as a whole yet nothing came out of the split (or the reverse): say so rather than stay silent.
        match pg_query::parse(text, pg_query::ParserOptions::DEFAULT) {
            Err(e) => vec![SyntaxError::at_start(e)],
            Ok(_) => vec![],
        }
    } else {
        syntax_errors
    };
    ParsedFile { statements, comments, syntax_errors }
}
