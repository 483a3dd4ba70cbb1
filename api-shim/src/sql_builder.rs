//! The plan as one SQL statement. Values only ever become `$n` parameters (sent as text and
//! cast to the column's type by PostgreSQL); identifiers come from the schema cache and are
//! quoted by `ident`. PostgreSQL builds the response body (`json_agg`) in the same statement.
use crate::operators::{Kind, Operator};
use crate::plan_types::*;

/// The rows of every statement: (total count if asked, rows in this response, body).
pub struct Statement {
    pub sql: String,
    pub params: Vec<Option<String>>,
    /// Planned without its parameters' values (`plan_cache_mode = force_generic_plan`): an
    /// insert's `VALUES`, whose casts PostgreSQL would otherwise fold while planning, so a
    /// bad value would be refused before the role's privileges are checked (the record reads
    /// values as it runs, after them).
    pub generic_plan: bool,
}

/// The alias of the relation at nesting `depth` (0: the target), so column references never
/// clash with a CTE's, a body record's or an enclosing level's columns.
fn alias(depth: usize) -> String {
    format!("\"_pgrst_{depth}\"")
}

pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn target(t: &Target) -> String {
    format!("{}.{}", ident(&t.schema), ident(&t.name))
}

#[derive(Default)]
struct Params(Vec<Option<String>>);

impl Params {
    /// Binds a text value and returns the placeholder, cast to `type_name`: a type name from
    /// the schema cache (`format_type` output) or one of ours, never request text.
    fn bind(&mut self, value: &str, type_name: &str) -> String {
        self.bind_or_null(Some(value), type_name)
    }

    /// `bind`, or a NULL of the type.
    fn bind_or_null(&mut self, value: Option<&str>, type_name: &str) -> String {
        self.0.push(value.map(str::to_string));
        format!("${}::text::{}", self.0.len(), unsized_type(type_name))
    }
}

/// The type a value is cast to keeping its length: `character` and `bit` without a length
/// (`format_type` without modifiers) are one character and one bit; `bpchar` and `varbit` are
/// any, and the column or parameter then checks its own.
fn unsized_type(type_name: &str) -> &str {
    match type_name {
        "character" => "bpchar",
        "character[]" => "bpchar[]",
        "bit" => "varbit",
        "bit[]" => "varbit[]",
        other => other,
    }
}

fn expr(e: &Expr, a: &str) -> String {
    let mut sql = match &e.function {
        // The row goes in whole, cast to its type (a write's returned rows are plain records).
        Some((function, row_type)) => format!("{}({a}::{})", target(function), target(row_type)),
        None => format!("{a}.{}", ident(&e.column)),
    };
    // A path into anything but JSON (an array, a composite) goes through its JSON, as PostgREST.
    if !e.path.is_empty() && !matches!(e.column_type.as_str(), "json" | "jsonb") {
        sql = format!("to_jsonb({sql})");
    }
    for step in &e.path {
        sql.push_str(match step.arrow {
            Arrow::Json => "->",
            Arrow::Text => "->>",
        });
        match &step.key {
            JsonKey::Name(n) => sql.push_str(&format!("'{}'", n.replace('\'', "''"))),
            JsonKey::Index(i) => sql.push_str(&i.to_string()),
        }
    }
    sql
}

/// A query-string value compared with `e`: bound as the expression's type, or as text read
/// through the data representation of the column's domain.
fn value(e: &Expr, value: &str, p: &mut Params) -> String {
    match &e.from_text {
        Some(function) => format!("{function}({})", p.bind(value, "text")),
        None => p.bind(value, e.value_type()),
    }
}

/// The SQL of a comparison (the planner only makes `Compare`/`Quantified` of operators that have one).
fn compare_op(op: Operator) -> &'static str {
    op.binary_sql().expect("a comparison operator")
}

