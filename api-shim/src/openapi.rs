//! `GET /`: the Swagger 2.0 document of the exposed schema (`Accept-Profile`) in PostgREST's
//! shape, generated from the schema cache and listing only what the caller's role may use: its
//! privileges and the catalog's comments are read in the request's own transaction, as that role.
use crate::schema_cache::{Argument, Column, Function, Relation, SchemaCache};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const PRIVILEGES_SQL: &str = include_str!("../sql/privileges.sql");

/// What the catalog says of a column beyond its type.
#[derive(Deserialize, Default)]
pub struct ColumnNotes {
    pub comment: Option<String>,
    pub max_length: Option<i64>,
    #[serde(rename = "enum")]
    pub labels: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
pub struct TablePrivileges {
    pub select: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    pub comment: Option<String>,
    #[serde(default)]
    pub columns: HashMap<String, ColumnNotes>,
}

#[derive(Deserialize)]
pub struct FunctionNotes {
    pub comment: Option<String>,
    /// Volatile functions are called by POST only.
    pub volatile: bool,
}

#[derive(Deserialize, Default)]
pub struct Privileges {
    pub relations: HashMap<String, TablePrivileges>,
    /// The functions the role may execute.
    pub functions: HashMap<String, FunctionNotes>,
    pub schema_usage: bool,
    pub schema_comment: Option<String>,
}

/// A PostgreSQL type as a Swagger type: none for json (any value).
fn swagger_type(type_name: &str) -> Option<&'static str> {
    match type_name {
        "character varying" | "character" | "text" => Some("string"),
        "boolean" => Some("boolean"),
        "smallint" | "integer" | "bigint" => Some("integer"),
        "numeric" | "real" | "double precision" => Some("number"),
        "json" | "jsonb" => None,
        t if t.ends_with("[]") => Some("array"),
        _ => Some("string"),
    }
}

/// The `format`: the PostgreSQL type, or Swagger's name for the integer widths.
fn swagger_format(type_name: &str) -> &str {
    match type_name {
        "smallint" | "integer" => "int32",
        "bigint" => "int64",
        t => t,
    }
}

/// `type`, `format` and, for an array, the `items`' type.
fn typed(type_name: &str) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("format".into(), json!(swagger_format(type_name)));
    if let Some(t) = swagger_type(type_name) {
        schema.insert("type".into(), json!(t));
    }
    if let Some(element) = type_name.strip_suffix("[]") {
        schema.insert("items".into(), swagger_type(element).map_or(json!({}), |t| json!({"type": t})));
    }
    schema
}

/// A column's default as JSON, as PostgREST reads it: a string type's literal without its cast
/// and quotes, other types' default when it is JSON (an expression such as `nextval(...)` is not).
fn default_value(type_name: &str, default: &str) -> Option<Value> {
    if swagger_type(type_name) == Some("string") {
        let literal = default.strip_suffix(&format!("::{type_name}")).map_or(default, |d| d.trim_matches('\''));
        return Some(json!(literal));
    }
    serde_json::from_str(default).ok()
}

/// The first line of a comment, and the rest without its leading newlines (PostgREST's split).
fn summary_and_description(comment: Option<&str>) -> (Option<&str>, Option<&str>) {
    let Some(comment) = comment else { return (None, None) };
    match comment.split_once('\n') {
        Some((first, rest)) => (Some(first), Some(rest.trim_start_matches('\n')).filter(|r| !r.is_empty())),
        None => (Some(comment), None),
    }
}

/// The single-column foreign key of this column, to a table rather than a view when both exist.
fn foreign_key_note(cache: &SchemaCache, r: &Relation, column: &str) -> Option<String> {
    let mut keys: Vec<_> = r.foreign_keys.iter().filter(|k| k.columns == [column]).collect();
    keys.sort_by_key(|k| cache.relation(&k.ref_schema, &k.ref_table).is_some_and(|t| t.is_view));
    let key = keys.first()?;
    let (table, target) = (&key.ref_table, &key.ref_columns[0]);
    Some(format!("This is a Foreign Key to `{table}.{target}`.<fk table='{table}' column='{target}'/>"))
}

fn property(cache: &SchemaCache, r: &Relation, c: &Column, notes: Option<&ColumnNotes>) -> Value {
    let mut schema = typed(&c.type_name);
    let comment = notes.and_then(|n| n.comment.clone());
    let mut note = vec![];
    if r.primary_key.contains(&c.name) {
        note.push("This is a Primary Key.<pk/>".to_string());
    }
    note.extend(foreign_key_note(cache, r, &c.name));
    let description = match (comment, note.is_empty()) {
        (comment, true) => comment,
        (comment, false) => {
            Some(format!("{}Note:\n{}", comment.map_or(String::new(), |c| c + "\n\n"), note.join("\n")))
        }
    };
    if let Some(d) = description {
        schema.insert("description".into(), json!(d));
    }
    if let Some(d) = c.default.as_deref().and_then(|d| default_value(&c.type_name, d)) {
        schema.insert("default".into(), d);
    }
    if let Some(n) = notes.and_then(|n| n.max_length) {
        schema.insert("maxLength".into(), json!(n));
    }
    if let Some(labels) = notes.and_then(|n| n.labels.as_ref()) {
        schema.insert("enum".into(), json!(labels));
    }
    Value::Object(schema)
}

