//! What the exposed schemas hold, read once at start-up (and on `NOTIFY pgrst, 'reload
//! schema'`): identifiers in a request are checked here before they reach SQL.
use crate::body::WholeBody;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Deserialize)]
pub struct Column {
    pub name: String,
    /// The type to cast request values to (`format_type` without modifiers).
    pub type_name: String,
    pub nullable: bool,
    pub has_default: bool,
    /// Generated or `GENERATED ALWAYS` identity: never written by a request.
    pub generated: bool,
    /// The column's default as SQL (`pg_get_expr` of the catalog, an identity's `nextval`),
    /// for `Prefer: missing=default`; catalog text, never request text.
    #[serde(default)]
    pub default: Option<String>,
    /// Data representations (PostgREST's): the functions of the implicit casts between the
    /// column's domain and json or text, as `schema.name` from the catalog. `to_json` writes
    /// the column into a body, `from_json` reads it from one, `from_text` from the query string.
    #[serde(default)]
    pub to_json: Option<String>,
    #[serde(default)]
    pub from_json: Option<String>,
    #[serde(default)]
    pub from_text: Option<String>,
    #[serde(default)]
    pub body_value: BodyValue,
}

/// How `json_populate_record` makes a body's JSON value into the column's value, by the
/// column's type: what decides whether an insert may send the value as a plain parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyValue {
    /// A scalar type: the input function of the value's text (a string's contents).
    Text,
    /// `json`, `jsonb`: the JSON value itself.
    Json,
    /// A composite or an array: field by field, element by element.
    #[default]
    Structured,
    /// A domain: checked even when the body leaves the column out (a `NOT NULL` domain refuses
    /// the NULL the record starts from), so a row is only ever read through the record.
    Domain,
}

/// A computed column: a function of the relation's row type, read like a column in `select`,
/// filters and `order` (never by `*`).
#[derive(Debug, Clone, Deserialize)]
pub struct ComputedColumn {
    pub schema: String,
    pub name: String,
    pub type_name: String,
}

/// A computed relationship: a function of the relation's row type returning rows of another
/// relation, embedded under the function's name.
#[derive(Debug, Clone, Deserialize)]
pub struct ComputedRelationship {
    pub schema: String,
    pub name: String,
    /// To-many, unless it returns one row (or `SETOF ... ROWS 1`).
    pub many: bool,
    pub ref_schema: String,
    pub ref_table: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_schema: String,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    /// Its columns are the owner's primary key or a unique key (of the table, for a view's).
    #[serde(default)]
    pub one_to_one: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Relation {
    pub schema: String,
    pub name: String,
    pub is_view: bool,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    #[serde(default)]
    pub computed: Vec<ComputedColumn>,
    #[serde(default)]
    pub computed_relationships: Vec<ComputedRelationship>,
}

impl Relation {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn computed_column(&self, name: &str) -> Option<&ComputedColumn> {
        self.computed.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Argument {
    pub name: String,
    pub type_name: String,
    pub has_default: bool,
    /// `VARIADIC`: its type is an array, whose elements a call may give one by one.
    #[serde(default)]
    pub variadic: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RelationName {
    pub schema: String,
    pub name: String,
}

/// A function callable as `/rpc/<name>`.
#[derive(Debug, Clone, Deserialize)]
pub struct Function {
    pub schema: String,
    pub name: String,
    pub args: Vec<Argument>,
    pub returns_set: bool,
    pub return_type: String,
    /// It returns rows of this table or view.
    pub return_relation: Option<RelationName>,
    /// `RETURNS TABLE (...)` / OUT parameters: its result columns.
    pub out_columns: Vec<Column>,
    /// It returns one value of a domain named like a media type (`"text/plain"`, `"*/*"`):
    /// answered raw, as that media type, when `Accept` asks for it (PostgREST's handlers).
    #[serde(default)]
    pub media_type: Option<String>,
}

impl Function {
    /// Whether it answers with rows that can be selected, filtered and ordered like a table's.
    pub fn returns_rows(&self) -> bool {
        self.return_relation.is_some() || !self.out_columns.is_empty()
    }

    /// A function of one unnamed parameter of the type a body is (`json`/`jsonb`, `text`, `xml`,
    /// `bytea`) takes a POST's whole body.
    pub fn takes_whole(&self, body: &WholeBody) -> bool {
        matches!(self.args.as_slice(), [arg] if arg.name.is_empty() && body.types().contains(&arg.type_name.as_str()))
    }

    /// Whether these argument names call it: each one of its own, none of its required ones left out.
    fn accepts(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.args.iter().any(|a| a.name == *n))
            && self.args.iter().all(|a| a.has_default || names.contains(&a.name.as_str()))
    }
}

#[derive(Debug, Default)]
pub struct SchemaCache {
    relations: HashMap<(String, String), Relation>,
    functions: Vec<Function>,
    /// On Citus, the tables distributed by `tenant_id` (see `routing`).
    distributed_by_tenant: HashSet<(String, String)>,
    /// The database has tenant tables: tokens of tenant roles must name their tenant.
    pub tenant_tables: bool,
    /// The database is a Citus coordinator.
    pub citus: bool,
}

#[derive(Deserialize)]
struct Introspection {
    relations: Vec<Relation>,
    functions: Vec<Function>,
}

pub const INTROSPECT_SQL: &str = include_str!("../sql/introspect.sql");

/// Citus's hash-distributed tables whose distribution column is `tenant_id`, in the exposed schemas.
/// Whether `tenancy.protect` made any table a tenant table (the catalog is readable by all).
const TENANT_TABLES_SQL: &str = "SELECT EXISTS (SELECT FROM tenancy.protected_tables)";

const DISTRIBUTED_BY_TENANT_SQL: &str = "SELECT n.nspname::text, c.relname::text
    FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE p.partmethod = 'h' AND column_to_column_name(p.logicalrelid, p.partkey) = 'tenant_id' AND n.nspname = ANY ($1)";

impl SchemaCache {
    /// Builds the cache from the JSON document `sql/introspect.sql` returns.
    pub fn from_json(json: &str) -> serde_json::Result<SchemaCache> {
        let doc: Introspection = serde_json::from_str(json)?;
        Ok(SchemaCache {
            relations: doc.relations.into_iter().map(|r| ((r.schema.clone(), r.name.clone()), r)).collect(),
            functions: doc.functions,
            distributed_by_tenant: HashSet::new(),
            tenant_tables: false,
            citus: false,
        })
    }

