//! `GET /`: an OpenAPI 3 document of the exposed schema (`Accept-Profile`), generated from
//! the schema cache and listing only what the caller's role may use: its privileges are read
//! in the request's own transaction, as that role.
use crate::schema_cache::{Column, Function, Relation, SchemaCache};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const PRIVILEGES_SQL: &str = include_str!("../sql/privileges.sql");

#[derive(Deserialize, Default)]
pub struct TablePrivileges {
    pub select: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
}

#[derive(Deserialize, Default)]
pub struct Privileges {
    pub relations: HashMap<String, TablePrivileges>,
    pub functions: Vec<String>,
    pub schema_usage: bool,
}

/// A PostgreSQL type as JSON Schema.
fn json_type(type_name: &str) -> Value {
    if let Some(element) = type_name.strip_suffix("[]") {
        return json!({"type": "array", "items": json_type(element)});
    }
    match type_name {
        "smallint" | "integer" | "bigint" => json!({"type": "integer"}),
        "numeric" | "real" | "double precision" => json!({"type": "number"}),
        "boolean" => json!({"type": "boolean"}),
        "json" | "jsonb" => json!({}),
        "uuid" => json!({"type": "string", "format": "uuid"}),
        "date" => json!({"type": "string", "format": "date"}),
        t if t.starts_with("timestamp") => json!({"type": "string", "format": "date-time"}),
        _ => json!({"type": "string"}),
    }
}

fn schema_of(columns: &[Column], primary_key: &[String]) -> Value {
    let properties: Map<String, Value> = columns
        .iter()
        .map(|c| {
            let mut t = json_type(&c.type_name);
            t["x-postgres-type"] = json!(c.type_name);
            if primary_key.contains(&c.name) {
                t["description"] = json!("Primary key");
            }
            (c.name.clone(), t)
        })
        .collect();
    let required: Vec<&str> =
        columns.iter().filter(|c| !c.nullable && !c.has_default && !c.generated).map(|c| c.name.as_str()).collect();
    json!({"type": "object", "properties": properties, "required": required})
}

fn rows_response(reference: &str) -> Value {
    json!({"200": {"description": "The rows", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": reference}}}}}})
}

fn table_paths(r: &Relation, p: &TablePrivileges) -> Value {
    let reference = format!("#/components/schemas/{}", r.name);
    let filters: Vec<Value> = r
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "in": "query", "required": false, "schema": {"type": "string"}, "description": "A filter: operator.value"}))
        .collect();
    let mut read_parameters = vec![
        json!({"$ref": "#/components/parameters/select"}),
        json!({"$ref": "#/components/parameters/order"}),
        json!({"$ref": "#/components/parameters/limit"}),
        json!({"$ref": "#/components/parameters/offset"}),
    ];
    read_parameters.extend(filters.iter().cloned());
    let body = json!({"content": {"application/json": {"schema": {"$ref": reference}}}});
    let mut item = Map::new();
    if p.select {
        item.insert(
            "get".into(),
            json!({"tags": [r.name], "parameters": read_parameters, "responses": rows_response(&reference)}),
        );
    }
    if p.insert {
        item.insert(
            "post".into(),
            json!({"tags": [r.name], "requestBody": body, "responses": {"201": {"description": "Created"}}}),
        );
    }
    if p.update {
        item.insert("patch".into(), json!({"tags": [r.name], "parameters": filters, "requestBody": body, "responses": {"200": {"description": "Updated"}, "204": {"description": "Updated"}}}));
    }
    if p.delete {
        item.insert("delete".into(), json!({"tags": [r.name], "parameters": filters, "responses": {"200": {"description": "Deleted"}, "204": {"description": "Deleted"}}}));
    }
    Value::Object(item)
}

fn function_path(f: &Function) -> Value {
    let properties: Map<String, Value> = f.args.iter().map(|a| (a.name.clone(), json_type(&a.type_name))).collect();
    let required: Vec<&str> = f.args.iter().filter(|a| !a.has_default).map(|a| a.name.as_str()).collect();
    let query: Vec<Value> = f
        .args
        .iter()
        .map(|a| json!({"name": a.name, "in": "query", "required": !a.has_default, "schema": json_type(&a.type_name)}))
        .collect();
    json!({
        "get": {"tags": ["(rpc)"], "parameters": query, "responses": {"200": {"description": format!("Returns {}", f.return_type)}}},
        "post": {"tags": ["(rpc)"], "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": properties, "required": required}}}},
                 "responses": {"200": {"description": format!("Returns {}", f.return_type)}}}
    })
}

pub fn document(cache: &SchemaCache, schema: &str, privileges: &Privileges) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    if privileges.schema_usage {
        for r in cache.relations_in(schema) {
            let Some(p) = privileges.relations.get(&r.name) else { continue };
            let item = table_paths(r, p);
            if item.as_object().is_some_and(|o| !o.is_empty()) {
                paths.insert(format!("/{}", r.name), item);
                schemas.insert(r.name.clone(), schema_of(&r.columns, &r.primary_key));
            }
        }
        for f in cache.functions_in(schema).filter(|f| privileges.functions.contains(&f.name)) {
            paths.insert(format!("/rpc/{}", f.name), function_path(f));
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": format!("Tenancy REST API: schema {schema}"), "version": env!("CARGO_PKG_VERSION"),
                 "description": "Generated from the schema; PostgREST's URL grammar. Rows are those of the caller's tenant."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "select": {"name": "select", "in": "query", "schema": {"type": "string"}, "description": "Columns, aliases, casts, embedded resources: rel(cols) through a foreign key or junction table, ...rel(cols) spread into the row"},
                "order": {"name": "order", "in": "query", "schema": {"type": "string"}, "description": "column.asc|desc.nullsfirst|nullslast,..."},
                "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                "offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        },
        "security": [{"bearer": []}]
    })
}
