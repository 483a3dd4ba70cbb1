//! From the parsed request to a plan: every name is looked up in the schema cache (an
//! unknown one is the client's mistake, named in the error), and limits are settled.
use crate::error::ApiError;
use crate::plan_types::*;
use crate::prefer::{Count, Preferences, Return};
use crate::query_grammar as g;
use crate::schema_cache::Relation;
use serde_json::Value;

fn target(relation: &Relation) -> Target {
    Target { schema: relation.schema.clone(), name: relation.name.clone() }
}

fn unknown_column(relation: &Relation, column: &str) -> ApiError {
    ApiError::UnknownColumn { relation: relation.name.clone(), column: column.to_string() }
}

fn expr(relation: &Relation, field: &g::Field) -> Result<Expr, ApiError> {
    let column = relation.column(&field.name).ok_or_else(|| unknown_column(relation, &field.name))?;
    let path = field
        .json_path
        .iter()
        .map(|step| {
            let arrow = match step.arrow {
                g::Arrow::Json => Arrow::Json,
                g::Arrow::Text => Arrow::Text,
            };
            let key = match &step.key {
                g::JsonKey::Name(n) => JsonKey::Name(n.clone()),
                g::JsonKey::Index(i) => JsonKey::Index(*i),
            };
            (arrow, key)
        })
        .collect();
    Ok(Expr { column: column.name.clone(), column_type: column.type_name.clone(), path })
}

/// Casts go into SQL as written, so only plain type names pass: letters, digits, `_`, single
/// spaces (`double precision`) and a trailing `[]`.
fn cast(name: &str) -> Result<String, ApiError> {
    let base = name.strip_suffix("[]").unwrap_or(name);
    let plain = !base.is_empty()
        && base.split(' ').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        && base.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if plain {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(ApiError::InvalidBody(format!("\"{name}\" is not a type name that can be cast to")))
    }
}

fn projections(relation: &Relation, select: Option<&[g::SelectItem]>) -> Result<Vec<Projection>, ApiError> {
    let Some(items) = select else { return Ok(vec![Projection::All]) };
    items
        .iter()
        .map(|item| match item {
            g::SelectItem::Star => Ok(Projection::All),
            g::SelectItem::Field { alias, field, cast: c } => {
                let e = expr(relation, field)?;
                let alias = alias.clone().unwrap_or_else(|| e.default_name());
                Ok(Projection::Field { expr: e, alias, cast: c.as_deref().map(cast).transpose()? })
            }
            g::SelectItem::Embed { relation: name, .. } => Err(ApiError::UnsupportedHeader {
                status: axum::http::StatusCode::BAD_REQUEST,
                message: format!("Embedding \"{name}\" is not supported yet"),
            }),
        })
        .collect()
}

fn compare(op: g::Operator) -> Option<Compare> {
    use g::Operator as O;
    Some(match op {
        O::Eq => Compare::Eq,
        O::Neq => Compare::Neq,
        O::Gt => Compare::Gt,
        O::Gte => Compare::Gte,
        O::Lt => Compare::Lt,
        O::Lte => Compare::Lte,
        O::Like => Compare::Like,
        O::Ilike => Compare::ILike,
        O::Match => Compare::Match,
        O::Imatch => Compare::IMatch,
        O::IsDistinct => Compare::IsDistinct,
        O::Cs => Compare::Contains,
        O::Cd => Compare::ContainedIn,
        O::Ov => Compare::Overlaps,
        O::Sl => Compare::StrictlyLeft,
        O::Sr => Compare::StrictlyRight,
        O::Nxr => Compare::NotExtendRight,
        O::Nxl => Compare::NotExtendLeft,
        O::Adj => Compare::Adjacent,
        O::In | O::Is | O::Fts | O::Plfts | O::Phfts | O::Wfts => return None,
    })
}