    pub async fn load(
        client: &tokio_postgres::Client,
        schemas: &[String],
    ) -> Result<SchemaCache, tokio_postgres::Error> {
        let json: String = client.query_one(INTROSPECT_SQL, &[&schemas]).await?.get(0);
        let mut cache =
            SchemaCache::from_json(&json).expect("sql/introspect.sql returns the document Introspection reads");
        cache.tenant_tables = client.query_one(TENANT_TABLES_SQL, &[]).await?.get(0);
        cache.citus =
            client.query_one("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')", &[]).await?.get(0);
        if cache.citus {
            let rows = client.query(DISTRIBUTED_BY_TENANT_SQL, &[&schemas]).await?;
            cache.distributed_by_tenant = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        }
        Ok(cache)
    }

    /// Whether `relation` is a Citus table distributed by `tenant_id`.
    pub fn distributed_by_tenant(&self, relation: &Relation) -> bool {
        // One node: an empty set, and nothing copied to look into it.
        !self.distributed_by_tenant.is_empty()
            && self.distributed_by_tenant.contains(&(relation.schema.clone(), relation.name.clone()))
    }

    /// The overloads of `schema.name` these argument names call (more than one: ambiguous).
    pub fn functions_called(&self, schema: &str, name: &str, arg_names: &[&str]) -> Vec<&Function> {
        self.functions.iter().filter(|f| f.schema == schema && f.name == name && f.accepts(arg_names)).collect()
    }

    /// The functions `schema.name` that take a POST's whole body (`json` and `jsonb` both: ambiguous).
    pub fn functions_taking(&self, schema: &str, name: &str, body: &WholeBody) -> Vec<&Function> {
        self.functions.iter().filter(|f| f.schema == schema && f.name == name && f.takes_whole(body)).collect()
    }

    pub fn relation(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.relations.get(&(schema.to_string(), name.to_string()))
    }

    /// Relations of that name in any exposed schema (the other side of a foreign key may
    /// live in another schema).
    pub fn relations_named(&self, name: &str) -> Vec<&Relation> {
        self.relations.values().filter(|r| r.name == name).collect()
    }

    /// Every relation of the exposed schemas (junction tables may live in any of them).
    pub fn relations(&self) -> impl Iterator<Item = &Relation> + '_ {
        self.relations.values()
    }

    /// The relations of one schema, by name.
    pub fn relations_in(&self, schema: &str) -> Vec<&Relation> {
        let mut found: Vec<&Relation> = self.relations.values().filter(|r| r.schema == schema).collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    }

    pub fn functions_in<'a>(&'a self, schema: &'a str) -> impl Iterator<Item = &'a Function> + 'a {
        self.functions.iter().filter(move |f| f.schema == schema)
    }

    pub fn len(&self) -> usize {
        self.relations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.relations.is_empty()
    }
}
