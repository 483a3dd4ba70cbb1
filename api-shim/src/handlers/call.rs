//! `/rpc/<function>`: GET (arguments in the query string, a read-only transaction) or POST
//! (arguments in the body).
use super::{check_offset, content_type, execute, execute_read, status_of_page};
use crate::accept::Answer;
use crate::body::{CallBody, WholeBody};
use crate::error::{ApiError, Unnamed};
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
    body: CallBody,
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
            let answer = req.accept.for_function(f.media_type.as_deref())?;
            let raw = matches!(answer, Answer::Raw(_));
            let expect = Expectation { singular: false, max_affected };
            let outcome = execute(&state, req, sql_builder::scalar_call(&call, raw), expect).await?;
            overrides = outcome.overrides;
            // One value: the first and last item of one, as PostgREST counts it.
            let range = response::content_range(0, 1, counted.then_some(1));
            match answer {
                _ if call.returns_void => response::empty(StatusCode::NO_CONTENT, None),
                Answer::Raw(content_type) => {
                    let body = if head { None } else { outcome.body };
                    response::build(StatusCode::OK, &content_type, Some(range), body)
                }
                Answer::Built(_) => {
                    let body = if head { None } else { outcome.body.or_else(|| Some("null".into())) };
                    response::build(StatusCode::OK, response::JSON, Some(range), body)
                }
            }
        }
        CallPlan::Rows { plan, single: one_row } => {
            if max_affected.is_some() && one_row {
                return Err(ApiError::MaxAffectedNeedsSet);
            }
            // A function returning one row answers an object, as a single-object read does.
            let media = match req.media()? {
                Media::Json if one_row => Media::Object,
                media => media,
            };
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

/// The function a call names, and its arguments, as PostgREST's `findProc` finds them: by their
/// names (a JSON or CSV body's keys for a POST, a form's or, for a GET, the query's other
/// parameters, as text);
/// else, for a POST, the overload of one unnamed parameter of the body's type (`json`/`jsonb`,
/// `text`, `xml`, `bytea`), which takes the whole body. A raw body (not JSON) has no names.
fn function<'c>(
    cache: &'c SchemaCache,
    req: &ApiRequest,
    name: &str,
    body: CallBody,
) -> Result<(&'c Function, CallInput), ApiError> {
    let post = req.method == Method::POST;
    if post {
        // A POST's other query parameters are filters of its rows, never arguments.
        req.query.reject_other()?;
    }
    // Only a POST's body is read; no body: no arguments.
    let whole = body.whole.filter(|_| post);
    let raw = whole.as_ref().is_some_and(WholeBody::is_raw);
    let value = if body.value.is_null() { Value::Object(Default::default()) } else { body.value };
    let input = match (arguments(&value, req.query.columns.as_deref()), body.form) {
        _ if !post => Some(CallInput::Query(req.query.other.clone())),
        (_, Some(pairs)) => Some(CallInput::Query(pairs)),
        (Some(object), None) if !raw => Some(CallInput::Json(object)),
        _ => None,
    };
    let names: Vec<String> = input.as_ref().map_or(vec![], |i| i.names().into_iter().map(str::to_string).collect());
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    if let Some(input) = input {
        if let Some(f) = one_of(cache.functions_called(&req.schema, name, &name_refs))? {
            return Ok((f, input));
        }
    }
    if let Some(whole) = &whole {
        if let Some(f) = one_of(cache.functions_taking(&req.schema, name, whole))? {
            return Ok((f, CallInput::Whole(whole.argument(&value))));
        }
    }
    let unnamed = whole.as_ref().map_or(Unnamed::No, WholeBody::searched);
    Err(ApiError::UnknownFunction {
        schema: req.schema.clone(),
        name: name.to_string(),
        unnamed,
        // PostgREST suggests nothing for a raw body.
        perhaps: (!raw).then(|| function_meant(cache, &req.schema, name, &name_refs)).flatten(),
        args: names,
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