fn filter(relation: &Relation, f: &g::Filter) -> Result<Condition, ApiError> {
    use g::Operator as O;
    let e = expr(relation, &f.field)?;
    let bad = |why: &str| ApiError::Grammar(g::GrammarError::invalid_filter(&f.field.name, why));
    let condition = match (&f.op, &f.value, f.quantifier) {
        (O::In, g::FilterValue::List(values), _) => Condition::In { expr: e, values: values.clone() },
        (O::Is, g::FilterValue::Is(v), _) => Condition::Is {
            expr: e,
            value: match v {
                g::IsValue::Null => IsValue::Null,
                g::IsValue::NotNull => IsValue::NotNull,
                g::IsValue::True => IsValue::True,
                g::IsValue::False => IsValue::False,
                g::IsValue::Unknown => IsValue::Unknown,
            },
        },
        (O::Fts | O::Plfts | O::Phfts | O::Wfts, g::FilterValue::Single(query), _) => Condition::Search {
            expr: e,
            kind: match f.op {
                O::Fts => TextSearch::Fts,
                O::Plfts => TextSearch::Plain,
                O::Phfts => TextSearch::Phrase,
                _ => TextSearch::Websearch,
            },
            language: f.language.clone(),
            query: query.clone(),
        },
        (op, g::FilterValue::Single(value), Some(q)) => Condition::Quantified {
            expr: e,
            op: compare(*op).ok_or_else(|| bad("this operator takes no quantifier"))?,
            quantifier: match q {
                g::Quantifier::Any => Quantifier::Any,
                g::Quantifier::All => Quantifier::All,
            },
            array: value.clone(),
        },
        (op, g::FilterValue::Single(value), None) => Condition::Compare {
            expr: e,
            op: compare(*op).ok_or_else(|| bad("unexpected value for this operator"))?,
            value: value.clone(),
        },
        _ => return Err(bad("unexpected value for this operator")),
    };
    Ok(if f.negated { Condition::Not(Box::new(condition)) } else { condition })
}

