//! One ported case: the request PostgREST's spec makes and what it expects back, read from
//! `cases/<Module>.toml` (one file per spec module, `[[case]]` tables).
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Where PostgREST promises it: `test/spec/Feature/Query/QuerySpec.hs:41` (the request's
    /// line). Also the case's id in `known_differences.toml`.
    pub spec: String,
    /// The `it` text around the request.
    pub name: String,
    pub method: String,
    /// Path and query, as the spec writes them.
    pub path: String,
    /// Request headers in order; a name may repeat (two `Prefer` headers).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// A token the spec makes when it runs (`generateJWT`), sent as `Authorization: Bearer`.
    pub token: Option<Token>,
    /// The request body, sent as is (no `Content-Type` unless `headers` has one, as hspec-wai).
    pub body: Option<String>,
    pub expect: Expect,
    /// The settings the spec runs this case under where they differ from its `baseCfg`, as our
    /// server's variables (`PGRST_DB_MAX_ROWS = "2"`): the case gets a server of its own kind.
    #[serde(default)]
    pub server: BTreeMap<String, String>,
    /// Left out on purpose: why (a feature outside the core, a setting we cannot make here).
    pub skip: Option<String>,
}

impl Case {
    /// Whether the request overrides the rollback every case runs in (`Prefer: tx=commit`): the
    /// spec then checks the change with the next request of the same `it`, and undoes it.
    pub fn commits(&self) -> bool {
        self.headers.iter().any(|(name, value)| name.eq_ignore_ascii_case("prefer") && value.contains("tx=commit"))
    }
}

/// SpecHelper's `generateJWT` / `generateJWTWithSecret`: HS256 over these claims, with time
/// claims relative to when the case runs (`relativeSeconds`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Claims set to now plus this many seconds (`exp = -35`: expired 35 s ago).
    #[serde(default)]
    pub seconds_from_now: BTreeMap<String, i64>,
    /// Signed with this instead of the spec's secret.
    pub secret: Option<String>,
}

/// hspec-wai's `ResponseMatcher`: a status, header matchers, and a body matcher; or the checks a
/// spec makes on a response it binds (`r <- get ...`), where the status may go unchecked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub status: Option<u16>,
    /// `[json|...|]` without `matchHeaders`: a JSON `Content-Type` (with or without charset).
    #[serde(default)]
    pub json_content_type: bool,
    /// `"Name" <:> "value"` and `matchContentType*`: present with exactly this value.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `matchHeaderAbsent`.
    #[serde(default)]
    pub absent: Vec<String>,
    /// `matchHeaderValuePresent`: present, its value containing this.
    #[serde(default)]
    pub containing: BTreeMap<String, String>,
    /// SpecHelper's `matchHeader name regex`: present, a part of its value matching the
    /// (POSIX) regular expression.
    #[serde(default)]
    pub matching: BTreeMap<String, String>,
    /// `[json|...|]`: the body as a JSON value (object keys in any order).
    pub json: Option<String>,
    /// A string literal: the body byte for byte.
    pub text: Option<String>,
    /// `r ^? key "paths" . key "/items" ... \`shouldBe\` Just v`: the JSON value at a JSON
    /// pointer into the body (`/paths/~1items/get/summary`) equals this one.
    #[serde(default)]
    pub at: BTreeMap<String, String>,
    /// `... \`shouldBe\` Nothing`: nothing at these pointers.
    #[serde(default)]
    pub nothing_at: Vec<String>,
    /// `... \`shouldNotBe\` Nothing`: something at these pointers.
    #[serde(default)]
    pub something_at: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    /// Whether the module is part of the core the issue measures (reads, filters, logic,
    /// ordering, pagination, embedding, select, singular, writes, upsert, RPC, CSV, auth,
    /// errors, OpenAPI), or a feature beside it.
    core: bool,
    #[serde(default)]
    case: Vec<Case>,
}

/// A module's cases: the file stem (`QuerySpec`) and its cases in file order.
pub struct Module {
    pub name: String,
    pub core: bool,
    pub cases: Vec<Case>,
}

/// Every `cases/*.toml`, in name order.
pub fn load_modules(dir: &Path) -> Vec<Module> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| load_module(p)).collect()
}

fn load_module(path: &Path) -> Module {
    let text = std::fs::read_to_string(path).unwrap();
    let file: CaseFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    Module { name, core: file.core, cases: file.case }
}
