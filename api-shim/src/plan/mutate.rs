//! Writes: POST (insert, upsert), PUT, PATCH and DELETE.
use super::read::Planner;
use super::values::plain_row;
use super::{expr, parsers, target, unknown_column};
use crate::body::INVALID_JSON;
use crate::error::ApiError;
use crate::plan_types::*;
use crate::prefer::{Missing, Preferences, Resolution, Return};
use crate::query_grammar as g;
use crate::schema_cache::{Relation, SchemaCache};
use serde_json::Value;

/// The rows a write sends back (`return=representation`, shaped by `select`) and the filter
/// of its target rows (PATCH, DELETE).
/// What a write's query string says beside the body: the rows it sends back, which rows it
/// changes, and the order they come back in.
struct WriteLevel {
    returning: Option<Vec<Projection>>,
    filter: Condition,
    order: Vec<Ordering>,
}

fn write_level(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
) -> Result<WriteLevel, ApiError> {
    params.reject_other()?;
    let planner = Planner::new(cache, params, None);
    let level = planner.level(relation, params.select.as_deref(), &[])?;
    planner.check_paths()?;
    let returning = match prefs.return_ {
        Some(Return::Representation) => Some(level.select),
        // headers-only: the primary key, for the `Location` of what was created.
        Some(Return::HeadersOnly) => Some(
            relation
                .primary_key
                .iter()
                .map(|c| {
                    let e = expr(relation, &g::Field { name: c.clone(), json_path: vec![] })?;
                    Ok(Projection::Field { alias: c.clone(), expr: e, cast: None })
                })
                .collect::<Result<_, ApiError>>()?,
        ),
        _ => None,
    };
    Ok(WriteLevel { returning, filter: level.filter, order: level.order })
}

/// The columns a body writes: `columns=` if given, else the keys of the (first) object,
/// every one a column of the relation that can be written.
fn columns(
    relation: &Relation,
    params: &g::QueryParams,
    first: &serde_json::Map<String, Value>,
) -> Result<Vec<String>, ApiError> {
    let names: Vec<String> = match &params.columns {
        Some(cols) => cols.clone(),
        None => first.keys().cloned().collect(),
    };
    for name in &names {
        relation.column(name).ok_or_else(|| unknown_column(relation, name))?;
    }
    Ok(names)
}

/// The body of a PATCH or PUT: one JSON object, or an array holding one (as PostgREST reads
/// it); `None` for an empty array.
fn one_object(body: &Value, method: &str) -> Result<Option<serde_json::Map<String, Value>>, ApiError> {
    let not_one = || ApiError::InvalidBody(format!("The body of a {method} must be one JSON object"));
    match body {
        Value::Object(object) => Ok(Some(object.clone())),
        Value::Array(items) if items.is_empty() => Ok(None),
        Value::Array(items) if items.len() == 1 => items[0].as_object().cloned().map(Some).ok_or_else(not_one),
        _ => Err(not_one()),
    }
}

/// A body the request must have had (POST, PATCH, PUT): an empty one is PostgREST's refusal.
fn required(body: Option<Value>) -> Result<Value, ApiError> {
    body.filter(|b| !b.is_null()).ok_or_else(|| ApiError::InvalidBody(INVALID_JSON.into()))
}

pub fn insert(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    body: Option<Value>,
) -> Result<WritePlan, ApiError> {
    let rows = match required(body)? {
        Value::Array(rows) => rows,
        object @ Value::Object(_) => vec![object],
        _ => return Err(ApiError::InvalidBody("The body must be a JSON object or an array of objects".into())),
    };
    let objects: Vec<&serde_json::Map<String, Value>> = rows
        .iter()
        .map(|r| {
            // PostgREST's words for an element that is no object.
            r.as_object().ok_or_else(|| ApiError::InvalidBody("All object keys must match".into()))
        })
        .collect::<Result<_, _>>()?;
    // `[]` inserts nothing; `{}` a row of defaults.
    let empty = serde_json::Map::new();
    let first = objects.first().copied().unwrap_or(&empty);
    let missing_default = prefs.missing == Some(Missing::Default);
    // With `missing=default` a row may leave out a column another row writes (it gets the
    // default, never a silent NULL), so the columns are every object's keys; PostgREST asks
    // for `columns=` instead, which works too.
    let mut keys = (*first).clone();
    if missing_default && params.columns.is_none() {
        for object in &objects {
            for key in object.keys() {
                keys.entry(key.clone()).or_insert(Value::Null);
            }
        }
    }
    let columns = columns(relation, params, &keys)?;
    if params.columns.is_none()
        && !missing_default
        && objects.iter().any(|o| o.len() != first.len() || o.keys().any(|k| !first.contains_key(k)))
    {
        return Err(ApiError::InvalidBody("All object keys must match".into()));
    }
    let defaults = match missing_default {
        true => columns.iter().filter_map(|c| Some((c.clone(), relation.column(c)?.default.clone()?))).collect(),
        false => vec![],
    };
    let WriteLevel { returning, order, .. } = write_level(cache, relation, params, prefs)?;
    // Without a primary key or `on_conflict=` there is nothing to collide on: PostgREST ignores
    // the resolution (and does not list it as applied) and inserts.
    let keyed = params.on_conflict.is_some() || !relation.primary_key.is_empty();
    let on_conflict = match prefs.resolution.filter(|_| keyed) {
        None => None,
        Some(resolution) => Some(OnConflict {
            columns: conflict_columns(relation, params)?,
            merge: resolution == Resolution::MergeDuplicates,
            counted_by_xmax: false,
        }),
    };
    let parsers = parsers(relation, &columns);
    let merge = matches!(on_conflict, Some(OnConflict { merge: true, .. }));
    // One row, no `missing=default`, parser or merge (whose SQL reads the rows' record): as
    // plain parameters where each value can be one.
    let values = match objects.as_slice() {
        [object] if !columns.is_empty() && defaults.is_empty() && parsers.is_empty() && !merge => {
            plain_row(relation, &columns, object)
        }
        _ => None,
    };
    let rows = match values {
        Some(values) => InsertRows::Values(values),
        None => InsertRows::Json(Value::Array(rows).to_string()),
    };
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Insert { parsers, columns, rows, on_conflict, defaults },
        returning,
        order,
    })
}

