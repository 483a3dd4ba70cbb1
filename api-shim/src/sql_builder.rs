//! The plan as one SQL statement. Values only ever become `$n` parameters (sent as text and
//! cast to the column's type by PostgreSQL); identifiers come from the schema cache and are
//! quoted by `ident`. PostgreSQL builds the response body (`json_agg`) in the same statement.
use crate::plan_types::*;

/// The rows of every statement: (total count if asked, rows in this response, body).
pub struct Statement {
    pub sql: String,
    pub params: Vec<Option<String>>,
}

/// The alias of the target relation in every statement, so column references never clash
/// with a CTE's or a body record's columns.
const REL: &str = "\"_pgrst_r\"";

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
        self.0.push(Some(value.to_string()));
        format!("${}::text::{}", self.0.len(), type_name)
    }
}

fn expr(e: &Expr) -> String {
    let mut sql = format!("{REL}.{}", ident(&e.column));
    for (arrow, key) in &e.path {
        sql.push_str(match arrow {
            Arrow::Json => "->",
            Arrow::Text => "->>",
        });
        match key {
            JsonKey::Name(n) => sql.push_str(&format!("'{}'", n.replace('\'', "''"))),
            JsonKey::Index(i) => sql.push_str(&i.to_string()),
        }
    }
    sql
}

fn compare_op(op: Compare) -> &'static str {
    match op {
        Compare::Eq => "=",
        Compare::Neq => "<>",
        Compare::Gt => ">",
        Compare::Gte => ">=",
        Compare::Lt => "<",
        Compare::Lte => "<=",
        Compare::Like => "LIKE",
        Compare::ILike => "ILIKE",
        Compare::Match => "~",
        Compare::IMatch => "~*",
        Compare::IsDistinct => "IS DISTINCT FROM",
        Compare::Contains => "@>",
        Compare::ContainedIn => "<@",
        Compare::Overlaps => "&&",
        Compare::StrictlyLeft => "<<",
        Compare::StrictlyRight => ">>",
        Compare::NotExtendRight => "&<",
        Compare::NotExtendLeft => "&>",
        Compare::Adjacent => "-|-",
    }
}

/// Pattern operators work on text whatever the column's type.
fn is_pattern(op: Compare) -> bool {
    matches!(op, Compare::Like | Compare::ILike | Compare::Match | Compare::IMatch)
}

fn condition(c: &Condition, p: &mut Params) -> String {
    match c {
        Condition::And(items) if items.is_empty() => "true".into(),
        Condition::Or(items) if items.is_empty() => "false".into(),
        Condition::And(items) => format!("({})", items.iter().map(|i| condition(i, p)).collect::<Vec<_>>().join(" AND ")),
        Condition::Or(items) => format!("({})", items.iter().map(|i| condition(i, p)).collect::<Vec<_>>().join(" OR ")),
        Condition::Not(inner) => format!("NOT {}", condition(inner, p)),
        Condition::Compare { expr: e, op, value } if is_pattern(*op) => {
            format!("{}::text {} {}", expr(e), compare_op(*op), p.bind(value, "text"))
        }
        Condition::Compare { expr: e, op, value } => {
            format!("{} {} {}", expr(e), compare_op(*op), p.bind(value, e.value_type()))
        }
        Condition::Quantified { expr: e, op, quantifier, array } => {
            let (lhs, element) = if is_pattern(*op) { (format!("{}::text", expr(e)), "text") } else { (expr(e), e.value_type()) };
            let q = match quantifier {
                Quantifier::Any => "ANY",
                Quantifier::All => "ALL",
            };
            format!("{lhs} {} {q}({})", compare_op(*op), p.bind(array, &format!("{element}[]")))
        }
        Condition::In { values, .. } if values.is_empty() => "false".into(),
        Condition::In { expr: e, values } => {
            let list: Vec<String> = values.iter().map(|v| p.bind(v, e.value_type())).collect();
            format!("{} IN ({})", expr(e), list.join(", "))
        }
        Condition::Is { expr: e, value } => format!(
            "{} IS {}",
            expr(e),
            match value {
                IsValue::Null => "NULL",
                IsValue::NotNull => "NOT NULL",
                IsValue::True => "TRUE",
                IsValue::False => "FALSE",
                IsValue::Unknown => "UNKNOWN",
            }
        ),
        Condition::Search { expr: e, kind, language, query } => {
            let function = match kind {
                TextSearch::Fts => "to_tsquery",
                TextSearch::Plain => "plainto_tsquery",
                TextSearch::Phrase => "phraseto_tsquery",
                TextSearch::Websearch => "websearch_to_tsquery",
            };
            let config = language.as_ref().map(|l| format!("{}, ", p.bind(l, "regconfig")));
            let config = config.unwrap_or_default();
            let document = if e.value_type() == "tsvector" {
                expr(e)
            } else {
                format!("to_tsvector({config}{}::text)", expr(e))
            };
            format!("{document} @@ {function}({config}{})", p.bind(query, "text"))
        }
    }
}