/// A condition on the relation aliased `a` at nesting `depth`.
fn condition(c: &Condition, a: &str, depth: usize, p: &mut Params) -> String {
    match c {
        Condition::And(items) if items.is_empty() => "true".into(),
        Condition::Or(items) if items.is_empty() => "false".into(),
        Condition::And(items) => {
            format!("({})", items.iter().map(|i| condition(i, a, depth, p)).collect::<Vec<_>>().join(" AND "))
        }
        Condition::Or(items) => {
            format!("({})", items.iter().map(|i| condition(i, a, depth, p)).collect::<Vec<_>>().join(" OR "))
        }
        Condition::Not(inner) => format!("NOT {}", condition(inner, a, depth, p)),
        Condition::Compare { expr: e, op, value } if op.is_pattern() => {
            format!("{}::text {} {}", expr(e, a), compare_op(*op), p.bind(value, "text"))
        }
        Condition::Compare { expr: e, op, value } => {
            format!("{} {} {}", expr(e, a), compare_op(*op), self::value(e, value, p))
        }
        Condition::Quantified { expr: e, op, quantifier, array } => {
            let (lhs, element) =
                if op.is_pattern() { (format!("{}::text", expr(e, a)), "text") } else { (expr(e, a), e.value_type()) };
            let q = match quantifier {
                Quantifier::Any => "ANY",
                Quantifier::All => "ALL",
            };
            let array = match &e.from_text {
                Some(function) if !op.is_pattern() => {
                    format!("ARRAY(SELECT {function}(unnest({})))", p.bind(array, "text[]"))
                }
                _ => p.bind(array, &format!("{element}[]")),
            };
            format!("{lhs} {} {q}({array})", compare_op(*op))
        }
        Condition::In { values, .. } if values.is_empty() => "false".into(),
        Condition::In { expr: e, values } => {
            let list: Vec<String> = values.iter().map(|v| value(e, v, p)).collect();
            format!("{} IN ({})", expr(e, a), list.join(", "))
        }
        Condition::Is { expr: e, value } => format!(
            "{} IS {}",
            expr(e, a),
            match value {
                IsValue::Null => "NULL",
                IsValue::NotNull => "NOT NULL",
                IsValue::True => "TRUE",
                IsValue::False => "FALSE",
                IsValue::Unknown => "UNKNOWN",
            }
        ),
        Condition::Search { expr: e, op, language, query } => {
            let Kind::Search { tsquery: function } = op.kind() else {
                unreachable!("the planner makes searches of search operators")
            };
            let config = language.as_ref().map(|l| format!("{}, ", p.bind(l, "regconfig")));
            let config = config.unwrap_or_default();
            let document = if e.value_type() == "tsvector" {
                expr(e, a)
            } else {
                format!("to_tsvector({config}{}::text)", expr(e, a))
            };
            format!("{document} @@ {function}({config}{})", p.bind(query, "text"))
        }
        Condition::EmbedExists(embed) => {
            format!("EXISTS ({})", embedded_rows(embed, a, depth, p))
        }
    }
}

/// The alias of the `n`th item of the select list at nesting `depth` that is spread: its
/// row is joined laterally to the level's FROM item.
fn spread_alias(depth: usize, n: usize) -> String {
    format!("\"_pgrst_s{depth}_{n}\"")
}

/// The rows of a many-to-many junction table at nesting `depth`.
fn junction_alias(depth: usize) -> String {
    format!("\"_pgrst_j{depth}\"")
}

/// ` LEFT JOIN LATERAL (…) AS … ON true` for each spread of the select list, its columns the
/// spread's keys: a to-one relationship's one row (all null without a match); a to-many one's
/// rows aggregated, each key an array of their values in the embed's order (`[]` without rows).
fn spread_joins(items: &[Projection], a: &str, depth: usize, p: &mut Params) -> String {
    let mut sql = String::new();
    for (n, item) in items.iter().enumerate() {
        if let Projection::Spread(embed) = item {
            let mut rows = embedded_rows(embed, a, depth, p);
            if embed.many {
                let arrays: Vec<String> = item
                    .keys()
                    .iter()
                    .map(|k| format!("coalesce(json_agg(_pgrst_e.{0}), '[]') AS {0}", ident(k)))
                    .collect();
                rows = format!("SELECT {} FROM ({rows}) AS _pgrst_e", arrays.join(", "));
            }
            sql.push_str(&format!(" LEFT JOIN LATERAL ({rows}) AS {} ON true", spread_alias(depth, n)));
        }
    }
    sql
}