fn definition(cache: &SchemaCache, r: &Relation, p: &TablePrivileges) -> Value {
    let properties: Map<String, Value> =
        r.columns.iter().map(|c| (c.name.clone(), property(cache, r, c, p.columns.get(&c.name)))).collect();
    let mut schema = json!({"type": "object", "properties": properties});
    if let Some(comment) = &p.comment {
        schema["description"] = json!(comment);
    }
    let required: Vec<&str> = r.columns.iter().filter(|c| !c.nullable).map(|c| c.name.as_str()).collect();
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn references(names: &[String]) -> Value {
    names.iter().map(|n| json!({"$ref": format!("#/parameters/{n}")})).collect()
}

/// An operation's tags, summary and description.
fn operation(tag: String, comment: Option<&str>) -> Value {
    let (summary, description) = summary_and_description(comment);
    let mut op = json!({"tags": [tag]});
    if let Some(s) = summary {
        op["summary"] = json!(s);
    }
    if let Some(d) = description {
        op["description"] = json!(d);
    }
    op
}

/// A table's operations: those its privileges allow (PostgREST lists all four once any write is).
fn table_paths(r: &Relation, p: &TablePrivileges) -> Value {
    let name = &r.name;
    let filters: Vec<String> = r.columns.iter().map(|c| format!("rowFilter.{name}.{}", c.name)).collect();
    let row_filters_and =
        |extra: &[&str]| references(&[filters.clone(), extra.iter().map(|e| e.to_string()).collect()].concat());
    let base = operation(name.clone(), p.comment.as_deref());
    let op = |parameters: Value, responses: Value| {
        let mut op = base.clone();
        op["parameters"] = parameters;
        op["responses"] = responses;
        op
    };
    let body = format!("body.{name}");
    let mut item = Map::new();
    if p.select {
        let rows = json!({"type": "array", "items": {"$ref": format!("#/definitions/{name}")}});
        let responses =
            json!({"200": {"description": "OK", "schema": rows}, "206": {"description": "Partial Content"}});
        item.insert(
            "get".into(),
            op(
                row_filters_and(&["select", "order", "range", "rangeUnit", "offset", "limit", "preferCount"]),
                responses,
            ),
        );
    }
    if p.insert {
        let parameters = references(&[body.clone(), "select".into(), "preferPost".into()]);
        item.insert("post".into(), op(parameters, json!({"201": {"description": "Created"}})));
    }
    if p.update {
        item.insert(
            "patch".into(),
            op(row_filters_and(&[&body, "preferReturn"]), json!({"204": {"description": "No Content"}})),
        );
    }
    if p.delete {
        item.insert(
            "delete".into(),
            op(row_filters_and(&["preferReturn"]), json!({"204": {"description": "No Content"}})),
        );
    }
    Value::Object(item)
}

/// An argument in the query string: an array in PostgreSQL's `{...}` text, a VARIADIC one repeated.
fn query_parameter(a: &Argument) -> Value {
    let mut p = json!({"name": a.name, "in": "query", "required": !a.has_default});
    if a.variadic {
        let element = a.type_name.strip_suffix("[]").unwrap_or(&a.type_name);
        p["type"] = json!("array");
        p["collectionFormat"] = json!("multi");
        p["items"] = Value::Object(typed(element));
    } else {
        p["format"] = json!(swagger_format(&a.type_name));
        p["type"] = json!(swagger_type(&a.type_name).filter(|t| *t != "array").unwrap_or("string"));
    }
    p
}

fn arguments_schema(f: &Function, notes: &FunctionNotes) -> Value {
    let properties: Map<String, Value> =
        f.args.iter().map(|a| (a.name.clone(), Value::Object(typed(&a.type_name)))).collect();
    let mut schema = json!({"type": "object", "properties": properties});
    let required: Vec<&str> = f.args.iter().filter(|a| !a.has_default).map(|a| a.name.as_str()).collect();
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    if let Some(comment) = &notes.comment {
        schema["description"] = json!(comment);
    }
    schema
}

fn function_path(f: &Function, notes: &FunctionNotes) -> Value {
    let mut base = operation(format!("(rpc) {}", f.name), notes.comment.as_deref());
    base["produces"] = json!([
        "application/json",
        "application/vnd.pgrst.object+json;nulls=stripped",
        "application/vnd.pgrst.object+json"
    ]);
    base["responses"] = json!({"200": {"description": "OK"}});
    let mut post = base.clone();
    post["parameters"] = json!([
        {"name": "args", "in": "body", "required": true, "schema": arguments_schema(f, notes)},
        {"$ref": "#/parameters/preferParams"}
    ]);
    let mut item = json!({"post": post});
    if !notes.volatile {
        base["parameters"] = f.args.iter().map(query_parameter).collect();
        item["get"] = base;
    }
    item
}

fn header(name: &str, description: &str) -> Value {
    json!({"name": name, "description": description, "required": false, "in": "header", "type": "string"})
}

fn query(name: &str, description: &str) -> Value {
    json!({"name": name, "description": description, "required": false, "in": "query", "type": "string"})
}

fn prefer(values: &[&str]) -> Value {
    let mut p = header("Prefer", "Preference");
    if !values.is_empty() {
        p["enum"] = json!(values);
    }
    p
}

/// The shared parameters, and each listed table's body and row filters.
fn parameters(relations: &[(&Relation, &TablePrivileges)]) -> Map<String, Value> {
    let mut parameters = Map::new();
    parameters.insert("preferParams".into(), prefer(&[]));
    parameters.insert("preferReturn".into(), prefer(&["return=representation", "return=minimal", "return=none"]));
    parameters.insert("preferCount".into(), prefer(&["count=none"]));
    parameters.insert(
        "preferPost".into(),
        prefer(&[
            "return=representation",
            "return=minimal",
            "return=none",
            "resolution=ignore-duplicates",
            "resolution=merge-duplicates",
        ]),
    );
    parameters.insert("select".into(), query("select", "Filtering Columns"));
    parameters.insert("on_conflict".into(), query("on_conflict", "On Conflict"));
    parameters.insert("order".into(), query("order", "Ordering"));
    parameters.insert("range".into(), header("Range", "Limiting and Pagination"));
    let mut range_unit = header("Range-Unit", "Limiting and Pagination");
    range_unit["default"] = json!("items");
    parameters.insert("rangeUnit".into(), range_unit);
    parameters.insert("offset".into(), query("offset", "Limiting and Pagination"));
    parameters.insert("limit".into(), query("limit", "Limiting and Pagination"));
    for (r, p) in relations {
        let name = &r.name;
        let body = json!({"name": name, "description": name, "required": false, "in": "body", "schema": {"$ref": format!("#/definitions/{name}")}});
        parameters.insert(format!("body.{name}"), body);
        for c in &r.columns {
            let mut filter = json!({"name": c.name, "required": false, "in": "query", "type": "string"});
            if let Some(comment) = p.columns.get(&c.name).and_then(|n| n.comment.as_ref()) {
                filter["description"] = json!(comment);
            }
            parameters.insert(format!("rowFilter.{name}.{}", c.name), filter);
        }
    }
    parameters
}

const MEDIA_TYPES: [&str; 4] = [
    "application/json",
    "application/vnd.pgrst.object+json;nulls=stripped",
    "application/vnd.pgrst.object+json",
    "text/csv",
];

pub fn document(cache: &SchemaCache, schema: &str, privileges: &Privileges) -> Value {
    let relations: Vec<(&Relation, &TablePrivileges)> = if privileges.schema_usage {
        cache.relations_in(schema).into_iter().filter_map(|r| Some((r, privileges.relations.get(&r.name)?))).collect()
    } else {
        vec![]
    };
    let mut paths = Map::new();
    paths.insert(
        "/".into(),
        json!({"get": {"tags": ["Introspection"], "summary": "OpenAPI description (this document)",
                       "produces": ["application/openapi+json", "application/json"], "responses": {"200": {"description": "OK"}}}}),
    );
    let mut definitions = Map::new();
    let mut listed = vec![];
    for (r, p) in relations {
        let item = table_paths(r, p);
        if item.as_object().is_some_and(|o| !o.is_empty()) {
            paths.insert(format!("/{}", r.name), item);
            definitions.insert(r.name.clone(), definition(cache, r, p));
            listed.push((r, p));
        }
    }
    if privileges.schema_usage {
        for f in cache.functions_in(schema) {
            if let Some(notes) = privileges.functions.get(&f.name) {
                paths.insert(format!("/rpc/{}", f.name), function_path(f, notes));
            }
        }
    }
    let (title, description) = summary_and_description(privileges.schema_comment.as_deref());
    json!({
        "swagger": "2.0",
        "info": {"title": title.unwrap_or("Tenancy REST API"), "version": env!("CARGO_PKG_VERSION"),
                 "description": description.unwrap_or("Generated from the schema; PostgREST's URL grammar. Rows are those of the caller's tenant.")},
        "basePath": "/",
        "schemes": ["http"],
        "produces": MEDIA_TYPES,
        "consumes": MEDIA_TYPES,
        "paths": paths,
        "definitions": definitions,
        "parameters": parameters(&listed),
    })
}
