//! For code-scanning tools (GitHub code scanning, GitLab, IDE viewers): a SARIF 2.1.0 log with
//! one run, every rule described in `tool.driver.rules`, one result per finding. Written with
//! plain serde structs: we emit a dozen of SARIF's fields, fewer lines than a SARIF crate's builders take.
use crate::lint::{self, Report, RuleInfo};
use serde::Serialize;
use std::io::{self, Write};

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    /// Our columns count characters, not UTF-16 code units (SARIF's default).
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    short_description: Text<'static>,
    full_description: Text<'static>,
    help: Text<'static>,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text<'a>,
    locations: [Location; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
}

fn rule(info: &'static RuleInfo) -> Rule {
    Rule {
        id: info.id,
        short_description: Text { text: info.summary },
        full_description: Text { text: info.summary },
        help: Text { text: info.hint },
        default_configuration: Configuration { level: info.severity.name() },
    }
}

/// A file name as a URI reference: relative paths stay relative (to the checkout, as code
/// scanning expects), absolute ones become `file://` URIs; bytes outside the unreserved set and
/// `/` are percent-encoded.
fn uri(file: &str) -> String {
    let encoded: String = file
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    if file.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<&'static RuleInfo> = lint::all_rules().collect();
    let results = report
        .findings
        .iter()
        .map(|f| SarifResult {
            rule_id: f.rule.id,
            rule_index: rules.iter().position(|r| r.id == f.rule.id),
            level: f.rule.severity.name(),
            message: Text { text: &f.message },
            locations: [Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation { uri: uri(&f.file) },
                    region: Region { start_line: f.line, start_column: f.column },
                },
            }],
        })
        .collect();
    let driver = Driver {
        name: "tenancy lint",
        version: env!("CARGO_PKG_VERSION"),
        rules: rules.into_iter().map(rule).collect(),
    };
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run { tool: Tool { driver }, column_kind: "unicodeCodePoints", results }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(uri("migrations/V13__change.sql"), "migrations/V13__change.sql");
        assert_eq!(uri("my dir/ä#.sql"), "my%20dir/%C3%A4%23.sql");
        assert_eq!(uri("/srv/app/policies/20_hrms.sql"), "file:///srv/app/policies/20_hrms.sql");
    }
}