/// `(sql)::type`: the parentheses keep the cast on the whole expression (`(x->>'k')::int`, not
/// `x->>('k'::int)`). The planner admits only type names of letters, digits, `_`, spaces, `[]`.
fn cast_to(sql: String, cast: &Option<String>) -> String {
    match cast {
        Some(type_name) => format!("({sql})::{type_name}"),
        None => sql,
    }
}

fn projection(items: &[Projection], a: &str, depth: usize, p: &mut Params) -> String {
    items
        .iter()
        .enumerate()
        .map(|(n, item)| match item {
            Projection::All => format!("{a}.*"),
            Projection::Field { expr: e, alias, cast } => {
                // A domain with a data representation is written through its function.
                let value = match &e.to_json {
                    Some(function) => format!("{function}({})", expr(e, a)),
                    None => expr(e, a),
                };
                format!("{} AS {}", cast_to(value, cast), ident(alias))
            }
            Projection::Aggregate { function, expr: e, input_cast, cast, alias } => {
                let input = e.as_ref().map_or_else(|| "*".to_string(), |e| cast_to(expr(e, a), input_cast));
                format!("{} AS {}", cast_to(format!("{}({input})", function.name()), cast), ident(alias))
            }
            Projection::Embed(embed) => {
                let rows = embedded_rows(embed, a, depth, p);
                // As `jsonb`, as PostgREST embeds them (its bodies' bytes: `{"id": 1}`). A to-one
                // computed relationship may return several rows: the first (PostgREST's join
                // repeats the parent for each; one value cannot be several).
                let value = if embed.many {
                    format!("coalesce((SELECT json_agg(_pgrst_e)::jsonb FROM ({rows}) AS _pgrst_e), '[]')")
                } else {
                    format!("(SELECT row_to_json(_pgrst_e)::jsonb FROM ({rows}) AS _pgrst_e LIMIT 1)")
                };
                format!("{value} AS {}", ident(&embed.name))
            }
            Projection::Spread(_) => format!("{}.*", spread_alias(depth, n)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `l.x = r.y AND …` over column pairs.
fn equal_columns(pairs: &[(String, String)], l: &str, r: &str) -> Vec<String> {
    pairs.iter().map(|(x, y)| format!("{l}.{} = {r}.{}", ident(x), ident(y))).collect()
}

/// The rows of an embedded resource that belong to the parent row aliased `parent`:
/// its own level's query, joined on the foreign key, or for many-to-many, those a junction
/// row pairs with the parent (a semi-join: each row once, however many junction rows).
fn embedded_rows(embed: &Embed, parent: &str, depth: usize, p: &mut Params) -> String {
    let a = alias(depth + 1);
    let join = match &embed.join {
        Join::Direct(pairs) => equal_columns(pairs, &a, parent).join(" AND "),
        Join::Junction { table, parent: to_parent, child } => {
            let j = junction_alias(depth + 1);
            let mut on = equal_columns(child, &j, &a);
            on.extend(equal_columns(to_parent, &j, parent));
            format!("EXISTS (SELECT 1 FROM {} AS {j} WHERE {})", target(table), on.join(" AND "))
        }
        Join::Computed { function, row_type } => {
            // The function's rows for this parent row are the embedded rows.
            let from = Source::Rows { function: function.clone(), argument: format!("{parent}::{}", target(row_type)) };
            return level_query(&from, &embed.query, depth + 1, p, "");
        }
    };
    level_query(&Source::Relation(embed.target.clone()), &embed.query, depth + 1, p, &join)
}

/// `VARIADIC ` before the variadic argument: its array is passed whole.
fn variadic_keyword(name: &str, variadic: &Option<String>) -> &'static str {
    if variadic.as_deref() == Some(name) {
        "VARIADIC "
    } else {
        ""
    }
}

/// `"schema"."function"(name => value, ...)`, values bound; with JSON arguments, the
/// `json_to_record` they are read from comes first, joined laterally.
fn call(function: &Target, args: &CallArgs, p: &mut Params) -> (String, String) {
    match args {
        CallArgs::Text { args, variadic } => {
            let named: Vec<String> = args
                .iter()
                .map(|(n, t, v)| format!("{}{} => {}", variadic_keyword(n, variadic), ident(n), p.bind(v, t)))
                .collect();
            (String::new(), format!("{}({})", target(function), named.join(", ")))
        }
        CallArgs::Json { object, args, variadic } => {
            let columns: Vec<String> = args.iter().map(|(n, t)| format!("{} {}", ident(n), unsized_type(t))).collect();
            let named: Vec<String> = args
                .iter()
                .map(|(n, _)| format!("{}{1} => _pgrst_args.{1}", variadic_keyword(n, variadic), ident(n)))
                .collect();
            let record = if args.is_empty() {
                String::new()
            } else {
                format!(
                    "json_to_record({}) AS _pgrst_args ({}) CROSS JOIN LATERAL ",
                    p.bind(object, "json"),
                    columns.join(", ")
                )
            };
            (record, format!("{}({})", target(function), named.join(", ")))
        }
        CallArgs::Whole { value, type_name } => {
            (String::new(), format!("{}({})", target(function), p.bind(value, type_name)))
        }
    }
}

/// The FROM item of a level: the relation or function call, aliased `a`.
fn from_item(source: &Source, a: &str, p: &mut Params) -> String {
    match source {
        Source::Relation(t) => format!("{} AS {a}", target(t)),
        Source::Rows { function, argument } => format!("{}({argument}) AS {a}", target(function)),
        Source::Call { function, args } => {
            let (record, call) = call(function, args, p);
            format!("{record}{call} AS {a}")
        }
    }
}

/// One level's `SELECT … FROM … WHERE … ORDER BY … LIMIT … OFFSET …`.
/// With aggregates, PostgREST groups by every other selected field.
fn group_by(items: &[Projection], a: &str) -> String {
    if !items.iter().any(|i| matches!(i, Projection::Aggregate { .. })) {
        return String::new();
    }
    let fields: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Projection::Field { expr: e, .. } => Some(expr(e, a)),
            _ => None,
        })
        .collect();
    if fields.is_empty() {
        return String::new();
    }
    format!(" GROUP BY {}", fields.join(", "))
}

fn level_query(source: &Source, level: &Level, depth: usize, p: &mut Params, join: &str) -> String {
    let a = alias(depth);
    let from = from_item(source, &a, p) + &spread_joins(&level.select, &a, depth, p);
    let filter = condition(&level.filter, &a, depth, p);
    let filter = if join.is_empty() { filter } else { format!("{join} AND {filter}") };
    let mut sql = format!(
        "SELECT {} FROM {from} WHERE {filter}{}{}",
        projection(&level.select, &a, depth, p),
        group_by(&level.select, &a),
        order(&level.order, &a, depth, p)
    );
    if let Some(limit) = level.limit {
        sql.push_str(&format!(" LIMIT {}", p.bind(&limit.to_string(), "bigint")));
    }
    if level.offset > 0 {
        sql.push_str(&format!(" OFFSET {}", p.bind(&level.offset.to_string(), "bigint")));
    }
    sql
}

fn order(items: &[Ordering], a: &str, depth: usize, p: &mut Params) -> String {
    if items.is_empty() {
        return String::new();
    }
    let terms: Vec<String> = items
        .iter()
        .map(|o| {
            let value = match &o.embedded {
                None => expr(&o.expr, a),
                // The embedded to-one row's column, as a scalar subquery of the parent row.
                Some(embed) => {
                    let column = Projection::Field { expr: o.expr.clone(), alias: "v".into(), cast: None };
                    let query = Level { select: vec![column], order: vec![], ..embed.query.clone() };
                    format!("({})", embedded_rows(&Embed { query, ..(**embed).clone() }, a, depth, p))
                }
            };
            let direction = if o.descending { " DESC" } else { " ASC" };
            let nulls = match o.nulls_first {
                Some(true) => " NULLS FIRST",
                Some(false) => " NULLS LAST",
                None => "",
            };
            format!("{value}{direction}{nulls}")
        })
        .collect();
    format!(" ORDER BY {}", terms.join(", "))
}

/// The body the response carries, chosen by `Accept`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Media {
    /// `application/json`: an array of objects.
    Json,
    /// `application/vnd.pgrst.object+json`: the one object.
    Object,
    /// `text/csv`: a header line of column names, then a line per row.
    Csv,
}

