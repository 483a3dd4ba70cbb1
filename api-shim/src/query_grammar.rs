//! PostgREST's URL grammar (v12): the query string of a request, parsed into a typed AST.
//!
//! Nothing here knows the schema or builds SQL: names and values stay strings, and the
//! planner checks the names against the schema cache and binds the values as parameters.
//! Parsing works on `char`s so that no input can split a UTF-8 sequence, and every nesting
//! is bounded by [`MAX_DEPTH`] so that no input can exhaust the stack.
use std::fmt;

/// Parentheses nested deeper than this are refused: it bounds recursion, and no real request
/// comes near it.
pub const MAX_DEPTH: usize = 32;

// ---------------------------------------------------------------------------------------
// The AST
// ---------------------------------------------------------------------------------------

/// The names of the embedded resources a parameter applies to, outermost first: `[]` for
/// the requested resource itself, `["clients", "projects"]` for `clients.projects.name=…`.
pub type EmbedPath = Vec<String>;

/// Everything the query string asks for.
///
/// Which parameter is which: `select`, `columns` and `on_conflict` by name; `order`,
/// `limit`, `offset`, `and`, `or`, `not.and`, `not.or` by name, optionally after an embed
/// path (`clients.order`). Any other key is a horizontal filter **only when its value starts
/// like one**: `not.`, or a known operator followed by `.` (or by `(…).`, as in
/// `eq(any).` and `fts(english).`). Any other pair goes to [`QueryParams::other`]
/// unparsed, because GET `/rpc/fn?a=1&b=2` passes function arguments that way; a table
/// endpoint has no arguments and must refuse them with [`QueryParams::reject_other`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    /// `select=`; `None` when absent or empty (PostgREST then selects `*`).
    pub select: Option<Vec<SelectItem>>,
    /// Horizontal filters in the order given; several on one column are all kept.
    pub filters: Vec<EmbeddedFilter>,
    /// `and=`/`or=` trees in the order given.
    pub logic: Vec<EmbeddedLogic>,
    /// `order=` per embed path, one entry per parameter in the order given.
    pub order: Vec<(EmbedPath, Vec<OrderTerm>)>,
    /// `limit=`/`offset=`, merged into one entry per embed path (a repeated one overrides).
    pub limits: Vec<(EmbedPath, Range)>,
    /// `columns=`: the columns an insert takes from the body.
    pub columns: Option<Vec<String>>,
    /// `on_conflict=`: the unique columns an upsert resolves on.
    pub on_conflict: Option<Vec<String>>,
    /// Decoded pairs that are neither reserved nor filters: function arguments for RPC.
    pub other: Vec<(String, String)>,
}

/// `limit` and `offset` of one embed path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub offset: Option<u64>,
    pub limit: Option<u64>,
}

/// One item of `select=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// `*`
    Star,
    /// `alias:column->json->>path::cast`
    Field { alias: Option<String>, field: Field, cast: Option<String> },
    /// `alias:column::input_cast.sum()::cast` (also `avg`, `min`, `max`, `count`), or `count()`
    /// of the rows (`field` none): PostgREST's aggregates, grouped by the other fields.
    Aggregate {
        alias: Option<String>,
        function: AggregateFunction,
        field: Option<Field>,
        input_cast: Option<String>,
        cast: Option<String>,
    },
    /// `alias:relation!hint!inner(…)` or, spread into the parent, `...relation(…)`.
    Embed {
        alias: Option<String>,
        relation: String,
        /// A foreign key name or a column that disambiguates the relationship.
        hint: Option<String>,
        join: Option<JoinType>,
        spread: bool,
        /// Empty for `relation()`, which embeds nothing but still joins (for filtering).
        select: Vec<SelectItem>,
    },
}

/// `!inner` / `!left` on an embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggregateFunction {
    fn from_name(name: &str) -> Option<Self> {
        use AggregateFunction::*;
        Some(match name {
            "count" => Count,
            "sum" => Sum,
            "avg" => Avg,
            "min" => Min,
            "max" => Max,
            _ => return None,
        })
    }

    /// The SQL function, which is also the key PostgREST answers an unaliased aggregate under.
    pub fn name(self) -> &'static str {
        match self {
            AggregateFunction::Count => "count",
            AggregateFunction::Sum => "sum",
            AggregateFunction::Avg => "avg",
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinType {
    Inner,
    Left,
}

/// A column, or a path into a JSON column: `data->a->>b`, `data->0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub json_path: Vec<JsonStep>,
}

/// One `->key` or `->>key` of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonStep {
    pub arrow: Arrow,
    pub key: JsonKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrow {
    /// `->`: the value as JSON.
    Json,
    /// `->>`: the value as text.
    Text,
}

/// An object key, or (unquoted digits, optionally negative) an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonKey {
    Name(String),
    Index(i64),
}

/// A horizontal filter with the embed path it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedFilter {
    pub path: EmbedPath,
    pub filter: Filter,
}

/// `field=[not.]op[(quantifier|language)].value`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: Field,
    pub negated: bool,
    pub op: Operator,
    /// `eq(any)`, `like(all)`: the value is then an array literal such as `{1,2}`.
    pub quantifier: Option<Quantifier>,
    /// `fts(english)`: the text search configuration.
    pub language: Option<String>,
    pub value: FilterValue,
}

pub use crate::operators::Operator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    /// The value as written (for `like`/`ilike`, with `*` already turned into `%`).
    Single(String),
    /// The elements of `in.(…)`, unquoted.
    List(Vec<String>),
    /// The operand of `is.`.
    Is(IsValue),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

/// A logic tree with the embed path it applies to (`clients.or=(…)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedLogic {
    pub path: EmbedPath,
    pub tree: LogicTree,
}

/// `[not.]and(…)` / `[not.]or(…)`: at least one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicTree {
    pub op: LogicOp,
    pub negated: bool,
    pub children: Vec<LogicNode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogicNode {
    Filter(Filter),
    Tree(LogicTree),
}

/// `field[.asc|.desc][.nullsfirst|.nullslast]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// `rel(field)`: a column of an embedded to-one resource.
    pub embedded: Option<String>,
    pub field: Field,
    pub direction: Option<Direction>,
    pub nulls: Option<Nulls>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    First,
    Last,
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// A query string PostgREST would refuse with PGRST100 (HTTP 400), or, for a negative limit,
/// with PGRST103 (416: no rows can satisfy it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrammarError {
    message: String,
    details: Option<String>,
    unsatisfiable_range: bool,
}

impl GrammarError {
    pub(crate) fn new(message: String, details: &str) -> Self {
        GrammarError { message, details: Some(details.to_string()), unsatisfiable_range: false }
    }

    fn unsatisfiable(why: &str) -> Self {
        GrammarError { message: why.into(), details: None, unsatisfiable_range: true }
    }

    fn negative_limit() -> Self {
        Self::unsatisfiable("Limit should be greater than or equal to zero.")
    }

    /// `Range: 5-2`.
    pub(crate) fn inverted_range() -> Self {
        Self::unsatisfiable("The lower boundary must be lower than or equal to the upper boundary in the Range header.")
    }

    /// A range no rows can satisfy (a negative limit), rather than one that does not parse.
    pub fn is_unsatisfiable_range(&self) -> bool {
        self.unsatisfiable_range
    }

    /// For the planner: a filter that parses but cannot apply (`field` names it).
    pub fn invalid_filter(field: &str, why: &str) -> Self {
        Self::new(format!("failed to parse filter ({field}): {why}"), field)
    }

    /// A [`Fail`] inside `text`, the value of parameter `what`; `offset` is where the part
    /// that failed starts in `text`, so that the position points into what the client sent.
    fn at(what: &str, text: &str, offset: usize, fail: Fail) -> Self {
        let expected = fail.expected.map(|e| format!(", expected {e}")).unwrap_or_default();
        let message = format!("failed to parse {what} ({text}): {} at {}{expected}", fail.problem, fail.at + offset);
        Self::new(message, text)
    }

    /// PostgREST's code for every parse error of the query string.
    pub fn code(&self) -> &'static str {
        if self.unsatisfiable_range {
            "PGRST103"
        } else {
            "PGRST100"
        }
    }

    /// What failed to parse, where, and what was expected.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The offending text, as the client sent it (decoded).
    pub fn details(&self) -> Option<&str> {
        self.details.as_deref()
    }
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GrammarError {}

/// Why and where (in chars) a value failed, before we know which parameter it came from.
#[derive(Debug)]
struct Fail {
    at: usize,
    problem: String,
    expected: Option<&'static str>,
}

impl Fail {
    fn new(at: usize, problem: impl Into<String>) -> Self {
        Fail { at, problem: problem.into(), expected: None }
    }
}

// ---------------------------------------------------------------------------------------
// The cursor
// ---------------------------------------------------------------------------------------

/// A position in a decoded value, by chars so that no slice can split one.
struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

impl Cursor {
    fn new(s: &str) -> Self {
        Cursor { chars: s.chars().collect(), pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars().enumerate().all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let found = self.starts_with(s);
        if found {
            self.pos += s.chars().count();
        }
        found
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// The chars from here for which `keep(char, next char)` holds.
    fn take_while(&mut self, keep: impl Fn(char, Option<char>) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|&c| keep(c, self.peek_at(1))) {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    fn take_rest(&mut self) -> String {
        self.take_while(|_, _| true)
    }

    /// A failure at the current char, naming it.
    fn unexpected(&self, expected: &'static str) -> Fail {
        let problem = match self.peek() {
            Some(c) => format!("unexpected \"{c}\""),
            None => "unexpected end of input".to_string(),
        };
        Fail { at: self.pos, problem, expected: Some(expected) }
    }

    fn expect(&mut self, c: char, expected: &'static str) -> Result<(), Fail> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn expect_end(&self, expected: &'static str) -> Result<(), Fail> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.unexpected(expected)),
        }
    }
}

