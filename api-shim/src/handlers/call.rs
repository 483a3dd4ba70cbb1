//! `/rpc/<function>`: GET (arguments in the query string, a read-only transaction) or POST
//! (arguments in the body).
use super::{check_offset, content_type, execute, execute_read, status_of_page};
use crate::body::Payload;
use crate::error::ApiError;
use crate::fuzzy::FuzzySet;
use crate::plan::{self, CallInput, CallPlan};
use crate::prefer::Action;
use crate::request::ApiRequest;
use crate::response::{self, Expectation};
use crate::schema_cache::{Function, SchemaCache};
use crate::sql_builder::{self, Media};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

pub async fn rpc(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    req: ApiRequest,
    Payload(body): Payload,
) -> Result<Response, ApiError> {
    let cache = state.schema();
    let (f, input) = function(&cache, &req, &name, body)?;
    let head = req.method == Method::HEAD;
    let applied = req.prefs.applied(Action::Call, state.config.tx_end.overridable());
    let profile = req.answer_profile();
    let max_affected = req.prefs.strict_max_affected();
    let overrides;
    let counted = req.prefs.count.is_some();
    let mut response = match plan::call(&cache, f, input, &req.query, &req.prefs, req.range, state.config.max_rows)? {
        CallPlan::Scalar(call) => {
            if max_affected.is_some() && !call.returns_set {
                return Err(ApiError::MaxAffectedNeedsSet);
            }
            let expect = Expectation { singular: false, max_affected };
            let outcome = execute(&state, req, sql_builder::scalar_call(&call), expect).await?;
            overrides = outcome.overrides;
            if call.returns_void {
                response::empty(StatusCode::NO_CONTENT, None)
            } else {
                let body = if head { None } else { outcome.body.or_else(|| Some("null".into())) };
                // One value: the first and last item of one, as PostgREST counts it.
                let range = response::content_range(0, 1, counted.then_some(1));
                response::build(StatusCode::OK, response::JSON, Some(range), body)
            }
        }
        CallPlan::Rows { plan, single: one_row } => {
            if max_affected.is_some() && one_row {
                return Err(ApiError::MaxAffectedNeedsSet);
            }
            // A function returning one row answers an object, as a single-object read does.
            let media = if one_row && req.media == Media::Json { Media::Object } else { req.media };
            // Checked before COMMIT: a function that wrote must not keep its writes when
            // the answer is an error.
            let expect = Expectation { singular: media == Media::Object && !one_row, max_affected };
            let outcome = execute_read(&state, req, &plan, media, expect).await?;
            let offset = plan.level.offset;
            check_offset(offset, outcome.total)?;
            let range = response::content_range(offset, outcome.page, outcome.total);
            let status = if one_row { StatusCode::OK } else { status_of_page(offset, outcome.page, outcome.total) };
            overrides = outcome.overrides;
            let content_type = if one_row { response::JSON } else { content_type(media) };
            let body = if head { None } else { outcome.body.or_else(|| Some("null".into())) };
            response::build(status, content_type, Some(range), body)
        }
    };
    response::finish(&mut response, applied, profile, &overrides)?;
    Ok(response)
}

/// The function a call names, and its arguments: by their names (the body's keys for a POST,
/// the query's other parameters for a GET); or, for a POST, the overload of one unnamed
/// `json`/`jsonb` parameter, which takes the whole body.
fn function<'c>(
    cache: &'c SchemaCache,
    req: &ApiRequest,
    name: &str,
    body: Value,
) -> Result<(&'c Function, CallInput), ApiError> {
    let post = req.method == Method::POST;
    if post {
        // A POST's other query parameters are filters of its rows, never arguments.
        req.query.reject_other()?;
    }
    // No body: no arguments.
    let body = if body.is_null() { Value::Object(Default::default()) } else { body };
    let input = match arguments(&body, req.query.columns.as_deref()) {
        Some(object) if post => CallInput::Json(object),
        _ if post => CallInput::Whole(body.clone()),
        _ => CallInput::Query(req.query.other.clone()),
    };
    let names = input.names();
    if !matches!(input, CallInput::Whole(_)) {
        if let Some(f) = one_of(cache.functions_called(&req.schema, name, &names))? {
            return Ok((f, input));
        }
    }
    if post {
        if let Some(f) = one_of(cache.functions_taking_body(&req.schema, name))? {
            return Ok((f, CallInput::Whole(body)));
        }
    }
    Err(ApiError::UnknownFunction {
        schema: req.schema.clone(),
        name: name.to_string(),
        args: names.iter().map(|n| n.to_string()).collect(),
        post,
        perhaps: function_meant(cache, &req.schema, name, &names),
    })
}

/// A POST's named arguments, as PostgREST reads them: the object (of an array, the first), only
/// the keys `columns=` names when it is given.
fn arguments(body: &Value, columns: Option<&[String]>) -> Option<serde_json::Map<String, Value>> {
    let mut object = match body {
        Value::Object(object) => object.clone(),
        Value::Array(items) => items.first()?.as_object()?.clone(),
        _ => return None,
    };
    if let Some(columns) = columns {
        object.retain(|key, _| columns.contains(key));
    }
    Some(object)
}

/// The one function a call names; several are 300 `PGRST203`, as PostgREST cannot choose either.
fn one_of(found: Vec<&Function>) -> Result<Option<&Function>, ApiError> {
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => Err(ApiError::AmbiguousFunction(
            several
                .iter()
                .map(|f| {
                    let args: Vec<String> = f.args.iter().map(|a| format!("{} => {}", a.name, a.type_name)).collect();
                    format!("{}.{}({})", f.schema, f.name, args.join(", "))
                })
                .collect(),
        )),
    }
}

/// What PostgREST suggests for a call that matches no function: another function's name when
/// none has this one, else the overload whose parameters are closest to the arguments given.
fn function_meant(cache: &SchemaCache, schema: &str, name: &str, args: &[&str]) -> Option<String> {
    let parameters = |names: &mut dyn Iterator<Item = &str>| {
        let mut names: Vec<&str> = names.collect();
        names.sort_unstable();
        format!("({})", names.join(", "))
    };
    let overloads: Vec<String> = cache
        .functions_in(schema)
        .filter(|f| f.name == name)
        .map(|f| parameters(&mut f.args.iter().map(|a| a.name.as_str())))
        .collect();
    if overloads.is_empty() {
        let set = FuzzySet::new(cache.functions_in(schema).map(|f| f.name.as_str()));
        return set.best(name, 0.75).map(str::to_string);
    }
    let given = parameters(&mut args.iter().copied());
    let best = FuzzySet::new(overloads.iter().map(String::as_str)).best(&given, 0.33)?;
    Some(format!("{name}{best}"))
}