pub fn read(plan: &ReadPlan, media: Media) -> Statement {
    let mut p = Params::default();
    let page = level_query(&plan.source, &plan.level, 0, &mut p, "");
    let total = match plan.count {
        None | Some(Total::Planned) => "NULL::bigint".into(),
        Some(Total::Exact) | Some(Total::Estimated { max_rows: None }) => {
            format!("(SELECT count(*) FROM ({}) AS _pgrst_c)", counted_rows(plan, &mut p))
        }
        // One past the ceiling is enough to know the estimate must take over.
        Some(Total::Estimated { max_rows: Some(max) }) => format!(
            "(SELECT count(*) FROM ({} LIMIT {}) AS _pgrst_c)",
            counted_rows(plan, &mut p),
            p.bind(&max.saturating_add(1).to_string(), "bigint")
        ),
    };
    Statement { sql: wrap(&total, &page, Some(media), ""), params: p.0, generic_plan: false }
}

/// `SELECT 1` of every row the read's filters match, regardless of its page: what is counted.
fn counted_rows(plan: &ReadPlan, p: &mut Params) -> String {
    let a = alias(0);
    let from = from_item(&plan.source, &a, p);
    let filter = condition(&plan.level.filter, &a, 0, p);
    format!("SELECT 1 FROM {from} WHERE {filter}")
}