fn projection(items: &[Projection]) -> String {
    items
        .iter()
        .map(|item| match item {
            Projection::All => format!("{REL}.*"),
            Projection::Field { expr: e, alias, cast } => {
                // The planner admits only type names of letters, digits, `_`, spaces and `[]`.
                let cast = cast.as_ref().map(|c| format!("::{c}")).unwrap_or_default();
                format!("{}{cast} AS {}", expr(e), ident(alias))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn order(items: &[Ordering]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let terms: Vec<String> = items
        .iter()
        .map(|o| {
            let direction = if o.descending { " DESC" } else { " ASC" };
            let nulls = match o.nulls_first {
                Some(true) => " NULLS FIRST",
                Some(false) => " NULLS LAST",
                None => "",
            };
            format!("{}{direction}{nulls}", expr(&o.expr))
        })
        .collect();
    format!(" ORDER BY {}", terms.join(", "))
}

pub fn read(plan: &ReadPlan, single: bool) -> Statement {
    let mut p = Params::default();
    let from = format!("{} AS {REL}", target(&plan.target));
    let filter = condition(&plan.filter, &mut p);
    let total = if plan.count { format!("(SELECT count(*) FROM {from} WHERE {filter})") } else { "NULL::bigint".into() };
    let mut page = format!("SELECT {} FROM {from} WHERE {filter}{}", projection(&plan.select), order(&plan.order));
    if let Some(limit) = plan.limit {
        page.push_str(&format!(" LIMIT {}", p.bind(&limit.to_string(), "bigint")));
    }
    if plan.offset > 0 {
        page.push_str(&format!(" OFFSET {}", p.bind(&plan.offset.to_string(), "bigint")));
    }
    Statement { sql: wrap(&total, &page, single, true), params: p.0 }
}

/// The outer query every statement shares: counts and the JSON body built by PostgreSQL.
fn wrap(total: &str, rows: &str, single: bool, with_body: bool) -> String {
    let body = match (with_body, single) {
        (false, _) => "NULL::text".to_string(),
        (true, false) => "coalesce(json_agg(_pgrst_t), '[]')::text".to_string(),
        (true, true) => "(json_agg(_pgrst_t) -> 0)::text".to_string(),
    };
    format!("SELECT {total} AS total, count(*) AS page, {body} AS body FROM ({rows}) AS _pgrst_t")
}

pub fn write(plan: &WritePlan, single: bool) -> Statement {
    let mut p = Params::default();
    let table = format!("{} AS {REL}", target(&plan.target));
    let returning = if plan.returning.is_some() { format!("{REL}.*") } else { "1".into() };
    let cte = match &plan.mutation {
        Mutation::Insert { columns, rows_json } => {
            let cols = columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            format!(
                "INSERT INTO {table} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{}, {}) RETURNING {returning}",
                target(&plan.target),
                p.bind(rows_json, "json")
            )
        }
        Mutation::Update { columns, row_json, filter } => {
            let body = p.bind(row_json, "json");
            let set = columns.iter().map(|c| format!("{} = _pgrst_body.{}", ident(c), ident(c))).collect::<Vec<_>>().join(", ");
            format!(
                "UPDATE {table} SET {set} FROM json_populate_record(NULL::{}, {body}) AS _pgrst_body WHERE {} RETURNING {returning}",
                target(&plan.target),
                condition(filter, &mut p)
            )
        }
        Mutation::Delete { filter } => {
            format!("DELETE FROM {table} WHERE {} RETURNING {returning}", condition(filter, &mut p))
        }
    };
    let rows = match &plan.returning {
        Some(select) => format!("SELECT {} FROM _pgrst_source AS {REL}", projection(select)),
        None => "SELECT 1 FROM _pgrst_source".to_string(),
    };
    let sql = format!("WITH _pgrst_source AS ({cte}) {}", wrap("NULL::bigint", &rows, single, plan.returning.is_some()));
    Statement { sql, params: p.0 }
}
