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
    /// POST to a function of one unnamed `json`/`jsonb` parameter: the whole body is it.
    Whole(Value),
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
    match input {
        CallInput::Json(object) => CallArgs::Json {
            args: object.keys().map(|k| (k.clone(), type_of(k))).collect(),
            object: Value::Object(object).to_string(),
        },
        CallInput::Query(pairs) => CallArgs::Text(
            pairs
                .into_iter()
                .map(|(name, value)| {
                    let type_name = type_of(&name);
                    (name, type_name, value)
                })
                .collect(),
        ),
        CallInput::Whole(body) => CallArgs::Whole { value: body.to_string(), type_name: type_of("") },
    }
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
    let planner = Planner::new(cache, params);
    let mut level = planner.level(relation, params.select.as_deref(), &[], max_rows)?;
    apply_range(&mut level, range);
    planner.check_paths()?;
    let count = total(prefs, max_rows);
    Ok(CallPlan::Rows {
        plan: Box::new(ReadPlan { source: Source::Call { function: target, args }, level, count }),
        single: !function.returns_set,
    })
}