/// `count=planned` / `estimated`: the planner's estimate of the counted rows, as PostgREST
/// takes it (the top plan node's `Plan Rows` of `EXPLAIN (FORMAT JSON)`); one row, one `json`.
pub fn planned_count(plan: &ReadPlan) -> Option<Statement> {
    match plan.count {
        Some(Total::Planned | Total::Estimated { .. }) => {
            let mut p = Params::default();
            let sql = format!("EXPLAIN (FORMAT JSON) {}", counted_rows(plan, &mut p));
            Some(Statement { sql, params: p.0, generic_plan: false })
        }
        None | Some(Total::Exact) => None,
    }
}

/// A function's value (or its set of values, as an array) as the body.
/// `raw`: the value as its own text (a function returning a media type's domain), not as JSON.
pub fn scalar_call(plan: &ScalarCall, raw: bool) -> Statement {
    let mut p = Params::default();
    let (record, call) = call(&plan.function, &plan.args, &mut p);
    let body = match (raw, plan.returns_set) {
        (true, _) => "coalesce(min(_pgrst_v.value::text), '')",
        (false, true) => "coalesce(json_agg(_pgrst_v.value), '[]')::text",
        (false, false) => "(json_agg(_pgrst_v.value) -> 0)::text",
    };
    // Called in a select list, the value stays whole: a composite or a record is one JSON object.
    let sql = format!(
        "SELECT NULL::bigint AS total, count(*) AS page, {body} AS body, {RESPONSE_SETTINGS} \
         FROM {record}(SELECT {call} AS value) AS _pgrst_v"
    );
    Statement { sql, params: p.0, generic_plan: false }
}

/// What the statement's functions and triggers asked of the response (PostgREST's
/// `response.headers`, a JSON array of one-key objects, and `response.status`): read in the
/// outer, aggregating query, so after every row was made.
const RESPONSE_SETTINGS: &str = "nullif(current_setting('response.headers', true), '') AS response_headers, \
     nullif(current_setting('response.status', true), '') AS response_status";