/// Runs `parse` over all of `s`: what it leaves unread is an error.
fn run<T>(
    s: &str,
    expected_at_end: &'static str,
    parse: impl FnOnce(&mut Cursor) -> Result<T, Fail>,
) -> Result<T, Fail> {
    let mut c = Cursor::new(s);
    let value = parse(&mut c)?;
    c.expect_end(expected_at_end)?;
    Ok(value)
}

/// `item (, item)*`: the item parsers skip the whitespace around themselves.
fn comma_separated<T>(c: &mut Cursor, mut item: impl FnMut(&mut Cursor) -> Result<T, Fail>) -> Result<Vec<T>, Fail> {
    let mut items = vec![item(c)?];
    while c.eat(',') {
        items.push(item(c)?);
    }
    Ok(items)
}

/// `( inner )`, one level deeper; refused beyond [`MAX_DEPTH`].
fn parenthesized<T>(
    c: &mut Cursor,
    depth: usize,
    inner: impl FnOnce(&mut Cursor, usize) -> Result<T, Fail>,
) -> Result<T, Fail> {
    c.expect('(', "\"(\"")?;
    if depth >= MAX_DEPTH {
        return Err(Fail::new(c.pos - 1, format!("parentheses nested deeper than {MAX_DEPTH} levels")));
    }
    let value = inner(c, depth + 1)?;
    c.expect(')', "\",\" or \")\"")?;
    Ok(value)
}

// ---------------------------------------------------------------------------------------
// Names, JSON paths, casts
// ---------------------------------------------------------------------------------------

/// PostgREST's identifier chars: letters, digits, `_`, `$`, spaces, and `-` where it does
/// not start an arrow (`my-col` is a name, `a->b` a path).
fn is_name_char(c: char, next: Option<char>) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | ' ') || (c == '-' && next != Some('>'))
}

/// `"…"` with backslash escaping any char; the text between, unescaped.
fn quoted(c: &mut Cursor) -> Result<String, Fail> {
    c.expect('"', "\"\\\"\"")?;
    let mut out = String::new();
    loop {
        match c.bump() {
            Some('"') => return Ok(out),
            Some('\\') => out.push(c.bump().ok_or_else(|| c.unexpected("an escaped char"))?),
            Some(ch) => out.push(ch),
            None => return Err(c.unexpected("a closing \"\\\"\"")),
        }
    }
}

/// A run of name chars, trimmed; at least one that is not a space.
fn bare_name(c: &mut Cursor) -> Result<String, Fail> {
    c.skip_ws();
    let name = c.take_while(is_name_char);
    match name.trim() {
        "" => Err(c.unexpected("a name")),
        trimmed => Ok(trimmed.to_string()),
    }
}

/// A column, relation, alias or hint: quoted (any chars) or bare; whitespace around skipped.
fn ident(c: &mut Cursor) -> Result<String, Fail> {
    c.skip_ws();
    if c.peek() != Some('"') {
        return bare_name(c);
    }
    let name = quoted(c)?;
    c.skip_ws();
    Ok(name)
}

fn arrow(c: &mut Cursor) -> Option<Arrow> {
    if c.eat_str("->>") {
        Some(Arrow::Text)
    } else if c.eat_str("->") {
        Some(Arrow::Json)
    } else {
        None
    }
}

/// A JSON key or array index, as PostgREST reads them: quoted, or parts of any chars but
/// `(-:.,>)` joined by single dashes (a dash before `>` starts an arrow); digits, negative or
/// not, followed by an arrow, a cast, `.`, `,` or the end are an index.
fn json_key(c: &mut Cursor) -> Result<JsonKey, Fail> {
    c.skip_ws();
    if c.peek() == Some('"') {
        return ident(c).map(JsonKey::Name);
    }
    if let Some(index) = json_index(c)? {
        return Ok(JsonKey::Index(index));
    }
    let part = |c: &mut Cursor| {
        let text = c.take_while(|ch, _| !matches!(ch, '(' | '-' | ':' | '.' | ',' | '>' | ')'));
        match text.trim() {
            "" => Err(c.unexpected("any non reserved character different from: .,>()")),
            trimmed => Ok(trimmed.to_string()),
        }
    };
    let mut key = part(c)?;
    while c.peek() == Some('-') && c.peek_at(1) != Some('>') {
        c.bump();
        key.push('-');
        key.push_str(&part(c)?);
    }
    Ok(JsonKey::Name(key))
}

/// `-?digits` where an index may end (see [`json_key`]); nothing consumed otherwise.
fn json_index(c: &mut Cursor) -> Result<Option<i64>, Fail> {
    let sign = usize::from(c.peek() == Some('-'));
    let digits = (sign..).take_while(|&i| c.peek_at(i).is_some_and(|d| d.is_ascii_digit())).count();
    let end = sign + digits;
    let ends = match c.peek_at(end) {
        None | Some('.' | ',') => true,
        Some('-') => c.peek_at(end + 1) == Some('>'),
        Some(':') => c.peek_at(end + 1) == Some(':'),
        _ => false,
    };
    if digits == 0 || !ends {
        return Ok(None);
    }
    let at = c.pos;
    let text: String = (0..end).filter_map(|_| c.bump()).collect();
    text.parse().map(Some).map_err(|_| Fail::new(at, "JSON array index out of range"))
}

fn json_path(c: &mut Cursor) -> Result<Vec<JsonStep>, Fail> {
    let mut steps = vec![];
    while let Some(arrow) = arrow(c) {
        steps.push(JsonStep { arrow, key: json_key(c)? });
    }
    Ok(steps)
}

/// `name` with an optional JSON path.
fn field(c: &mut Cursor) -> Result<Field, Fail> {
    let name = ident(c)?;
    Ok(Field { name, json_path: json_path(c)? })
}

/// `::type`: letters, digits, `_`, spaces (`double precision`) and `[]`; the planner decides
/// whether it is a type it will cast to.
/// `.sum()` and the like after a field: the aggregate it names, consumed; otherwise nothing.
fn aggregate_call(c: &mut Cursor) -> Option<AggregateFunction> {
    ["count", "sum", "avg", "min", "max"].into_iter().find_map(|name| {
        let call = format!(".{name}()");
        c.eat_str(&call).then(|| AggregateFunction::from_name(name)).flatten()
    })
}

fn cast(c: &mut Cursor) -> Result<Option<String>, Fail> {
    c.skip_ws();
    if !c.eat_str("::") {
        return Ok(None);
    }
    let name = c.take_while(|ch, _| ch.is_alphanumeric() || matches!(ch, '_' | ' ' | '[' | ']'));
    match name.trim() {
        "" => Err(c.unexpected("a type name")),
        trimmed => Ok(Some(trimmed.to_string())),
    }
}

/// `a.b.c` up to the end: the embed path before `.order`, `.limit`, `.or`, ….
fn embed_path(c: &mut Cursor) -> Result<EmbedPath, Fail> {
    if c.peek().is_none() {
        return Ok(vec![]);
    }
    let mut path = vec![ident(c)?];
    while c.eat('.') {
        path.push(ident(c)?);
    }
    Ok(path)
}

/// `a.b.column->json`: the embed path, then the field.
fn embedded_field(c: &mut Cursor) -> Result<(EmbedPath, Field), Fail> {
    let mut path = vec![];
    let mut name = ident(c)?;
    while c.eat('.') {
        path.push(std::mem::replace(&mut name, ident(c)?));
    }
    Ok((path, Field { name, json_path: json_path(c)? }))
}

// ---------------------------------------------------------------------------------------
// select
// ---------------------------------------------------------------------------------------

/// `select=`: an empty value selects nothing, as PostgREST's empty embed `rel()` does. What
/// follows the list (`name,rel(col))`) is left unread, as PostgREST's parser leaves it.
pub fn parse_select(s: &str) -> Result<Vec<SelectItem>, GrammarError> {
    select_list(&mut Cursor::new(s), 0).map_err(|f| GrammarError::at("select parameter", s, 0, f))
}

/// Items up to the end or the closing parenthesis of an embed, possibly none.
fn select_list(c: &mut Cursor, depth: usize) -> Result<Vec<SelectItem>, Fail> {
    c.skip_ws();
    if matches!(c.peek(), None | Some(')')) {
        return Ok(vec![]);
    }
    comma_separated(c, |c| select_item(c, depth))
}

fn select_item(c: &mut Cursor, depth: usize) -> Result<SelectItem, Fail> {
    c.skip_ws();
    if matches!(c.peek(), None | Some(',' | ')')) {
        return Err(Fail::new(c.pos, "empty select item"));
    }
    if c.eat_str("...") {
        let relation = ident(c)?;
        return embed(c, depth, None, relation, true);
    }
    if c.eat('*') {
        c.skip_ws();
        return Ok(SelectItem::Star);
    }
    let first = ident(c)?;
    let (alias, name) = if c.peek() == Some(':') && c.peek_at(1) != Some(':') {
        c.bump();
        (Some(first), ident(c)?)
    } else {
        (None, first)
    };
    if name == "count" && c.eat_str("()") {
        let cast = cast(c)?;
        c.skip_ws();
        return Ok(SelectItem::Aggregate {
            alias,
            function: AggregateFunction::Count,
            field: None,
            input_cast: None,
            cast,
        });
    }
    if matches!(c.peek(), Some('!' | '(')) {
        return embed(c, depth, alias, name, false);
    }
    let field = Field { name, json_path: json_path(c)? };
    let cast = cast(c)?;
    if let Some(function) = aggregate_call(c) {
        let result_cast = self::cast(c)?;
        c.skip_ws();
        return Ok(SelectItem::Aggregate { alias, function, field: Some(field), input_cast: cast, cast: result_cast });
    }
    c.skip_ws();
    Ok(SelectItem::Field { alias, field, cast })
}