/// What an upsert collides on: `on_conflict=` (checked columns) or the primary key.
fn conflict_columns(relation: &Relation, params: &g::QueryParams) -> Result<Vec<String>, ApiError> {
    let columns = params.on_conflict.clone().unwrap_or_else(|| relation.primary_key.clone());
    for c in &columns {
        relation.column(c).ok_or_else(|| unknown_column(relation, c))?;
    }
    Ok(columns)
}

/// PUT: one row, named by `eq` filters on its primary key (`tenant_id` is the caller's, so
/// it may be left out), created or replaced with the body, which must agree with the filters.
pub fn put(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    body: Option<Value>,
) -> Result<WritePlan, ApiError> {
    if params.limits.iter().any(|(path, _)| path.is_empty()) {
        return Err(ApiError::PutLimit);
    }
    let body = required(body)?;
    let not_one = || ApiError::InvalidBody("The body of a PUT must be one JSON object".into());
    // Of an array, PostgREST puts the first element.
    let first = match &body {
        Value::Array(items) if !items.is_empty() => &items[0],
        other => other,
    };
    let object = one_object(first, "PUT")?.ok_or_else(not_one)?;
    let keyed = |column: &str| {
        params.filters.iter().find_map(|f| {
            let f = (f.path.is_empty()).then_some(&f.filter)?;
            let plain = !f.negated && f.op == g::Operator::Eq && f.quantifier.is_none() && f.field.json_path.is_empty();
            match (&f.value, plain && f.field.name == column) {
                (g::FilterValue::Single(v), true) => Some(v.clone()),
                _ => None,
            }
        })
    };
    let pk: Vec<&String> = relation.primary_key.iter().filter(|c| *c != "tenant_id").collect();
    if pk.is_empty()
        || params.filters.len() != pk.len() + usize::from(keyed("tenant_id").is_some())
        || !params.logic.is_empty()
    {
        return Err(ApiError::InvalidPut);
    }
    for column in pk.iter().map(|c| c.as_str()).chain(keyed("tenant_id").map(|_| "tenant_id")) {
        let in_url = keyed(column).ok_or(ApiError::InvalidPut)?;
        let in_body = object.get(column).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        if in_body.as_deref() != Some(in_url.as_str()) {
            return Err(ApiError::PutKeyMismatch);
        }
    }
    let columns = columns(relation, params, &object)?;
    // The filters named the row; what comes back is shaped by `select` alone.
    let WriteLevel { returning, order, .. } =
        write_level(cache, relation, &g::QueryParams { filters: vec![], ..params.clone() }, prefs)?;
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Insert {
            parsers: parsers(relation, &columns),
            columns,
            rows: InsertRows::Json(Value::Array(vec![Value::Object(object)]).to_string()),
            on_conflict: Some(OnConflict {
                columns: relation.primary_key.clone(),
                merge: true,
                counted_by_xmax: false,
            }),
            defaults: vec![],
        },
        returning,
        order,
    })
}

pub fn update(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    body: Option<Value>,
) -> Result<WritePlan, ApiError> {
    let body = required(body)?;
    // An empty object (or array) changes nothing: no row is touched, as in PostgREST.
    let object = one_object(&body, "PATCH")?.unwrap_or_default();
    let columns = columns(relation, params, &object)?;
    let WriteLevel { returning, filter, order } = write_level(cache, relation, params, prefs)?;
    let defaults = match prefs.missing == Some(Missing::Default) {
        true => columns
            .iter()
            .filter(|c| !object.contains_key(*c))
            .filter_map(|c| Some((c.clone(), relation.column(c)?.default.clone()?)))
            .collect(),
        false => vec![],
    };
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Update {
            parsers: parsers(relation, &columns),
            columns,
            row_json: Value::Object(object).to_string(),
            filter,
            defaults,
        },
        returning,
        order,
    })
}

pub fn delete(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    _body: Option<Value>,
) -> Result<WritePlan, ApiError> {
    let WriteLevel { returning, filter, order } = write_level(cache, relation, params, prefs)?;
    Ok(WritePlan { target: target(relation), mutation: Mutation::Delete { filter }, returning, order })
}