/// The outer query every statement shares: counts and the body built by PostgreSQL (none
/// when `media` is `None`), and `extra` columns. CSV lines are the rows' record text, as PostgREST makes them.
fn wrap(total: &str, rows: &str, media: Option<Media>, extra: &str) -> String {
    let body = match media {
        None => "NULL::text",
        Some(Media::Json) => "coalesce(json_agg(_pgrst_t), '[]')::text",
        Some(Media::Object) => "(json_agg(_pgrst_t) -> 0)::text",
        Some(Media::Csv) => {
            "coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg(_pgrst_t) -> 0) AS k), '') || E'\\n' || \
             coalesce(string_agg(substring(_pgrst_t::text, 2, length(_pgrst_t::text) - 2), E'\\n'), '')"
        }
    };
    format!("SELECT {total} AS total, count(*) AS page, {body} AS body, {RESPONSE_SETTINGS}{extra} FROM ({rows}) AS _pgrst_t")
}

/// A string literal of catalog text (a column name): quotes doubled.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The record of `table` that the written columns not read through a data representation are
/// populated from: only their keys of the JSON object `json` (a parsed key's raw JSON is no
/// value of its column's type, and a key that is not written is not read, as in PostgREST).
fn plain_record(json: &str, table: &Target, columns: &[String], parsers: &[Parser]) -> String {
    let plain: Vec<String> =
        columns.iter().filter(|c| !parsers.iter().any(|parser| &parser.column == *c)).map(|c| literal(c)).collect();
    format!(
        "jsonb_populate_record(NULL::{}, (SELECT coalesce(jsonb_object_agg(_pgrst_kv.k, _pgrst_kv.v), '{{}}') \
         FROM jsonb_each({json}::jsonb) AS _pgrst_kv (k, v) WHERE _pgrst_kv.k = ANY (ARRAY[{}]::text[])))",
        target(table),
        plain.join(", ")
    )
}

/// `pgrst.inserted` one up (`+`, per row offered) or down (`-`, per conflict updated), as a
/// condition that always holds.
fn count_inserted(step: &str) -> String {
    let floor = if step == "+" { "0" } else { "-1" };
    format!(
        "set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) {step} 1)::text, true) <> '{floor}'"
    )
}

/// How many rows a merging upsert inserted, read after it ran.
const INSERTED: &str = ", nullif(current_setting('pgrst.inserted', true), '')::bigint AS inserted";

/// What a write's `RETURNING` holds.
enum Returned {
    /// No answer: a row count.
    Nothing,
    /// The columns the answer reads, when they are plain columns (a role may write and read only
    /// some of a table's columns, as PostgREST lets it).
    Columns(Vec<String>),
    /// The whole row (`*`, embeds, computed columns need it).
    Row,
}

impl Returned {
    fn of(returning: &Option<Vec<Projection>>, order: &[Ordering]) -> Returned {
        let Some(select) = returning else { return Returned::Nothing };
        let mut needed: Vec<&Expr> = vec![];
        for item in select {
            match item {
                Projection::Field { expr: e, .. } => needed.push(e),
                _ => return Returned::Row,
            }
        }
        for o in order {
            match o.embedded {
                None => needed.push(&o.expr),
                Some(_) => return Returned::Row,
            }
        }
        if needed.is_empty() || needed.iter().any(|e| e.function.is_some()) {
            return Returned::Row;
        }
        let mut columns: Vec<String> = vec![];
        for e in needed {
            if !columns.contains(&e.column) {
                columns.push(e.column.clone());
            }
        }
        Returned::Columns(columns)
    }

    /// The `RETURNING` list of the write aliased `a`.
    fn list(&self, a: &str) -> String {
        match self {
            Returned::Nothing => "1".into(),
            Returned::Columns(columns) => {
                columns.iter().map(|c| format!("{a}.{}", ident(c))).collect::<Vec<_>>().join(", ")
            }
            Returned::Row => format!("{a}.*"),
        }
    }