/// The rest of an embed after its name: hints, then its own select list in parentheses.
fn embed(
    c: &mut Cursor,
    depth: usize,
    alias: Option<String>,
    relation: String,
    spread: bool,
) -> Result<SelectItem, Fail> {
    let (hint, join) = embed_params(c)?;
    let select = parenthesized(c, depth, select_list)?;
    c.skip_ws();
    Ok(SelectItem::Embed { alias, relation, hint, join, spread, select })
}

/// Up to one `!hint` and one `!inner`/`!left`, in either order.
fn embed_params(c: &mut Cursor) -> Result<(Option<String>, Option<JoinType>), Fail> {
    let (mut hint, mut join) = (None, None);
    while c.eat('!') {
        let at = c.pos;
        let word = ident(c)?;
        let as_join = match word.as_str() {
            "inner" => Some(JoinType::Inner),
            "left" => Some(JoinType::Left),
            _ => None,
        };
        match (as_join, &hint, join) {
            (Some(j), _, None) => join = Some(j),
            (None, None, _) => hint = Some(word),
            _ => return Err(Fail::new(at, "more than one hint or join type")),
        }
    }
    Ok((hint, join))
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

/// Where a filter's value ends.
#[derive(Clone, Copy)]
enum ValueEnd {
    /// A parameter's value: everything to the end, verbatim.
    Input,
    /// Inside a logic tree: at `,` or `)`, unless double-quoted or an array `{…}`.
    Delimited,
}

/// A value starts like a filter when it starts with `not.`, or with a known operator and
/// `.` or `(…).`; any other value is a function argument (see [`QueryParams`]).
pub fn looks_like_filter(value: &str) -> bool {
    if value.starts_with("not.") {
        return true;
    }
    let name_len = value.bytes().take_while(u8::is_ascii_lowercase).count();
    let (name, rest) = value.split_at(name_len);
    if Operator::from_name(name).is_none() {
        return false;
    }
    match rest.strip_prefix('(') {
        Some(group) => group.find(')').is_some_and(|i| group[i + 1..].starts_with('.')),
        None => rest.starts_with('.'),
    }
}

/// One horizontal filter, `key=value` decoded: `clients.age=not.gte.18`.
pub fn parse_filter(key: &str, value: &str) -> Result<EmbeddedFilter, GrammarError> {
    let text = format!("{key}={value}");
    let (path, field) =
        run(key, "\".\", \"->\" or \"=\"", embedded_field).map_err(|f| GrammarError::at("filter", &text, 0, f))?;
    let filter = run(value, "end of input", |c| op_expr(c, field, ValueEnd::Input))
        .map_err(|f| GrammarError::at("filter", &text, key.chars().count() + 1, f))?;
    Ok(EmbeddedFilter { path, filter })
}

/// `[not.]op[(…)].value` applied to `field`.
fn op_expr(c: &mut Cursor, field: Field, end: ValueEnd) -> Result<Filter, Fail> {
    let negated = c.eat_str("not.");
    let op = operator(c)?;
    let (quantifier, language) = op_modifiers(c, op)?;
    c.expect('.', "\".\" and a value after the operator")?;
    let value = match op {
        Operator::In => FilterValue::List(in_list(c)?),
        Operator::Is => FilterValue::Is(is_value(c, end)?),
        _ => FilterValue::Single(like_wildcards(op, value(c, end)?)),
    };
    Ok(Filter { field, negated, op, quantifier, language, value })
}

fn operator(c: &mut Cursor) -> Result<Operator, Fail> {
    let at = c.pos;
    let name = c.take_while(|ch, _| ch.is_ascii_lowercase());
    match Operator::from_name(&name) {
        Some(op) => Ok(op),
        None if name.is_empty() => Err(c.unexpected("an operator (eq, neq, gt, gte, lt, lte, like, …)")),
        None => Err(Fail::new(at, format!("unknown operator \"{name}\""))),
    }
}

/// `(any)`/`(all)` after a comparison, `(language)` after a text search.
fn op_modifiers(c: &mut Cursor, op: Operator) -> Result<(Option<Quantifier>, Option<String>), Fail> {
    if c.peek() != Some('(') {
        Ok((None, None))
    } else if op.takes_quantifier() {
        Ok((Some(quantifier(c)?), None))
    } else if op.is_text_search() {
        Ok((None, Some(language(c)?)))
    } else {
        Err(c.unexpected("\".\" and a value after the operator"))
    }
}

fn quantifier(c: &mut Cursor) -> Result<Quantifier, Fail> {
    c.expect('(', "\"(\"")?;
    let at = c.pos;
    let q = match c.take_while(|ch, _| ch.is_ascii_alphabetic()).as_str() {
        "any" => Quantifier::Any,
        "all" => Quantifier::All,
        other => {
            return Err(Fail { at, problem: format!("unknown quantifier \"{other}\""), expected: Some("any or all") })
        }
    };
    c.expect(')', "\")\"")?;
    Ok(q)
}

fn language(c: &mut Cursor) -> Result<String, Fail> {
    c.expect('(', "\"(\"")?;
    let lang = c.take_while(|ch, _| ch.is_alphanumeric() || ch == '_');
    if lang.is_empty() {
        return Err(c.unexpected("a text search language"));
    }
    c.expect(')', "\")\"")?;
    Ok(lang)
}

fn value(c: &mut Cursor, end: ValueEnd) -> Result<String, Fail> {
    match end {
        ValueEnd::Input => Ok(c.take_rest()),
        ValueEnd::Delimited => delimited_value(c),
    }
}

/// A value inside a logic tree: quoted, an array literal taken whole (its commas are its
/// own), or the text up to `,`/`)`, trimmed.
fn delimited_value(c: &mut Cursor) -> Result<String, Fail> {
    c.skip_ws();
    let value = match c.peek() {
        Some('"') if let Some(value) = quoted_element(c) => value,
        Some('{') => braced(c)?,
        _ => unquoted_element(c),
    };
    c.skip_ws();
    Ok(value)
}

/// A quoted list or tree element: only when `,`, `)` or the end follows it (PostgREST's
/// `pQuotedValue <* notFollowedBy (noneOf ",)")`); else none, and the cursor back where it was:
/// its quotes are then text (`in.(")`, `in.(a"b"c)`).
fn quoted_element(c: &mut Cursor) -> Option<String> {
    let start = c.pos;
    if let Ok(value) = quoted(c) {
        c.skip_ws();
        if matches!(c.peek(), None | Some(',') | Some(')')) {
            return Some(value);
        }
    }
    c.pos = start;
    None
}

/// The text up to `,` or `)`, trimmed.
fn unquoted_element(c: &mut Cursor) -> String {
    c.take_while(|ch, _| ch != ',' && ch != ')').trim_end().to_string()
}

/// `{…}` with nested braces, verbatim.
fn braced(c: &mut Cursor) -> Result<String, Fail> {
    let mut out = String::new();
    let mut open = 0usize;
    loop {
        let ch = c.bump().ok_or_else(|| c.unexpected("a closing \"}\""))?;
        out.push(ch);
        match ch {
            '{' => open += 1,
            '}' => open = open.saturating_sub(1),
            _ => {}
        }
        if open == 0 {
            return Ok(out);
        }
    }
}

/// `(a,"b,c",d)`: elements unquoted, unquoted ones trimmed; `()` is the empty list.
fn in_list(c: &mut Cursor) -> Result<Vec<String>, Fail> {
    c.expect('(', "\"(\"")?;
    c.skip_ws();
    if c.eat(')') {
        return Ok(vec![]);
    }
    let items = comma_separated(c, list_element)?;
    c.expect(')', "\",\" or \")\"")?;
    Ok(items)
}

fn list_element(c: &mut Cursor) -> Result<String, Fail> {
    c.skip_ws();
    let element = match c.peek() {
        Some('"') if let Some(element) = quoted_element(c) => element,
        _ => unquoted_element(c),
    };
    c.skip_ws();
    Ok(element)
}

/// `is.` takes only these, case-insensitive: anything else would reach SQL as a keyword.
fn is_value(c: &mut Cursor, end: ValueEnd) -> Result<IsValue, Fail> {
    let at = c.pos;
    let word = value(c, end)?;
    match word.to_ascii_lowercase().as_str() {
        "null" => Ok(IsValue::Null),
        "not_null" => Ok(IsValue::NotNull),
        "true" => Ok(IsValue::True),
        "false" => Ok(IsValue::False),
        "unknown" => Ok(IsValue::Unknown),
        _ => Err(Fail {
            at,
            problem: format!("unexpected is value \"{word}\""),
            expected: Some("null, not_null, true, false or unknown"),
        }),
    }
}

/// PostgREST lets `*` stand for `%` in patterns.
fn like_wildcards(op: Operator, value: String) -> String {
    if op.star_wildcard() {
        value.replace('*', "%")
    } else {
        value
    }
}

// ---------------------------------------------------------------------------------------
// Logic trees
// ---------------------------------------------------------------------------------------

/// A logic tree parameter: `or=(…)`, `not.and=(…)`, `clients.or=(…)`.
pub fn parse_logic(key: &str, value: &str) -> Result<EmbeddedLogic, GrammarError> {
    match classify(key) {
        Param::Logic { path, op, negated } => logic_param(key, value, path, op, negated),
        _ => Err(GrammarError::new(
            format!("failed to parse logic tree ({key}={value}): expected the key and, or, not.and or not.or"),
            key,
        )),
    }
}

fn logic_param(key: &str, value: &str, path: &str, op: LogicOp, negated: bool) -> Result<EmbeddedLogic, GrammarError> {
    let text = format!("{key}={value}");
    let path = run(path, "\".\"", embed_path).map_err(|f| GrammarError::at("logic tree", &text, 0, f))?;
    // What follows the closing parenthesis is left unread, as PostgREST's parser leaves it.
    let tree = logic_tree(&mut Cursor::new(value), op, negated, 0)
        .map_err(|f| GrammarError::at("logic tree", &text, key.chars().count() + 1, f))?;
    Ok(EmbeddedLogic { path, tree })
}

/// `( node, … )` with the operator already read; whitespace around the parentheses skipped.
fn logic_tree(c: &mut Cursor, op: LogicOp, negated: bool, depth: usize) -> Result<LogicTree, Fail> {
    c.skip_ws();
    let children = parenthesized(c, depth, |c, depth| comma_separated(c, |c| logic_node(c, depth)))?;
    Ok(LogicTree { op, negated, children })
}

fn logic_node(c: &mut Cursor, depth: usize) -> Result<LogicNode, Fail> {
    c.skip_ws();
    let node = match tree_head(c) {
        Some((op, negated)) => LogicNode::Tree(logic_tree(c, op, negated, depth)?),
        None => LogicNode::Filter(condition(c)?),
    };
    c.skip_ws();
    Ok(node)
}

/// `and(`, `or (`, `not.and(`, `not.or(`: read up to the parenthesis. Anything else is a
/// condition, even on a column named `and` (`and.eq.1`).
fn tree_head(c: &mut Cursor) -> Option<(LogicOp, bool)> {
    let negated = c.starts_with("not.");
    let skip = if negated { 4 } else { 0 };
    let (len, op) = [("and", LogicOp::And), ("or", LogicOp::Or)]
        .into_iter()
        .find(|(word, _)| word.chars().enumerate().all(|(i, ch)| c.peek_at(skip + i) == Some(ch)))
        .map(|(word, op)| (word.len(), op))?;
    let spaces = (skip + len..).take_while(|&i| c.peek_at(i) == Some(' ')).count();
    (c.peek_at(skip + len + spaces) == Some('(')).then(|| {
        c.pos += skip + len + spaces;
        (op, negated)
    })
}

/// `column.[not.]op.value` inside a tree.
fn condition(c: &mut Cursor) -> Result<Filter, Fail> {
    let field = field(c)?;
    c.expect('.', "\".\" and an operator after the column")?;
    op_expr(c, field, ValueEnd::Delimited)
}

// ---------------------------------------------------------------------------------------
// order, limit, offset, columns
// ---------------------------------------------------------------------------------------

/// `order=a.desc.nullslast,b`
pub fn parse_order(value: &str) -> Result<Vec<OrderTerm>, GrammarError> {
    run(value, "\",\" or end of input", |c| comma_separated(c, order_term))
        .map_err(|f| GrammarError::at("order", value, 0, f))
}

/// What may follow a field in `order`, after a `.`.
enum OrderModifier {
    Direction(Direction),
    Nulls(Nulls),
}

fn order_term(c: &mut Cursor) -> Result<OrderTerm, Fail> {
    let mut field = field(c)?;
    let mut embedded = None;
    if field.json_path.is_empty() && c.eat('(') {
        embedded = Some(std::mem::replace(&mut field, self::field(c)?).name);
        c.expect(')', "\")\" after the embedded resource's column")?;
    }
    let (mut direction, mut nulls) = (None, None);
    while c.eat('.') {
        let at = c.pos;
        match (order_modifier(c)?, direction, nulls) {
            (OrderModifier::Direction(d), None, None) => direction = Some(d),
            (OrderModifier::Nulls(n), _, None) => nulls = Some(n),
            _ => return Err(Fail::new(at, "misplaced order modifier (direction, then nulls, once each)")),
        }
    }
    c.skip_ws();
    Ok(OrderTerm { embedded, field, direction, nulls })
}

fn order_modifier(c: &mut Cursor) -> Result<OrderModifier, Fail> {
    let at = c.pos;
    match c.take_while(|ch, _| ch.is_ascii_alphabetic()).as_str() {
        "asc" => Ok(OrderModifier::Direction(Direction::Asc)),
        "desc" => Ok(OrderModifier::Direction(Direction::Desc)),
        "nullsfirst" => Ok(OrderModifier::Nulls(Nulls::First)),
        "nullslast" => Ok(OrderModifier::Nulls(Nulls::Last)),
        word => Err(Fail {
            at,
            problem: format!("unexpected order modifier \"{word}\""),
            expected: Some("asc, desc, nullsfirst or nullslast"),
        }),
    }
}

/// `columns=a,b` / `on_conflict=a,b`: at least one name; `param` names it in errors.
pub fn parse_columns(param: &str, value: &str) -> Result<Vec<String>, GrammarError> {
    run(value, "\",\" or end of input", |c| comma_separated(c, ident))
        .map_err(|f| GrammarError::at(&format!("{param} parameter"), value, 0, f))
}

/// Plain ASCII digits only (`u64::from_str` would also take a `+`); `None` on overflow.
pub(crate) fn non_negative(s: &str) -> Option<u64> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| s.parse().ok()).flatten()
}