fn logic(relation: &Relation, tree: &g::LogicTree) -> Result<Condition, ApiError> {
    let children = tree
        .children
        .iter()
        .map(|node| match node {
            g::LogicNode::Filter(f) => filter(relation, f),
            g::LogicNode::Tree(t) => logic(relation, t),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let combined = match tree.op {
        g::LogicOp::And => Condition::And(children),
        g::LogicOp::Or => Condition::Or(children),
    };
    Ok(if tree.negated { Condition::Not(Box::new(combined)) } else { combined })
}

fn not_embedded(path: &[String]) -> Result<(), ApiError> {
    match path.first() {
        None => Ok(()),
        Some(name) => Err(ApiError::UnsupportedHeader {
            status: axum::http::StatusCode::BAD_REQUEST,
            message: format!("Filters, order and limits on embedded \"{name}\" are not supported yet"),
        }),
    }
}

/// Every horizontal filter and logic tree of the top level, ANDed.
fn conditions(relation: &Relation, params: &g::QueryParams) -> Result<Condition, ApiError> {
    params.reject_other()?;
    let mut all = vec![];
    for f in &params.filters {
        not_embedded(&f.path)?;
        all.push(filter(relation, &f.filter)?);
    }
    for t in &params.logic {
        not_embedded(&t.path)?;
        all.push(logic(relation, &t.tree)?);
    }
    Ok(Condition::And(all))
}

fn ordering(relation: &Relation, params: &g::QueryParams) -> Result<Vec<Ordering>, ApiError> {
    let mut out = vec![];
    for (path, terms) in &params.order {
        not_embedded(path)?;
        for t in terms {
            out.push(Ordering {
                expr: expr(relation, &t.field)?,
                descending: t.direction == Some(g::Direction::Desc),
                nulls_first: t.nulls.map(|n| n == g::Nulls::First),
            });
        }
    }
    Ok(out)
}

/// Offset and limit from `limit`/`offset`, the `Range` header (items, inclusive) and the
/// server's ceiling, whichever is narrowest.
fn window(params: &g::QueryParams, range: Option<(u64, Option<u64>)>, max_rows: Option<u64>) -> Result<(u64, Option<u64>), ApiError> {
    let mut offset = 0;
    let mut limit = None;
    for (path, r) in &params.limits {
        not_embedded(path)?;
        offset = r.offset.unwrap_or(0);
        limit = r.limit;
    }
    if let Some((first, last)) = range {
        offset = offset.max(first);
        let by_range = last.map(|l| l.saturating_sub(first) + 1);
        limit = match (limit, by_range) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    if let Some(max) = max_rows {
        limit = Some(limit.map_or(max, |l| l.min(max)));
    }
    Ok((offset, limit))
}

pub fn read(
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    range: Option<(u64, Option<u64>)>,
    max_rows: Option<u64>,
) -> Result<ReadPlan, ApiError> {
    let (offset, limit) = window(params, range, max_rows)?;
    Ok(ReadPlan {
        target: target(relation),
        select: projections(relation, params.select.as_deref())?,
        filter: conditions(relation, params)?,
        order: ordering(relation, params)?,
        offset,
        limit,
        count: matches!(prefs.count, Some(Count::Exact | Count::Planned | Count::Estimated)),
    })
}

fn returning(relation: &Relation, params: &g::QueryParams, prefs: &Preferences) -> Result<Option<Vec<Projection>>, ApiError> {
    match prefs.return_ {
        Some(Return::Representation) => Ok(Some(projections(relation, params.select.as_deref())?)),
        _ => Ok(None),
    }
}

/// The columns a body writes: `columns=` if given, else the keys of the (first) object,
/// every one a column of the relation that can be written.
fn columns(relation: &Relation, params: &g::QueryParams, first: &serde_json::Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let names: Vec<String> = match &params.columns {
        Some(cols) => cols.clone(),
        None => first.keys().cloned().collect(),
    };
    for name in &names {
        relation.column(name).ok_or_else(|| unknown_column(relation, name))?;
    }
    if names.is_empty() {
        return Err(ApiError::InvalidBody("The body names no column to write".into()));
    }
    Ok(names)
}

/// A body the request must have had (POST, PATCH).
fn required(body: Option<Value>) -> Result<Value, ApiError> {
    body.ok_or_else(|| ApiError::InvalidBody("The request needs a JSON body".into()))
}

pub fn insert(relation: &Relation, params: &g::QueryParams, prefs: &Preferences, body: Option<Value>) -> Result<WritePlan, ApiError> {
    let rows = match required(body)? {
        Value::Array(rows) => rows,
        object @ Value::Object(_) => vec![object],
        _ => return Err(ApiError::InvalidBody("The body must be a JSON object or an array of objects".into())),
    };
    let objects: Vec<&serde_json::Map<String, Value>> = rows
        .iter()
        .map(|r| r.as_object().ok_or_else(|| ApiError::InvalidBody("Every element of the array must be an object".into())))
        .collect::<Result<_, _>>()?;
    let first = objects.first().ok_or_else(|| ApiError::InvalidBody("The array holds no row".into()))?;
    let columns = columns(relation, params, first)?;
    if params.columns.is_none() && objects.iter().any(|o| o.len() != first.len() || o.keys().any(|k| !first.contains_key(k))) {
        return Err(ApiError::InvalidBody("All object keys must match".into()));
    }
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Insert { columns, rows_json: Value::Array(rows.clone()).to_string() },
        returning: returning(relation, params, prefs)?,
    })
}

pub fn update(relation: &Relation, params: &g::QueryParams, prefs: &Preferences, body: Option<Value>) -> Result<WritePlan, ApiError> {
    let body = required(body)?;
    let Value::Object(object) = &body else {
        return Err(ApiError::InvalidBody("The body of a PATCH must be one JSON object".into()));
    };
    let columns = columns(relation, params, object)?;
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Update { columns, row_json: body.to_string(), filter: conditions(relation, params)? },
        returning: returning(relation, params, prefs)?,
    })
}

pub fn delete(relation: &Relation, params: &g::QueryParams, prefs: &Preferences, _body: Option<Value>) -> Result<WritePlan, ApiError> {
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Delete { filter: conditions(relation, params)? },
        returning: returning(relation, params, prefs)?,
    })
}