    /// A `RETURNING` list that also says whether each row was inserted (`xmax` 0), and the
    /// `SELECT` list that gives the plain list back from it (the whole row as one value of the
    /// table's type, so the flag stays out of `*`; built from its columns, as Citus writes the
    /// row on a shard, whose own row type does not cast to the table's).
    fn list_with_inserted(&self, a: &str, table_type: &str) -> (String, String) {
        let (written, given_back) = match self {
            Returned::Row => (format!("ROW({a}.*)::{table_type} AS _pgrst_row"), "(_pgrst_row).*".to_string()),
            Returned::Nothing => ("1".into(), "1".into()),
            Returned::Columns(columns) => (self.list(a), column_list(columns)),
        };
        (format!("{written}, ({a}.xmax = 0) AS _pgrst_inserted"), given_back)
    }
}

/// `"a", "b"`: the written columns.
fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// What an insert of rows of a JSON array writes after `INSERT INTO table`: the columns and the
/// `SELECT` of them from the array, populated into the relation's row type.
fn json_rows(
    plan: &WritePlan,
    columns: &[String],
    rows_json: &str,
    defaults: &[(String, String)],
    parsers: &[Parser],
    on_conflict: &Option<OnConflict>,
    p: &mut Params,
) -> String {
    if columns.is_empty() {
        // Rows of defaults only: a SELECT of no column fills every one with its default.
        return format!("SELECT FROM json_array_elements({})", p.bind(rows_json, "json"));
    }
    let cols = column_list(columns);
    let rows = if !parsers.is_empty() {
        // Each row's parsed keys go through their functions; the rest populate the record.
        let values: Vec<String> = columns
            .iter()
            .map(|c| match parsers.iter().find(|parser| &parser.column == c) {
                Some(parser) => {
                    format!("{}(_pgrst_e.elem -> {}) AS {}", parser.function, literal(c), ident(c))
                }
                None => format!("_pgrst_r.{}", ident(c)),
            })
            .collect();
        format!(
            "(SELECT {} FROM json_array_elements({}) AS _pgrst_e (elem) CROSS JOIN LATERAL {} AS _pgrst_r) \
                 AS _pgrst_rows",
            values.join(", "),
            p.bind(rows_json, "json"),
            plain_record("_pgrst_e.elem", &plan.target, columns, parsers)
        )
    } else if defaults.is_empty() {
        format!("json_populate_recordset(NULL::{}, {})", target(&plan.target), p.bind(rows_json, "json"))
    } else {
        // `missing=default`, as PostgREST: under each row, an object of the defaults
        // (evaluated per row), so only the keys a row leaves out take them.
        let defaults = defaults
            .chunks(50) // jsonb_build_object takes at most 100 arguments
            .map(|chunk| {
                let pairs: Vec<String> =
                    chunk.iter().map(|(c, sql)| format!("'{}', {sql}", c.replace('\'', "''"))).collect();
                format!("jsonb_build_object({})", pairs.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" || ");
        format!(
            "jsonb_populate_recordset(NULL::{}, (SELECT jsonb_agg({defaults} || _pgrst_e.elem ORDER BY _pgrst_e.n) \
                 FROM jsonb_array_elements({}) WITH ORDINALITY AS _pgrst_e (elem, n)))",
            target(&plan.target),
            p.bind(rows_json, "jsonb")
        )
    };
    // A merging upsert counts its rows up and its conflicts down: what is left is how
    // many it inserted (PostgREST's way), which makes its status.
    let counted = match on_conflict {
        Some(OnConflict { merge: true, counted_by_xmax: false, .. }) => format!(" WHERE {}", count_inserted("+")),
        _ => String::new(),
    };
    format!("({cols}) SELECT {cols} FROM {rows}{counted}")
}

pub fn write(plan: &WritePlan, media: Media) -> Statement {
    let mut p = Params::default();
    let a = alias(0);
    let table = format!("{} AS {a}", target(&plan.target));
    let returned = Returned::of(&plan.returning, &plan.order);
    let counted_by_xmax = matches!(
        &plan.mutation,
        Mutation::Insert { on_conflict: Some(OnConflict { merge: true, counted_by_xmax: true, .. }), .. }
    );
    let (returning, given_back) = match counted_by_xmax {
        true => returned.list_with_inserted(&a, &target(&plan.target)),
        false => (returned.list(&a), String::new()),
    };
    let cte = match &plan.mutation {
        Mutation::Insert { columns, rows, on_conflict, defaults, parsers } => {
            let upsert = match on_conflict {
                None => String::new(),
                Some(OnConflict { columns: keys, merge, counted_by_xmax }) => {
                    let keys = column_list(keys);
                    let set: Vec<String> = columns.iter().map(|c| format!("{0} = EXCLUDED.{0}", ident(c))).collect();
                    let counted = match counted_by_xmax {
                        true => String::new(),
                        false => format!(" WHERE {}", count_inserted("-")),
                    };
                    match merge {
                        true if !set.is_empty() => {
                            format!(" ON CONFLICT ({keys}) DO UPDATE SET {}{counted}", set.join(", "))
                        }
                        _ => format!(" ON CONFLICT ({keys}) DO NOTHING"),
                    }
                }
            };
            let rows = match rows {
                InsertRows::Values(values) => {
                    let values: Vec<String> =
                        values.iter().map(|(value, type_name)| p.bind_or_null(value.as_deref(), type_name)).collect();
                    format!("({}) VALUES ({})", column_list(columns), values.join(", "))
                }
                InsertRows::Json(rows_json) => {
                    json_rows(plan, columns, rows_json, defaults, parsers, on_conflict, &mut p)
                }
            };
            format!("INSERT INTO {table} {rows}{upsert} RETURNING {returning}")
        }
        // Nothing to set: no row changes, none is returned.
        Mutation::Update { columns, .. } if columns.is_empty() => {
            format!("SELECT {returning} FROM {table} WHERE false")
        }
        Mutation::Update { columns, row_json, filter, parsers, defaults } => {
            let body = p.bind(row_json, "json");
            let set = columns
                .iter()
                .map(|c| {
                    match (parsers.iter().find(|parser| &parser.column == c), defaults.iter().find(|(d, _)| d == c)) {
                        // A default is catalog text (`pg_get_expr`), never request text.
                        (_, Some((_, default))) => format!("{} = {default}", ident(c)),
                        (Some(parser), None) => format!("{} = {}({body} -> {})", ident(c), parser.function, literal(c)),
                        (None, None) => format!("{} = _pgrst_body.{}", ident(c), ident(c)),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let record = match parsers.is_empty() {
                true => format!("json_populate_record(NULL::{}, {body})", target(&plan.target)),
                false => plain_record(&body, &plan.target, columns, parsers),
            };
            format!(
                "UPDATE {table} SET {set} FROM {record} AS _pgrst_body WHERE {} RETURNING {returning}",
                condition(filter, &a, 0, &mut p)
            )
        }
        Mutation::Delete { filter } => {
            format!("DELETE FROM {table} WHERE {} RETURNING {returning}", condition(filter, &a, 0, &mut p))
        }
    };
    let rows = match &plan.returning {
        Some(select) => {
            let joins = spread_joins(select, &a, 0, &mut p);
            let projection = projection(select, &a, 0, &mut p);
            format!("SELECT {projection} FROM _pgrst_source AS {a}{joins}{}", order(&plan.order, &a, 0, &mut p))
        }
        None => "SELECT 1 FROM _pgrst_source".to_string(),
    };
    let upsert = matches!(&plan.mutation, Mutation::Insert { on_conflict: Some(OnConflict { merge: true, .. }), .. });
    let (ctes, inserted) = match counted_by_xmax {
        true => (
            format!("_pgrst_written AS ({cte}), _pgrst_source AS (SELECT {given_back} FROM _pgrst_written)"),
            ", (SELECT count(*) FROM _pgrst_written WHERE _pgrst_inserted) AS inserted",
        ),
        false => (format!("_pgrst_source AS ({cte})"), if upsert { INSERTED } else { "" }),
    };
    let sql =
        format!("WITH {ctes} {}", wrap("NULL::bigint", &rows, plan.returning.is_some().then_some(media), inserted));
    let generic_plan = matches!(&plan.mutation, Mutation::Insert { rows: InsertRows::Values(_), .. });
    Statement { sql, params: p.0, generic_plan }
}
