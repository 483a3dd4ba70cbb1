//! From the parsed request to a plan: every name is looked up in the schema cache (an
//! unknown one is the client's mistake, named in the error), and limits are settled. By kind:
//! `read` (the levels of a read, which writes and calls reuse for what they return),
//! `relationship` (how one relation embeds another), `mutate` (writes), `call` (functions).
mod call;
mod mutate;
mod read;
mod relationship;
mod values;

pub use call::{call, CallInput, CallPlan};
pub use mutate::{delete, insert, put, update};
pub use read::read;

use crate::error::ApiError;
use crate::plan_types::*;
use crate::query_grammar as g;
use crate::schema_cache::Relation;

pub(super) fn target(relation: &Relation) -> Target {
    Target { schema: relation.schema.clone(), name: relation.name.clone() }
}

/// The written columns whose domain reads its JSON through a data representation.
pub(super) fn parsers(relation: &Relation, columns: &[String]) -> Vec<Parser> {
    columns
        .iter()
        .filter_map(|c| {
            let function = relation.column(c)?.from_json.clone()?;
            Some(Parser { column: c.clone(), function })
        })
        .collect()
}

pub(super) fn unknown_column(relation: &Relation, column: &str) -> ApiError {
    ApiError::UnknownColumn { relation: relation.name.clone(), column: column.to_string() }
}

pub(super) fn expr(relation: &Relation, field: &g::Field) -> Result<Expr, ApiError> {
    let path = field.json_path.clone();
    if let Some(column) = relation.column(&field.name) {
        let plain = path.is_empty();
        return Ok(Expr {
            column: column.name.clone(),
            function: None,
            column_type: column.type_name.clone(),
            to_json: column.to_json.clone().filter(|_| plain),
            from_text: column.from_text.clone().filter(|_| plain),
            path,
        });
    }
    if let Some(computed) = relation.computed_column(&field.name) {
        let function = Target { schema: computed.schema.clone(), name: computed.name.clone() };
        let function = Some((function, target(relation)));
        let column_type = computed.type_name.clone();
        return Ok(Expr { column: computed.name.clone(), function, column_type, path, to_json: None, from_text: None });
    }
    // A column named in select, filters or order is PostgreSQL's to refuse in PostgREST (42703).
    Err(ApiError::UndefinedColumn { relation: relation.name.clone(), column: field.name.clone() })
}

/// Casts go into SQL as written, so only plain type names pass: letters, digits, `_`, single
/// spaces (`double precision`) and a trailing `[]`.
pub(super) fn cast(name: &str) -> Result<String, ApiError> {
    let base = name.strip_suffix("[]").unwrap_or(name);
    let plain = !base.is_empty()
        && base.split(' ').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        && base.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if plain {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(ApiError::Grammar(g::GrammarError::new(format!("\"{name}\" is not a type name that can be cast to"), name)))
    }
}

/// The operator, when it compares an expression with a value (`expr <op> value`).
pub(super) fn comparison(op: g::Operator) -> Option<g::Operator> {
    op.binary_sql().map(|_| op)
}

pub(crate) fn filter_condition(relation: &Relation, f: &g::Filter) -> Result<Condition, ApiError> {
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
        (op, g::FilterValue::Single(query), _) if op.is_text_search() => {
            Condition::Search { expr: e, op: *op, language: f.language.clone(), query: query.clone() }
        }
        (op, g::FilterValue::Single(value), Some(q)) => Condition::Quantified {
            expr: e,
            op: comparison(*op).ok_or_else(|| bad("this operator takes no quantifier"))?,
            quantifier: match q {
                g::Quantifier::Any => Quantifier::Any,
                g::Quantifier::All => Quantifier::All,
            },
            array: value.clone(),
        },
        (op, g::FilterValue::Single(value), None) => Condition::Compare {
            expr: e,
            op: comparison(*op).ok_or_else(|| bad("unexpected value for this operator"))?,
            value: value.clone(),
        },
        _ => return Err(bad("unexpected value for this operator")),
    };
    Ok(if f.negated { Condition::Not(Box::new(condition)) } else { condition })
}

/// A logic tree; `rel.is.null` / `rel.not.is.null` on an embedded resource in it is whether
/// the parent has a related row, as for a filter.
pub(super) fn logic(relation: &Relation, tree: &g::LogicTree, related: &[Embed]) -> Result<Condition, ApiError> {
    let children = tree
        .children
        .iter()
        .map(|node| match node {
            g::LogicNode::Filter(f) => match read::embedded_null_check(relation, related, f) {
                Some(exists) => Ok(exists),
                None => filter_condition(relation, f),
            },
            g::LogicNode::Tree(t) => logic(relation, t, related),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let combined = match tree.op {
        g::LogicOp::And => Condition::And(children),
        g::LogicOp::Or => Condition::Or(children),
    };
    Ok(if tree.negated { Condition::Not(Box::new(combined)) } else { combined })
}