fn count_param(key: &str, value: &str) -> Result<u64, GrammarError> {
    match value.strip_prefix('-').and_then(non_negative) {
        Some(_) if key.ends_with("limit") => return Err(GrammarError::negative_limit()),
        // A negative offset skips nothing, as PostgREST reads it.
        Some(_) => return Ok(0),
        None => {}
    }
    non_negative(value).ok_or_else(|| {
        GrammarError::new(format!("failed to parse {key} parameter ({value}): expected a non-negative integer"), value)
    })
}

// ---------------------------------------------------------------------------------------
// The query string
// ---------------------------------------------------------------------------------------

/// What a key says its parameter is; embed path prefixes are still text.
enum Param<'a> {
    Select,
    Columns,
    OnConflict,
    Order(&'a str),
    Limit(&'a str),
    Offset(&'a str),
    Logic {
        path: &'a str,
        op: LogicOp,
        negated: bool,
    },
    /// A filter or, if its value does not look like one, a function argument.
    Column,
}

fn classify(key: &str) -> Param<'_> {
    match key {
        "select" => return Param::Select,
        "columns" => return Param::Columns,
        "on_conflict" => return Param::OnConflict,
        _ => {}
    }
    let (prefix, last) = key.rsplit_once('.').unwrap_or(("", key));
    let op = match last {
        "order" => return Param::Order(prefix),
        "limit" => return Param::Limit(prefix),
        "offset" => return Param::Offset(prefix),
        "and" => LogicOp::And,
        "or" => LogicOp::Or,
        _ => return Param::Column,
    };
    match prefix.strip_suffix(".not") {
        Some(path) => Param::Logic { path, op, negated: true },
        None if prefix == "not" => Param::Logic { path: "", op, negated: true },
        None => Param::Logic { path: prefix, op, negated: false },
    }
}

/// The raw (percent-encoded) query string, parsed.
pub fn parse_query(query: &str) -> Result<QueryParams, GrammarError> {
    let mut params = QueryParams::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.add(&decode(pair, key)?, decode(pair, value)?)?;
    }
    Ok(params)
}

impl QueryParams {
    /// Whether `select` asks for an aggregate, at any level.
    pub fn uses_aggregates(&self) -> bool {
        fn any(items: &[SelectItem]) -> bool {
            items.iter().any(|item| match item {
                SelectItem::Aggregate { .. } => true,
                SelectItem::Embed { select, .. } => any(select),
                _ => false,
            })
        }
        self.select.as_deref().is_some_and(any)
    }

    /// Adds one decoded parameter; a repeated `select`, `columns` or `on_conflict` replaces.
    fn add(&mut self, key: &str, value: String) -> Result<(), GrammarError> {
        match classify(key) {
            Param::Select => self.select = Some(parse_select(&value)?).filter(|items| !items.is_empty()),
            Param::Columns => self.columns = Some(parse_columns("columns", &value)?),
            Param::OnConflict => self.on_conflict = Some(parse_columns("on_conflict", &value)?),
            Param::Order(path) => self.order.push((param_path(key, path)?, parse_order(&value)?)),
            Param::Limit(path) => {
                self.range(param_path(key, path)?).limit = Some(count_param(key, &value)?);
            }
            Param::Offset(path) => {
                self.range(param_path(key, path)?).offset = Some(count_param(key, &value)?);
            }
            Param::Logic { path, op, negated } => self.logic.push(logic_param(key, &value, path, op, negated)?),
            Param::Column if looks_like_filter(&value) => {
                self.filters.push(parse_filter(key, &value)?);
            }
            Param::Column => self.other.push((key.to_string(), value)),
        }
        Ok(())
    }

    /// The limits of one embed path, created empty on first use.
    fn range(&mut self, path: EmbedPath) -> &mut Range {
        let index = match self.limits.iter().position(|(p, _)| *p == path) {
            Some(i) => i,
            None => {
                self.limits.push((path, Range::default()));
                self.limits.len() - 1
            }
        };
        &mut self.limits[index].1
    }

    /// For table endpoints, which take no function arguments: a parameter in `other` is a
    /// filter whose value is not `op.value`, and PostgREST refuses it — ignoring it would
    /// widen a PATCH or DELETE to every row.
    pub fn reject_other(&self) -> Result<(), GrammarError> {
        match self.other.first() {
            None => Ok(()),
            Some((key, value)) => {
                Err(GrammarError::invalid_filter(&format!("{key}={value}"), "expected operator.value"))
            }
        }
    }
}

/// The embed path before `.order`, `.limit`, `.offset` in `key`.
fn param_path(key: &str, path: &str) -> Result<EmbedPath, GrammarError> {
    run(path, "\".\"", embed_path).map_err(|f| GrammarError::at("embedded path", key, 0, f))
}

