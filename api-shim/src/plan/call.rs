//! `/rpc/<function>`: the arguments, and the rows or value it answers.
use super::read::{apply_range, total, Planner};
use crate::error::ApiError;
use crate::plan_types::*;
use crate::prefer::Preferences;
use crate::query_grammar as g;
use crate::schema_cache::{Function, Relation, SchemaCache};
use serde_json::Value;

/// The arguments of an RPC as the request gave them.
pub enum CallInput {
    /// POST: the body's JSON object.
    Json(serde_json::Map<String, Value>),
    /// GET: the query parameters that are not filters.
    Query(Vec<(String, String)>),
    /// POST to a function of one unnamed parameter: the whole body, as text of its type.
    Whole(String),
}

impl CallInput {
    pub fn names(&self) -> Vec<&str> {
        match self {
            CallInput::Json(object) => object.keys().map(String::as_str).collect(),
            CallInput::Query(pairs) => pairs.iter().map(|(k, _)| k.as_str()).collect(),
            CallInput::Whole(_) => vec![],
        }
    }
}

pub enum CallPlan {
    /// Rows, planned like a table's read; `single` for a function returning one row.
    Rows {
        plan: Box<ReadPlan>,
        single: bool,
    },
    Scalar(ScalarCall),
}

fn call_args(function: &Function, input: CallInput) -> CallArgs {
    let type_of = |name: &str| {
        function.args.iter().find(|a| a.name == name).map_or_else(|| "text".into(), |a| a.type_name.clone())
    };
    let variadic = function.args.iter().find(|a| a.variadic).map(|a| a.name.clone());
    match input {
        CallInput::Json(mut object) => {
            // One value of a variadic argument (a form's `v=hi`) is an array of one.
            if let Some(value) = variadic.as_ref().and_then(|v| object.get_mut(v)).filter(|v| !v.is_array()) {
                *value = Value::Array(vec![value.take()]);
            }
            CallArgs::Json {
                args: object.keys().map(|k| (k.clone(), type_of(k))).collect(),
                object: Value::Object(object).to_string(),
                variadic,
            }
        }
        CallInput::Query(pairs) => {
            // A repeated argument: the last value counts, as in PostgREST; a variadic
            // argument's values are its array's elements.
            let (mut args, mut elements): (Vec<(String, String, String)>, Vec<String>) = (vec![], vec![]);
            for (name, value) in pairs {
                if variadic.as_ref() == Some(&name) {
                    elements.push(value);
                    continue;
                }
                args.retain(|(n, _, _)| *n != name);
                let type_name = type_of(&name);
                args.push((name, type_name, value));
            }
            if let Some(name) = variadic.as_ref().filter(|_| !elements.is_empty()) {
                args.push((name.clone(), type_of(name), array_literal(&elements)));
            }
            CallArgs::Text { args, variadic }
        }
        CallInput::Whole(value) => CallArgs::Whole { value, type_name: type_of("") },
    }
}

/// `{"a","b"}`: PostgreSQL's array literal of these values, each quoted.
fn array_literal(values: &[String]) -> String {
    let quoted: Vec<String> =
        values.iter().map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))).collect();
    format!("{{{}}}", quoted.join(","))
}

/// `/rpc/<function>`: a function returning rows is read like a table (select, filters,
/// order, limits, embedding through its relation's foreign keys); any other returns its value.
pub fn call(
    cache: &SchemaCache,
    function: &Function,
    input: CallInput,
    params: &g::QueryParams,
    prefs: &Preferences,
    range: Option<(u64, Option<u64>)>,
    max_rows: Option<u64>,
) -> Result<CallPlan, ApiError> {
    let target = Target { schema: function.schema.clone(), name: function.name.clone() };
    let args = call_args(function, input);
    if !function.returns_rows() {
        let returns_void = function.return_type == "void";
        return Ok(CallPlan::Scalar(ScalarCall {
            function: target,
            args,
            returns_set: function.returns_set,
            returns_void,
        }));
    }
    let synthesized;
    let relation = match &function.return_relation {
        Some(r) => cache.relation(&r.schema, &r.name).ok_or_else(|| ApiError::UnknownRelation {
            schema: r.schema.clone(),
            name: r.name.clone(),
            perhaps: None,
        })?,
        None => {
            synthesized = Relation {
                schema: function.schema.clone(),
                name: function.name.clone(),
                is_view: true,
                columns: function.out_columns.clone(),
                primary_key: vec![],
                foreign_keys: vec![],
                computed: vec![],
                computed_relationships: vec![],
            };
            &synthesized
        }
    };
    let planner = Planner::new(cache, params, max_rows);
    let mut level = planner.level(relation, params.select.as_deref(), &[])?;
    apply_range(&mut level, range);
    planner.check_paths()?;
    let count = total(prefs, max_rows);
    Ok(CallPlan::Rows {
        plan: Box::new(ReadPlan { source: Source::Call { function: target, args }, level, count }),
        single: !function.returns_set,
    })
}