/// `application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte (a `%` without two hex
/// digits stays itself, as PostgREST's decoder leaves it), and the bytes must be UTF-8. `pair`
/// is the raw `key=value`, for the error.
fn decode(pair: &str, raw: &str) -> Result<String, GrammarError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, bytes.get(i + 1..i + 3).and_then(hex_byte)) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(escaped)) => {
                out.push(escaped);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| {
        GrammarError::new(format!("failed to parse query string ({pair}): not valid UTF-8 once decoded"), pair)
    })
}

/// Two hex digits, as in `%2C`.
fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| char::from(b).to_digit(16);
    match pair {
        [hi, lo] => u8::try_from(digit(*hi)? * 16 + digit(*lo)?).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> QueryParams {
        parse_query(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        parse_query(s).expect_err(s).message().to_string()
    }

    fn f(name: &str) -> Field {
        Field { name: name.into(), json_path: vec![] }
    }

    fn json(name: &str, steps: &[(Arrow, JsonKey)]) -> Field {
        let json_path = steps.iter().map(|(arrow, key)| JsonStep { arrow: *arrow, key: key.clone() }).collect();
        Field { name: name.into(), json_path }
    }

    fn key(k: &str) -> JsonKey {
        JsonKey::Name(k.into())
    }

    fn col(name: &str) -> SelectItem {
        SelectItem::Field { alias: None, field: f(name), cast: None }
    }

    fn embed(relation: &str, select: Vec<SelectItem>) -> SelectItem {
        SelectItem::Embed { alias: None, relation: relation.into(), hint: None, join: None, spread: false, select }
    }

    fn filter(field: Field, op: Operator, value: FilterValue) -> Filter {
        Filter { field, negated: false, op, quantifier: None, language: None, value }
    }

    fn single(v: &str) -> FilterValue {
        FilterValue::Single(v.into())
    }

    fn list(vs: &[&str]) -> FilterValue {
        FilterValue::List(vs.iter().map(|v| v.to_string()).collect())
    }

    fn top(filter: Filter) -> EmbeddedFilter {
        EmbeddedFilter { path: vec![], filter }
    }

    /// The one filter of a query string.
    fn only_filter(s: &str) -> Filter {
        let p = q(s);
        assert_eq!(p.filters.len(), 1, "{s}: {p:?}");
        p.filters[0].filter.clone()
    }

    fn tree(op: LogicOp, negated: bool, children: Vec<LogicNode>) -> LogicTree {
        LogicTree { op, negated, children }
    }

    fn leaf(name: &str, op: Operator, v: &str) -> LogicNode {
        LogicNode::Filter(filter(f(name), op, single(v)))
    }

    fn path(names: &[&str]) -> EmbedPath {
        names.iter().map(|n| n.to_string()).collect()
    }

    // ---- select ----

    #[test]
    fn select_star_columns_alias_and_cast() {
        let p = q("select=*,id,full:name,age::text,%20n%20:%20%22my%20col%22%20::%20double%20precision%20");
        assert_eq!(
            p.select,
            Some(vec![
                SelectItem::Star,
                col("id"),
                SelectItem::Field { alias: Some("full".into()), field: f("name"), cast: None },
                SelectItem::Field { alias: None, field: f("age"), cast: Some("text".into()) },
                SelectItem::Field {
                    alias: Some("n".into()),
                    field: f("my col"),
                    cast: Some("double precision".into())
                },
            ])
        );
        assert_eq!(p, QueryParams { select: p.select.clone(), ..QueryParams::default() });
    }

    #[test]
    fn select_json_paths_with_alias_and_cast() {
        let items = parse_select(r#"data->a->>b,first:data->0,data->-1::int,x:data->>"0",my-col->"a.b""#).unwrap();
        assert_eq!(
            items,
            vec![
                SelectItem::Field {
                    alias: None,
                    field: json("data", &[(Arrow::Json, key("a")), (Arrow::Text, key("b"))]),
                    cast: None
                },
                SelectItem::Field {
                    alias: Some("first".into()),
                    field: json("data", &[(Arrow::Json, JsonKey::Index(0))]),
                    cast: None
                },
                SelectItem::Field {
                    alias: None,
                    field: json("data", &[(Arrow::Json, JsonKey::Index(-1))]),
                    cast: Some("int".into()),
                },
                SelectItem::Field {
                    alias: Some("x".into()),
                    field: json("data", &[(Arrow::Text, key("0"))]),
                    cast: None
                },
                SelectItem::Field { alias: None, field: json("my-col", &[(Arrow::Json, key("a.b"))]), cast: None },
            ]
        );
    }

    #[test]
    fn select_nested_embeds() {
        let items = parse_select("id,clients(id,projects(name,tasks(*)))").unwrap();
        assert_eq!(
            items,
            vec![
                col("id"),
                embed(
                    "clients",
                    vec![col("id"), embed("projects", vec![col("name"), embed("tasks", vec![SelectItem::Star])])]
                )
            ]
        );
    }

    #[test]
    fn select_embed_alias_hints_joins_and_empty() {
        let items = parse_select("c:clients!fk_x(*),b!inner(*),d!fk!left(),e!left!\"my fk\"(id)").unwrap();
        let e = |alias: Option<&str>, relation: &str, hint: Option<&str>, join, select| SelectItem::Embed {
            alias: alias.map(str::to_string),
            relation: relation.into(),
            hint: hint.map(str::to_string),
            join,
            spread: false,
            select,
        };
        assert_eq!(
            items,
            vec![
                e(Some("c"), "clients", Some("fk_x"), None, vec![SelectItem::Star]),
                e(None, "b", None, Some(JoinType::Inner), vec![SelectItem::Star]),
                e(None, "d", Some("fk"), Some(JoinType::Left), vec![]),
                e(None, "e", Some("my fk"), Some(JoinType::Left), vec![col("id")]),
            ]
        );
    }

    #[test]
    fn select_spread_embed() {
        let items = parse_select("title,...directors!inner(director:name, ...studios(city))").unwrap();
        let studios = SelectItem::Embed {
            alias: None,
            relation: "studios".into(),
            hint: None,
            join: None,
            spread: true,
            select: vec![col("city")],
        };
        let directors = SelectItem::Embed {
            alias: None,
            relation: "directors".into(),
            hint: None,
            join: Some(JoinType::Inner),
            spread: true,
            select: vec![SelectItem::Field { alias: Some("director".into()), field: f("name"), cast: None }, studios],
        };
        assert_eq!(items, vec![col("title"), directors]);
    }

    #[test]
    fn select_spread_with_hints_aliases_inside_and_nested_in_an_embed() {
        let spread = |relation: &str, hint: Option<&str>, join, select| SelectItem::Embed {
            alias: None,
            relation: relation.into(),
            hint: hint.map(str::to_string),
            join,
            spread: true,
            select,
        };
        let aliased =
            |alias: &str, name: &str| SelectItem::Field { alias: Some(alias.into()), field: f(name), cast: None };
        assert_eq!(
            parse_select("first_name,...departments(dept_name:name)").unwrap(),
            vec![col("first_name"), spread("departments", None, None, vec![aliased("dept_name", "name")])]
        );
        assert_eq!(
            parse_select("... departments!employees_department_fkey!inner(*)").unwrap(),
            vec![spread(
                "departments",
                Some("employees_department_fkey"),
                Some(JoinType::Inner),
                vec![SelectItem::Star]
            )]
        );
        assert_eq!(
            parse_select("films(title,...directors(director:name))").unwrap(),
            vec![embed(
                "films",
                vec![col("title"), spread("directors", None, None, vec![aliased("director", "name")])]
            )]
        );
        assert_eq!(parse_select("...\"my rel\"()").unwrap(), vec![spread("my rel", None, None, vec![])]);
        assert_eq!(
            q("select=name,...departments(dept:name)&departments.name=eq.Sales").filters,
            vec![EmbeddedFilter {
                path: path(&["departments"]),
                filter: filter(f("name"), Operator::Eq, single("Sales")),
            }]
        );
    }

    #[test]
    fn select_spread_errors() {
        // A spread has no alias of its own (its keys land in the parent), needs parentheses,
        // takes exactly three dots and no cast.
        assert_eq!(
            err("select=d:...departments(name)"),
            "failed to parse select parameter (d:...departments(name)): unexpected \".\" at 2, expected a name"
        );
        assert_eq!(
            err("select=..."),
            "failed to parse select parameter (...): unexpected end of input at 3, expected a name"
        );
        assert_eq!(
            err("select=..departments(name)"),
            "failed to parse select parameter (..departments(name)): unexpected \".\" at 0, expected a name"
        );
        assert_eq!(
            err("select=....departments(name)"),
            "failed to parse select parameter (....departments(name)): unexpected \".\" at 3, expected a name"
        );
        // A cast after it ends the list: PostgREST leaves the rest unread.
        assert_eq!(parse_select("...departments(name)::text").unwrap(), parse_select("...departments(name)").unwrap());
    }

    #[test]
    fn select_tolerates_whitespace_and_may_be_empty() {
        assert_eq!(
            parse_select("  id ,\tname , rel ( a , b ) ").unwrap(),
            vec![col("id"), col("name"), embed("rel", vec![col("a"), col("b")])]
        );
        assert_eq!(q("select=").select, None, "an empty list selects `*`, as in PostgREST");
        assert_eq!(q("").select, None);
    }

    #[test]
    fn select_errors_name_the_parameter_and_position() {
        let e = parse_query("select=id,(name").unwrap_err();
        assert_eq!(e.message(), "failed to parse select parameter (id,(name): unexpected \"(\" at 3, expected a name");
        assert_eq!(e.details(), Some("id,(name"));
        assert_eq!(e.code(), "PGRST100");
        assert_eq!(err("select=id,,name"), "failed to parse select parameter (id,,name): empty select item at 3");
        assert_eq!(err("select=id,"), "failed to parse select parameter (id,): empty select item at 3");
        assert_eq!(
            err("select=a(b"),
            "failed to parse select parameter (a(b): unexpected end of input at 3, expected \",\" or \")\""
        );
        // What follows a complete list is left unread, as PostgREST's parser leaves it.
        assert_eq!(parse_select("a)").unwrap(), parse_select("a").unwrap());
        assert_eq!(parse_select("name,rel(count)'").unwrap(), parse_select("name,rel(count)").unwrap());
        assert_eq!(
            err("select=a!b!c(*)"),
            "failed to parse select parameter (a!b!c(*)): more than one hint or join type at 4"
        );
        assert_eq!(
            err("select=a!inner!left(*)"),
            "failed to parse select parameter (a!inner!left(*)): more than one hint or join type at 8"
        );
        assert_eq!(
            err("select=a!inner"),
            "failed to parse select parameter (a!inner): unexpected end of input at 7, expected \"(\""
        );
        assert_eq!(err("select=x:*"), "failed to parse select parameter (x:*): unexpected \"*\" at 2, expected a name");
        assert_eq!(
            err("select=a::"),
            "failed to parse select parameter (a::): unexpected end of input at 3, expected a type name"
        );
        assert_eq!(
            err("select=...a"),
            "failed to parse select parameter (...a): unexpected end of input at 4, expected \"(\""
        );
        assert_eq!(
            err("select=%22a"),
            "failed to parse select parameter (\"a): unexpected end of input at 2, expected a closing \"\\\"\""
        );
        assert_eq!(
            err("select=d->99999999999999999999"),
            "failed to parse select parameter (d->99999999999999999999): JSON array index out of range at 3"
        );
    }

    #[test]
    fn select_nesting_is_bounded() {
        let nested = |n: usize| format!("{}x{}", "a(".repeat(n), ")".repeat(n));
        assert!(parse_select(&nested(MAX_DEPTH)).is_ok());
        let e = parse_select(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(
            e.message(),
            format!(
                "failed to parse select parameter ({}): parentheses nested deeper than 32 levels at 65",
                nested(33)
            )
        );
        assert!(parse_select(&"a(".repeat(100_000)).is_err());
    }

    // ---- filters ----

    #[test]
    fn every_simple_operator() {
        use Operator::*;
        let ops = [
            ("eq", Eq),
            ("neq", Neq),
            ("gt", Gt),
            ("gte", Gte),
            ("lt", Lt),
            ("lte", Lte),
            ("match", Match),
            ("imatch", Imatch),
            ("isdistinct", IsDistinct),
            ("cs", Cs),
            ("cd", Cd),
            ("ov", Ov),
            ("sl", Sl),
            ("sr", Sr),
            ("nxr", Nxr),
            ("nxl", Nxl),
            ("adj", Adj),
            ("fts", Fts),
            ("plfts", Plfts),
            ("phfts", Phfts),
            ("wfts", Wfts),
        ];
        for (name, op) in ops {
            assert_eq!(only_filter(&format!("c={name}.a*b")), filter(f("c"), op, single("a*b")), "{name}");
        }
    }

    #[test]
    fn like_and_ilike_turn_stars_into_percents() {
        assert_eq!(only_filter("name=like.*smith*"), filter(f("name"), Operator::Like, single("%smith%")));
        assert_eq!(only_filter("name=ilike.a%2Ab"), filter(f("name"), Operator::Ilike, single("a%b")));
    }

    #[test]
    fn values_are_verbatim_to_the_end() {
        assert_eq!(only_filter("v=eq.a.b=c,d)"), filter(f("v"), Operator::Eq, single("a.b=c,d)")));
        assert_eq!(only_filter("v=eq.%22q%22"), filter(f("v"), Operator::Eq, single("\"q\"")));
        assert_eq!(only_filter("v=eq."), filter(f("v"), Operator::Eq, single("")));
    }

    #[test]
    fn ranges_and_arrays_stay_raw() {
        assert_eq!(only_filter("r=cs.[1,5)"), filter(f("r"), Operator::Cs, single("[1,5)")));
        assert_eq!(only_filter("t=ov.%7Ba,b%7D"), filter(f("t"), Operator::Ov, single("{a,b}")));
    }

    #[test]
    fn quantifiers() {
        let quantified = |op, qu, v: &str| Filter { quantifier: Some(qu), ..filter(f("c"), op, single(v)) };
        assert_eq!(only_filter("c=eq(any).{1,2,3}"), quantified(Operator::Eq, Quantifier::Any, "{1,2,3}"));
        assert_eq!(only_filter("c=like(all).{a*,b*}"), quantified(Operator::Like, Quantifier::All, "{a%,b%}"));
        assert_eq!(
            only_filter("c=not.neq(all).{1}"),
            Filter { negated: true, ..quantified(Operator::Neq, Quantifier::All, "{1}") }
        );
        for op in ["gt", "gte", "lt", "lte", "ilike", "match", "imatch"] {
            assert_eq!(only_filter(&format!("c={op}(any).{{x}}")).quantifier, Some(Quantifier::Any), "{op}");
        }
        assert_eq!(
            err("c=eq(some).{1}"),
            "failed to parse filter (c=eq(some).{1}): unknown quantifier \"some\" at 5, expected any or all"
        );
        assert_eq!(err("c=cs(any).{1}"), "failed to parse filter (c=cs(any).{1}): unexpected \"(\" at 4, expected \".\" and a value after the operator");
    }

    #[test]
    fn in_lists_with_quotes_commas_escapes_and_spaces() {
        let v = only_filter(r#"id=in.(1, 2 ,"a,b","with \"quote\" and \\","(x)",,"")"#).value;
        assert_eq!(v, list(&["1", "2", "a,b", "with \"quote\" and \\", "(x)", "", ""]));
        assert_eq!(only_filter("id=in.(1%2C2,%22a%2Cb%22)").value, list(&["1", "2", "a,b"]));
        assert_eq!(only_filter("id=in.()").value, list(&[]));
        assert_eq!(
            only_filter("id=not.in.(x)"),
            Filter { negated: true, ..filter(f("id"), Operator::In, list(&["x"])) }
        );
    }

    #[test]
    fn in_list_errors() {
        assert_eq!(
            err("id=in.(1,2"),
            "failed to parse filter (id=in.(1,2): unexpected end of input at 10, expected \",\" or \")\""
        );
        assert_eq!(err("id=in.1,2"), "failed to parse filter (id=in.1,2): unexpected \"1\" at 6, expected \"(\"");
        // Quotes not followed by `,` or `)` are text, as PostgREST reads them.
        assert_eq!(only_filter("id=in.(%22a%22b)").value, list(&["\"a\"b"]));
        assert_eq!(only_filter("id=in.(%22)").value, list(&["\""]));
        assert_eq!(
            err("id=in.(1)x"),
            "failed to parse filter (id=in.(1)x): unexpected \"x\" at 9, expected end of input"
        );
    }

    #[test]
    fn is_values() {
        let cases = [
            ("null", IsValue::Null),
            ("NULL", IsValue::Null),
            ("not_null", IsValue::NotNull),
            ("true", IsValue::True),
            ("False", IsValue::False),
            ("unknown", IsValue::Unknown),
        ];
        for (text, value) in cases {
            assert_eq!(only_filter(&format!("c=is.{text}")), filter(f("c"), Operator::Is, FilterValue::Is(value)));
        }
        assert!(only_filter("c=not.is.null").negated);
        assert_eq!(err("c=is.maybe"), "failed to parse filter (c=is.maybe): unexpected is value \"maybe\" at 5, expected null, not_null, true, false or unknown");
    }

    #[test]
    fn text_search_with_language() {
        let fts = |op, lang: Option<&str>, v: &str| Filter {
            language: lang.map(str::to_string),
            ..filter(f("doc"), op, single(v))
        };
        assert_eq!(only_filter("doc=fts(english).cat"), fts(Operator::Fts, Some("english"), "cat"));
        assert_eq!(only_filter("doc=plfts.fat+cat"), fts(Operator::Plfts, None, "fat cat"));
        assert_eq!(only_filter("doc=phfts(french).le+chat"), fts(Operator::Phfts, Some("french"), "le chat"));
        assert_eq!(
            only_filter("doc=not.wfts(simple).%22a+b%22+-c"),
            Filter { negated: true, ..fts(Operator::Wfts, Some("simple"), "\"a b\" -c") }
        );
        assert_eq!(
            err("doc=fts().x"),
            "failed to parse filter (doc=fts().x): unexpected \")\" at 8, expected a text search language"
        );
    }

    #[test]
    fn negation() {
        assert_eq!(
            only_filter("age=not.gte.18"),
            Filter { negated: true, ..filter(f("age"), Operator::Gte, single("18")) }
        );
    }

    #[test]
    fn embedded_and_json_filter_keys() {
        let p = q("clients.projects.name=eq.x&data->>key=eq.y&clients.data->a->>0=gt.1&%22a.b%22=eq.z");
        assert_eq!(
            p.filters,
            vec![
                EmbeddedFilter {
                    path: path(&["clients", "projects"]),
                    filter: filter(f("name"), Operator::Eq, single("x"))
                },
                top(filter(json("data", &[(Arrow::Text, key("key"))]), Operator::Eq, single("y"))),
                EmbeddedFilter {
                    path: path(&["clients"]),
                    filter: filter(
                        json("data", &[(Arrow::Json, key("a")), (Arrow::Text, JsonKey::Index(0))]),
                        Operator::Gt,
                        single("1")
                    ),
                },
                top(filter(f("a.b"), Operator::Eq, single("z"))),
            ]
        );
        assert_eq!(
            err("a(b=eq.1"),
            "failed to parse filter (a(b=eq.1): unexpected \"(\" at 1, expected \".\", \"->\" or \"=\""
        );
        assert_eq!(err("=eq.1"), "failed to parse filter (=eq.1): unexpected end of input at 0, expected a name");
    }

    #[test]
    fn repeated_filters_on_one_column_are_all_kept() {
        let p = q("age=gt.1&age=lt.5");
        assert_eq!(
            p.filters,
            vec![top(filter(f("age"), Operator::Gt, single("1"))), top(filter(f("age"), Operator::Lt, single("5")))]
        );
    }

    #[test]
    fn values_that_are_not_filters_are_function_arguments() {
        let p = q("a=1&b=hello+world&c=eq&d=like(x)&e=EQ.1&f=foo.bar&g&h=eq.2");
        let other: Vec<(String, String)> = [
            ("a", "1"),
            ("b", "hello world"),
            ("c", "eq"),
            ("d", "like(x)"),
            ("e", "EQ.1"),
            ("f", "foo.bar"),
            ("g", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(p.other, other);
        assert_eq!(p.filters, vec![top(filter(f("h"), Operator::Eq, single("2")))]);
        let e = p.reject_other().unwrap_err();
        assert_eq!(e.message(), "failed to parse filter (a=1): expected operator.value");
        assert_eq!(e.details(), Some("a=1"));
        assert_eq!(q("h=eq.2").reject_other(), Ok(()));
    }

    #[test]
    fn values_that_start_like_filters_must_parse() {
        assert_eq!(err("age=not.gte"), "failed to parse filter (age=not.gte): unexpected end of input at 11, expected \".\" and a value after the operator");
        assert_eq!(err("age=not.foo.1"), "failed to parse filter (age=not.foo.1): unknown operator \"foo\" at 8");
        assert_eq!(err("age=not."), "failed to parse filter (age=not.): unexpected end of input at 8, expected an operator (eq, neq, gt, gte, lt, lte, like, …)");
    }

    #[test]
    fn looks_like_filter_rule() {
        for v in ["eq.1", "not.x", "in.(1)", "eq(any).{1}", "fts(english).a", "is.null", "eq(nay).x"] {
            assert!(looks_like_filter(v), "{v}");
        }
        for v in ["1", "eq", "eqq.1", "EQ.1", "like(x)", "fts(", "", "é.1", "in(.x"] {
            assert!(!looks_like_filter(v), "{v}");
        }
    }

    #[test]
    fn invalid_filter_for_the_planner() {
        let e = GrammarError::invalid_filter("age", "this operator takes no quantifier");
        assert_eq!(e.message(), "failed to parse filter (age): this operator takes no quantifier");
        assert_eq!(e.details(), Some("age"));
        assert_eq!(e.to_string(), e.message());
    }

    // ---- logic trees ----

    #[test]
    fn simple_or() {
        let p = q("or=(age.gte.18,name.eq.x)");
        let children = vec![leaf("age", Operator::Gte, "18"), leaf("name", Operator::Eq, "x")];
        assert_eq!(p.logic, vec![EmbeddedLogic { path: vec![], tree: tree(LogicOp::Or, false, children) }]);
    }

    #[test]
    fn nested_trees() {
        let p = q("or=(a.eq.1,%20and(b.gt.2,c.lt.3),not.and(d.eq.4,or(e.eq.5)))");
        let expected = tree(
            LogicOp::Or,
            false,
            vec![
                leaf("a", Operator::Eq, "1"),
                LogicNode::Tree(tree(
                    LogicOp::And,
                    false,
                    vec![leaf("b", Operator::Gt, "2"), leaf("c", Operator::Lt, "3")],
                )),
                LogicNode::Tree(tree(
                    LogicOp::And,
                    true,
                    vec![
                        leaf("d", Operator::Eq, "4"),
                        LogicNode::Tree(tree(LogicOp::Or, false, vec![leaf("e", Operator::Eq, "5")])),
                    ],
                )),
            ],
        );
        assert_eq!(p.logic[0].tree, expected);
    }

    #[test]
    fn negated_and_embedded_trees() {
        let p =
            q("not.or=(a.eq.1)&and=(b.eq.2)&not.and=(c.eq.3)&clients.or=(d.eq.4)&clients.projects.not.and=(e.eq.5)");
        let got: Vec<(EmbedPath, LogicOp, bool)> =
            p.logic.iter().map(|l| (l.path.clone(), l.tree.op, l.tree.negated)).collect();
        assert_eq!(
            got,
            vec![
                (vec![], LogicOp::Or, true),
                (vec![], LogicOp::And, false),
                (vec![], LogicOp::And, true),
                (path(&["clients"]), LogicOp::Or, false),
                (path(&["clients", "projects"]), LogicOp::And, true),
            ]
        );
        assert_eq!(p.logic[4].tree.children, vec![leaf("e", Operator::Eq, "5")]);
    }

    #[test]
    fn tree_values_quoted_arrays_lists_and_operators() {
        let p = q(
            r#"or=(name.eq."a,b",name.eq."(x)",tags.cs.{a,b},id.in.(1,"2,3"),t.fts(english).cat,n.not.is.null,x.like.*a*,y.eq(any).{1,2},r.ov."[1,5)",d->>k.eq.%20v%20)"#,
        );
        let children = vec![
            leaf("name", Operator::Eq, "a,b"),
            leaf("name", Operator::Eq, "(x)"),
            leaf("tags", Operator::Cs, "{a,b}"),
            LogicNode::Filter(filter(f("id"), Operator::In, list(&["1", "2,3"]))),
            LogicNode::Filter(Filter {
                language: Some("english".into()),
                ..filter(f("t"), Operator::Fts, single("cat"))
            }),
            LogicNode::Filter(Filter { negated: true, ..filter(f("n"), Operator::Is, FilterValue::Is(IsValue::Null)) }),
            leaf("x", Operator::Like, "%a%"),
            LogicNode::Filter(Filter {
                quantifier: Some(Quantifier::Any),
                ..filter(f("y"), Operator::Eq, single("{1,2}"))
            }),
            leaf("r", Operator::Ov, "[1,5)"),
            LogicNode::Filter(filter(json("d", &[(Arrow::Text, key("k"))]), Operator::Eq, single("v"))),
        ];
        assert_eq!(p.logic[0].tree, tree(LogicOp::Or, false, children));
        let nested_array = q("or=(m.cs.{{1,2},{3}})");
        assert_eq!(nested_array.logic[0].tree.children, vec![leaf("m", Operator::Cs, "{{1,2},{3}}")]);
    }

    #[test]
    fn tree_conditions_on_columns_named_and_or_not() {
        let p = q("or=(and.eq.1,not.eq.2,or.not.eq.3)");
        let children = vec![
            leaf("and", Operator::Eq, "1"),
            leaf("not", Operator::Eq, "2"),
            LogicNode::Filter(Filter { negated: true, ..filter(f("or"), Operator::Eq, single("3")) }),
        ];
        assert_eq!(p.logic[0].tree, tree(LogicOp::Or, false, children));
    }

    #[test]
    fn trees_as_postgrest_reads_them_spaces_and_what_follows() {
        let spaced =
            q("and=(%20and%20(%20id.in.(%201,%202%20)%20,%20id.eq.3%20)%20,%20or%20(%20id.eq.2%20,%20id.eq.3%20)%20)");
        let plain = q("and=(and(id.in.(1,2),id.eq.3),or(id.eq.2,id.eq.3))");
        assert_eq!(spaced.logic, plain.logic);
        assert_eq!(q("and=(id.eq.1,id.neq.2))").logic, q("and=(id.eq.1,id.neq.2)").logic);
        assert_eq!(q("or=(a.eq.1)x").logic, q("or=(a.eq.1)").logic);
    }

    #[test]
    fn tree_quotes_not_closing_a_value_are_text() {
        assert_eq!(q("or=(a.eq.%22x)").logic[0].tree, tree(LogicOp::Or, false, vec![leaf("a", Operator::Eq, "\"x")]));
    }

    #[test]
    fn tree_errors() {
        assert_eq!(err("or=()"), "failed to parse logic tree (or=()): unexpected \")\" at 4, expected a name");
        assert_eq!(
            err("or=(a.eq.1"),
            "failed to parse logic tree (or=(a.eq.1): unexpected end of input at 10, expected \",\" or \")\""
        );
        assert_eq!(err("or=a.eq.1"), "failed to parse logic tree (or=a.eq.1): unexpected \"a\" at 3, expected \"(\"");
        assert_eq!(
            err("or=(a.eq.1,)"),
            "failed to parse logic tree (or=(a.eq.1,)): unexpected \")\" at 11, expected a name"
        );
        assert_eq!(err("or=(a.foo.1)"), "failed to parse logic tree (or=(a.foo.1)): unknown operator \"foo\" at 6");
        assert_eq!(err("or=(a)"), "failed to parse logic tree (or=(a)): unexpected \")\" at 5, expected \".\" and an operator after the column");
        assert_eq!(err("or=(a.is.maybe)"), "failed to parse logic tree (or=(a.is.maybe)): unexpected is value \"maybe\" at 9, expected null, not_null, true, false or unknown");
        assert_eq!(
            err("or=(a.eq.{1,2)"),
            "failed to parse logic tree (or=(a.eq.{1,2)): unexpected end of input at 14, expected a closing \"}\""
        );
        assert_eq!(
            err("a(.or=(b.eq.1)"),
            "failed to parse logic tree (a(.or=(b.eq.1)): unexpected \"(\" at 1, expected \".\""
        );
    }

    #[test]
    fn tree_nesting_is_bounded() {
        let nested = |n: usize| format!("or=({}a.eq.1{})", "and(".repeat(n - 1), ")".repeat(n - 1));
        assert!(parse_query(&nested(MAX_DEPTH)).is_ok());
        assert!(err(&nested(MAX_DEPTH + 1)).ends_with("parentheses nested deeper than 32 levels at 131"));
        assert!(parse_query(&format!("or=({}", "or(".repeat(50_000))).is_err());
    }

    #[test]
    fn parse_logic_helper_checks_its_key() {
        let l = parse_logic("clients.not.or", "(a.eq.1)").unwrap();
        assert_eq!(
            l,
            EmbeddedLogic {
                path: path(&["clients"]),
                tree: tree(LogicOp::Or, true, vec![leaf("a", Operator::Eq, "1")])
            }
        );
        assert_eq!(
            parse_logic("x", "(a.eq.1)").unwrap_err().message(),
            "failed to parse logic tree (x=(a.eq.1)): expected the key and, or, not.and or not.or"
        );
    }

    // ---- order, limit, offset ----

    #[test]
    fn order_terms() {
        let p = q("order=name.desc,age,data->>k.asc.nullslast,%22x%20y%22.nullsfirst&clients.order=id.desc");
        let term = |field, direction, nulls| OrderTerm { embedded: None, field, direction, nulls };
        let related = parse_order("clients(name).desc.nullsfirst").unwrap();
        assert_eq!(
            related,
            vec![OrderTerm {
                embedded: Some("clients".into()),
                ..term(f("name"), Some(Direction::Desc), Some(Nulls::First))
            }]
        );
        assert_eq!(
            p.order,
            vec![
                (
                    vec![],
                    vec![
                        term(f("name"), Some(Direction::Desc), None),
                        term(f("age"), None, None),
                        term(json("data", &[(Arrow::Text, key("k"))]), Some(Direction::Asc), Some(Nulls::Last)),
                        term(f("x y"), None, Some(Nulls::First)),
                    ]
                ),
                (path(&["clients"]), vec![term(f("id"), Some(Direction::Desc), None)]),
            ]
        );
    }

    #[test]
    fn order_errors() {
        assert_eq!(err("order="), "failed to parse order (): unexpected end of input at 0, expected a name");
        assert_eq!(err("order=a.up"), "failed to parse order (a.up): unexpected order modifier \"up\" at 2, expected asc, desc, nullsfirst or nullslast");
        assert_eq!(err("order=a.nullsfirst.desc"), "failed to parse order (a.nullsfirst.desc): misplaced order modifier (direction, then nulls, once each) at 13");
        assert_eq!(
            err("order=a.desc.asc"),
            "failed to parse order (a.desc.asc): misplaced order modifier (direction, then nulls, once each) at 7"
        );
        assert_eq!(err("order=a,,b"), "failed to parse order (a,,b): unexpected \",\" at 2, expected a name");
    }

    #[test]
    fn limits_merge_per_embed_path() {
        let p = q("limit=10&offset=5&clients.limit=2&limit=20&clients.projects.offset=0");
        assert_eq!(
            p.limits,
            vec![
                (vec![], Range { offset: Some(5), limit: Some(20) }),
                (path(&["clients"]), Range { offset: None, limit: Some(2) }),
                (path(&["clients", "projects"]), Range { offset: Some(0), limit: None }),
            ]
        );
    }

    #[test]
    fn limit_errors() {
        let negative = parse_query("limit=-1").unwrap_err();
        assert!(negative.is_unsatisfiable_range() && negative.message().contains("Limit"), "{negative:?}");
        assert_eq!(q("offset=-1").limits[0].1.offset, Some(0), "a negative offset skips nothing");
        assert_eq!(err("offset=abc"), "failed to parse offset parameter (abc): expected a non-negative integer");
        assert_eq!(err("limit=%2B1"), "failed to parse limit parameter (+1): expected a non-negative integer");
        assert_eq!(err("limit="), "failed to parse limit parameter (): expected a non-negative integer");
        assert_eq!(
            err("a.limit=99999999999999999999"),
            "failed to parse a.limit parameter (99999999999999999999): expected a non-negative integer"
        );
        assert_eq!(
            err("a(.limit=1"),
            "failed to parse embedded path (a(.limit): unexpected \"(\" at 1, expected \".\""
        );
    }

    // ---- columns, on_conflict ----

    #[test]
    fn columns_and_on_conflict() {
        let p = q("columns=a,%20b,%22c%20d%22&on_conflict=id,tenant_id");
        assert_eq!(p.columns, Some(vec!["a".to_string(), "b".into(), "c d".into()]));
        assert_eq!(p.on_conflict, Some(vec!["id".to_string(), "tenant_id".into()]));
        assert_eq!(
            err("columns="),
            "failed to parse columns parameter (): unexpected end of input at 0, expected a name"
        );
        assert_eq!(
            err("on_conflict=a,,b"),
            "failed to parse on_conflict parameter (a,,b): unexpected \",\" at 2, expected a name"
        );
        assert_eq!(
            err("columns=a.b"),
            "failed to parse columns parameter (a.b): unexpected \".\" at 1, expected \",\" or end of input"
        );
    }

    // ---- decoding ----

    #[test]
    fn percent_decoding_and_plus_as_space() {
        let p = q("select=id%2Cname&na%6De=eq.a%20b+c&u=eq.%E2%9C%93&first+name=eq.x");
        assert_eq!(p.select, Some(vec![col("id"), col("name")]));
        assert_eq!(
            p.filters,
            vec![
                top(filter(f("name"), Operator::Eq, single("a b c"))),
                top(filter(f("u"), Operator::Eq, single("✓"))),
                top(filter(f("first name"), Operator::Eq, single("x"))),
            ]
        );
        assert_eq!(only_filter("v=eq.%2B1").value, single("+1"));
    }

    #[test]
    fn a_percent_without_hex_digits_stays_and_bad_utf8_is_an_error() {
        assert_eq!(only_filter("a=eq.%zz").value, single("%zz"));
        assert_eq!(only_filter("a=eq.x%4").value, single("x%4"));
        assert_eq!(only_filter("a=eq.%+1").value, single("% 1"));
        assert_eq!(err("a=%C3%28"), "failed to parse query string (a=%C3%28): not valid UTF-8 once decoded");
        assert_eq!(parse_query("a=%C3%28").unwrap_err().details(), Some("a=%C3%28"));
    }

    #[test]
    fn empty_pieces_are_ignored() {
        assert_eq!(q(""), QueryParams::default());
        assert_eq!(q("&&"), QueryParams::default());
        assert_eq!(q("&a=eq.1&").filters, vec![top(filter(f("a"), Operator::Eq, single("1")))]);
    }

    #[test]
    fn a_full_request() {
        let p = q("select=id,c:clients!inner(name)&clients.name=ilike.*a*&or=(x.eq.1,y.is.true)&order=id.desc&limit=10&offset=20&x=1");
        let expected = QueryParams {
            select: Some(vec![
                col("id"),
                SelectItem::Embed {
                    alias: Some("c".into()),
                    relation: "clients".into(),
                    hint: None,
                    join: Some(JoinType::Inner),
                    spread: false,
                    select: vec![col("name")],
                },
            ]),
            filters: vec![EmbeddedFilter {
                path: path(&["clients"]),
                filter: filter(f("name"), Operator::Ilike, single("%a%")),
            }],
            logic: vec![EmbeddedLogic {
                path: vec![],
                tree: tree(
                    LogicOp::Or,
                    false,
                    vec![
                        leaf("x", Operator::Eq, "1"),
                        LogicNode::Filter(filter(f("y"), Operator::Is, FilterValue::Is(IsValue::True))),
                    ],
                ),
            }],
            order: vec![(
                vec![],
                vec![OrderTerm { embedded: None, field: f("id"), direction: Some(Direction::Desc), nulls: None }],
            )],
            limits: vec![(vec![], Range { offset: Some(20), limit: Some(10) })],
            columns: None,
            on_conflict: None,
            other: vec![("x".into(), "1".into())],
        };
        assert_eq!(p, expected);
    }

    // ---- never panics ----

    /// Pieces of the grammar, so that random input reaches deep into the parsers.
    fn grammar_soup() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "select=",
            "order=",
            "or=(",
            "and(",
            "not.",
            "not.or=",
            "eq.",
            "in.(",
            "is.",
            "fts(english).",
            "eq(any).",
            "->",
            "->>",
            "::",
            "\"",
            "\\",
            "(",
            ")",
            ",",
            ".",
            "!inner",
            "!",
            "...",
            "a",
            "b",
            "0",
            "-1",
            "&",
            "=",
            "%2C",
            "%",
            "{",
            "}",
            "*",
            ":",
            " ",
            "limit=",
            "c.limit=",
            "columns=",
            "é",
            "%E2%9C",
            "+",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|ps| ps.concat())
    }

    proptest! {
        #[test]
        fn parse_query_never_panics_on_any_string(s in any::<String>()) {
            let _ = parse_query(&s);
        }

        #[test]
        fn parse_query_never_panics_on_grammar_chars(s in r#"[a-z.,()!:*"\\\-> =&%{}\[\]0-9]{0,80}"#) {
            let _ = parse_query(&s);
        }

        #[test]
        fn parsers_never_panic_on_grammar_soup(s in grammar_soup()) {
            let _ = parse_query(&s);
            let _ = parse_select(&s);
            let _ = parse_order(&s);
            let _ = parse_logic("or", &s);
            let _ = parse_filter("a", &s);
            let _ = parse_filter(&s, "eq.1");
            let _ = parse_columns("columns", &s);
        }

        #[test]
        fn eq_values_come_back_verbatim(column in "[a-z_][a-z0-9_]{0,10}", value in "[a-zA-Z0-9 .,()]{0,20}") {
            prop_assume!(!matches!(column.as_str(), "select" | "order" | "limit" | "offset" | "columns" | "on_conflict" | "and" | "or"));
            let p = parse_query(&format!("{column}=eq.{}", value.replace(' ', "+"))).unwrap();
            prop_assert_eq!(p.filters, vec![top(filter(f(&column), Operator::Eq, single(&value)))]);
        }
    }
}
