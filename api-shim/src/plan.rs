//! From the parsed request to a plan: every name is looked up in the schema cache (an
//! unknown one is the client's mistake, named in the error), and limits are settled.
use crate::error::ApiError;
use crate::plan_types::*;
use crate::prefer::{Count, Missing, Preferences, Resolution, Return};
use crate::query_grammar as g;
use crate::schema_cache::{ForeignKey, Function, Relation, SchemaCache};
use serde_json::Value;
use std::cell::RefCell;

fn target(relation: &Relation) -> Target {
    Target { schema: relation.schema.clone(), name: relation.name.clone() }
}

fn unknown_column(relation: &Relation, column: &str) -> ApiError {
    ApiError::UnknownColumn { relation: relation.name.clone(), column: column.to_string() }
}

fn expr(relation: &Relation, field: &g::Field) -> Result<Expr, ApiError> {
    let column = relation.column(&field.name).ok_or_else(|| unknown_column(relation, &field.name))?;
    Ok(Expr { column: column.name.clone(), column_type: column.type_name.clone(), path: field.json_path.clone() })
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

/// The operator, when it compares an expression with a value (`expr <op> value`).
fn comparison(op: g::Operator) -> Option<g::Operator> {
    op.binary_sql().map(|_| op)
}

fn filter_condition(relation: &Relation, f: &g::Filter) -> Result<Condition, ApiError> {
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

fn logic(relation: &Relation, tree: &g::LogicTree) -> Result<Condition, ApiError> {
    let children = tree
        .children
        .iter()
        .map(|node| match node {
            g::LogicNode::Filter(f) => filter_condition(relation, f),
            g::LogicNode::Tree(t) => logic(relation, t),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let combined = match tree.op {
        g::LogicOp::And => Condition::And(children),
        g::LogicOp::Or => Condition::Or(children),
    };
    Ok(if tree.negated { Condition::Not(Box::new(combined)) } else { combined })
}

/// A relationship between a relation and one embedded in it: a foreign key, or a junction
/// table with a foreign key to each.
struct Relationship<'a> {
    child: &'a Relation,
    join: Join,
    many: bool,
}

/// One way `parent` may embed a relation; `label` names it in an ambiguity error.
struct Candidate<'a> {
    relationship: Relationship<'a>,
    label: String,
}

fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

/// Plans the levels of one request: the target and each embedded resource, with the filters,
/// order and limits whose path names that level.
struct Planner<'a> {
    cache: &'a SchemaCache,
    params: &'a g::QueryParams,
    /// The embed paths planned so far: a filter, order or limit on any other path is an error.
    paths: RefCell<Vec<Vec<String>>>,
}

impl<'a> Planner<'a> {
    fn new(cache: &'a SchemaCache, params: &'a g::QueryParams) -> Self {
        Planner { cache, params, paths: RefCell::new(vec![vec![]]) }
    }

    fn level(
        &self,
        relation: &Relation,
        select: Option<&[g::SelectItem]>,
        path: &[String],
        max_rows: Option<u64>,
    ) -> Result<Level, ApiError> {
        let mut filter = vec![];
        for f in self.params.filters.iter().filter(|f| f.path == path) {
            filter.push(filter_condition(relation, &f.filter)?);
        }
        for t in self.params.logic.iter().filter(|t| t.path == path) {
            filter.push(logic(relation, &t.tree)?);
        }
        let select = self.projections(relation, select, path, &mut filter)?;
        let mut order = vec![];
        for (_, terms) in self.params.order.iter().filter(|(p, _)| p == path) {
            for t in terms {
                order.push(Ordering {
                    expr: expr(relation, &t.field)?,
                    descending: t.direction == Some(g::Direction::Desc),
                    nulls_first: t.nulls.map(|n| n == g::Nulls::First),
                });
            }
        }
        let range = self.params.limits.iter().find(|(p, _)| p == path).map(|(_, r)| *r).unwrap_or_default();
        let mut limit = range.limit;
        if let Some(max) = max_rows {
            limit = Some(limit.map_or(max, |l| l.min(max)));
        }
        Ok(Level { select, filter: Condition::And(filter), order, offset: range.offset.unwrap_or(0), limit })
    }

    /// The select list; `!inner` embeds also add their existence to `filter`.
    fn projections(
        &self,
        relation: &Relation,
        select: Option<&[g::SelectItem]>,
        path: &[String],
        filter: &mut Vec<Condition>,
    ) -> Result<Vec<Projection>, ApiError> {
        let Some(items) = select else { return Ok(vec![Projection::All]) };
        let mut out = vec![];
        for item in items {
            match item {
                g::SelectItem::Star => out.push(Projection::All),
                g::SelectItem::Field { alias, field, cast: c } => {
                    let e = expr(relation, field)?;
                    let alias = alias.clone().unwrap_or_else(|| e.default_name());
                    out.push(Projection::Field { expr: e, alias, cast: c.as_deref().map(cast).transpose()? });
                }
                g::SelectItem::Embed { alias, relation: name, hint, join, select, spread } => {
                    let embed = self.embed(relation, name, hint.as_deref(), alias.as_deref(), select, path)?;
                    // Only one related row can lend its columns to the parent object.
                    if *spread && embed.many {
                        return Err(ApiError::SpreadNotToOne { parent: relation.name.clone(), name: name.clone() });
                    }
                    let inner = *join == Some(g::JoinType::Inner);
                    if inner {
                        // Existence needs the embedded rows' filter, not their columns or order.
                        let query = Level { select: vec![], order: vec![], ..embed.query.clone() };
                        filter.push(Condition::EmbedExists(Box::new(Embed { query, ..embed.clone() })));
                    }
                    // `rel()` embeds nothing: it is there to filter the parent.
                    if !select.is_empty() {
                        let embed = Box::new(Embed { inner, ..embed });
                        out.push(if *spread { Projection::Spread(embed) } else { Projection::Embed(embed) });
                    }
                }
            }
        }
        Ok(out)
    }

    fn embed(
        &self,
        parent: &Relation,
        name: &str,
        hint: Option<&str>,
        alias: Option<&str>,
        select: &[g::SelectItem],
        path: &[String],
    ) -> Result<Embed, ApiError> {
        let Relationship { child, join, many } = self.relationship(parent, name, hint)?;
        let key = alias.unwrap_or(name).to_string();
        let mut child_path = path.to_vec();
        child_path.push(key.clone());
        self.paths.borrow_mut().push(child_path.clone());
        let query = self.level(child, Some(select), &child_path, None)?;
        Ok(Embed { name: key, target: target(child), join, many, inner: false, query })
    }

    /// The one relationship between `parent` and the relation called `name`: many-to-one
    /// when the parent holds the foreign key; one-to-many when the other does (one-to-one
    /// when its columns are the other's primary key or a unique key); many-to-many through
    /// a junction table. `hint` (a foreign key's name or one of its columns; for
    /// many-to-many, the junction's name) picks among several.
    fn relationship(&self, parent: &Relation, name: &str, hint: Option<&str>) -> Result<Relationship<'a>, ApiError> {
        let fits = |fk: &ForeignKey| hint.is_none_or(|h| fk.name == h || fk.columns.iter().any(|c| c == h));
        let mut found = vec![];
        for fk in parent.foreign_keys.iter().filter(|fk| fk.ref_table == name && fits(fk)) {
            if let Some(child) = self.cache.relation(&fk.ref_schema, &fk.ref_table) {
                let join = fk.ref_columns.iter().cloned().zip(fk.columns.iter().cloned()).collect();
                let relationship = Relationship { child, join: Join::Direct(join), many: false };
                found.push(Candidate { relationship, label: fk.name.clone() });
            }
        }
        for child in self.cache.relations_named(name) {
            for fk in child
                .foreign_keys
                .iter()
                .filter(|fk| fk.ref_schema == parent.schema && fk.ref_table == parent.name && fits(fk))
            {
                let join = fk.columns.iter().cloned().zip(fk.ref_columns.iter().cloned()).collect();
                let one = same_columns(&fk.columns, &child.primary_key)
                    || child.unique_keys.iter().any(|key| same_columns(&fk.columns, key));
                let relationship = Relationship { child, join: Join::Direct(join), many: !one };
                found.push(Candidate { relationship, label: fk.name.clone() });
            }
        }
        found.extend(self.junctions(parent, name, hint));
        match found.len() {
            1 => Ok(found.remove(0).relationship),
            0 => Err(ApiError::NoRelationship { parent: parent.name.clone(), name: name.to_string() }),
            _ => Err(ApiError::AmbiguousRelationship {
                parent: parent.name.clone(),
                name: name.to_string(),
                candidates: found.into_iter().map(|c| c.label).collect(),
            }),
        }
    }

    /// Many-to-many relationships, by PostgREST's rule: a table with a foreign key to the
    /// parent and another to the relation called `name`, the columns of both within its
    /// primary key. In tenant tables both keys hold `tenant_id` (`(tenant_id, film_id)`,
    /// `(tenant_id, actor_id)` in a key `(tenant_id, film_id, actor_id)`); every column pair
    /// of each joins.
    fn junctions(&self, parent: &Relation, name: &str, hint: Option<&str>) -> Vec<Candidate<'a>> {
        let mut found = vec![];
        for junction in self.cache.relations().filter(|j| hint.is_none_or(|h| j.name == h)) {
            let in_key = |fk: &ForeignKey| fk.columns.iter().all(|c| junction.primary_key.contains(c));
            let to_parent = junction
                .foreign_keys
                .iter()
                .filter(|fk| fk.ref_schema == parent.schema && fk.ref_table == parent.name && in_key(fk));
            for to_parent in to_parent {
                for to_child in junction
                    .foreign_keys
                    .iter()
                    .filter(|fk| fk.name != to_parent.name && fk.ref_table == name && in_key(fk))
                {
                    let Some(child) = self.cache.relation(&to_child.ref_schema, &to_child.ref_table) else { continue };
                    let pairs =
                        |fk: &ForeignKey| fk.columns.iter().cloned().zip(fk.ref_columns.iter().cloned()).collect();
                    let join =
                        Join::Junction { table: target(junction), parent: pairs(to_parent), child: pairs(to_child) };
                    found.push(Candidate {
                        relationship: Relationship { child, join, many: true },
                        label: format!("{} ({}, {})", junction.name, to_parent.name, to_child.name),
                    });
                }
            }
        }
        found
    }

    /// Every filter, order and limit must belong to the target or an embedded resource.
    fn check_paths(&self) -> Result<(), ApiError> {
        let known = self.paths.borrow();
        let used = self
            .params
            .filters
            .iter()
            .map(|f| &f.path)
            .chain(self.params.logic.iter().map(|t| &t.path))
            .chain(self.params.order.iter().map(|(p, _)| p))
            .chain(self.params.limits.iter().map(|(p, _)| p));
        for path in used {
            if !known.contains(path) {
                return Err(ApiError::NotEmbedded(path.join(".")));
            }
        }
        Ok(())
    }
}

/// Offset and limit of the top level from the `Range` header (items, inclusive), narrowed
/// by `limit`/`offset` and the server's ceiling.
fn apply_range(level: &mut Level, range: Option<(u64, Option<u64>)>) {
    if let Some((first, last)) = range {
        level.offset = level.offset.max(first);
        let by_range = last.map(|l| l.saturating_sub(first) + 1);
        level.limit = match (level.limit, by_range) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// `Prefer: count=` as the plan counts it; `estimated` switches to the planner's estimate
/// past the server's row ceiling.
fn total(prefs: &Preferences, max_rows: Option<u64>) -> Option<Total> {
    prefs.count.map(|count| match count {
        Count::Exact => Total::Exact,
        Count::Planned => Total::Planned,
        Count::Estimated => Total::Estimated { max_rows },
    })
}

pub fn read(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    range: Option<(u64, Option<u64>)>,
    max_rows: Option<u64>,
) -> Result<ReadPlan, ApiError> {
    params.reject_other()?;
    let planner = Planner::new(cache, params);
    let mut level = planner.level(relation, params.select.as_deref(), &[], max_rows)?;
    apply_range(&mut level, range);
    planner.check_paths()?;
    Ok(ReadPlan { source: Source::Relation(target(relation)), level, count: total(prefs, max_rows) })
}

/// The rows a write sends back (`return=representation`, shaped by `select`) and the filter
/// of its target rows (PATCH, DELETE).
fn write_level(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
) -> Result<(Option<Vec<Projection>>, Condition), ApiError> {
    params.reject_other()?;
    let planner = Planner::new(cache, params);
    let level = planner.level(relation, params.select.as_deref(), &[], None)?;
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
    Ok((returning, level.filter))
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
    if names.is_empty() {
        return Err(ApiError::InvalidBody("The body names no column to write".into()));
    }
    Ok(names)
}

/// The body of a PATCH or PUT: one JSON object.
fn one_object<'b>(body: &'b Value, method: &str) -> Result<&'b serde_json::Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| ApiError::InvalidBody(format!("The body of a {method} must be one JSON object")))
}

/// A body the request must have had (POST, PATCH, PUT).
fn required(body: Option<Value>) -> Result<Value, ApiError> {
    body.ok_or_else(|| ApiError::InvalidBody("The request needs a JSON body".into()))
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
            r.as_object().ok_or_else(|| ApiError::InvalidBody("Every element of the array must be an object".into()))
        })
        .collect::<Result<_, _>>()?;
    let first = objects.first().ok_or_else(|| ApiError::InvalidBody("The array holds no row".into()))?;
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
    let (returning, _) = write_level(cache, relation, params, prefs)?;
    let on_conflict = match prefs.resolution {
        None => None,
        Some(resolution) => Some(OnConflict {
            columns: conflict_columns(relation, params)?,
            merge: resolution == Resolution::MergeDuplicates,
        }),
    };
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Insert {
            columns,
            rows_json: Value::Array(rows.clone()).to_string(),
            on_conflict,
            defaults,
        },
        returning,
    })
}

/// What an upsert collides on: `on_conflict=` (checked columns) or the primary key.
fn conflict_columns(relation: &Relation, params: &g::QueryParams) -> Result<Vec<String>, ApiError> {
    let columns = params.on_conflict.clone().unwrap_or_else(|| relation.primary_key.clone());
    if columns.is_empty() {
        return Err(ApiError::InvalidBody(format!(
            "'{}' has no primary key: name the conflict columns with on_conflict=",
            relation.name
        )));
    }
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
    let body = required(body)?;
    let object = one_object(&body, "PUT")?;
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
        return Err(ApiError::InvalidBody(
            "PUT needs exactly the primary key, as eq filters, and no other filter".into(),
        ));
    }
    for column in pk.iter().map(|c| c.as_str()).chain(keyed("tenant_id").map(|_| "tenant_id")) {
        let in_url = keyed(column).ok_or_else(|| ApiError::InvalidBody(format!("PUT needs {column}=eq.<value>")))?;
        let in_body = object.get(column).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        if in_body.as_deref() != Some(in_url.as_str()) {
            return Err(ApiError::InvalidBody(format!(
                "Payload values do not match URL in primary key column {column}"
            )));
        }
    }
    let columns = columns(relation, params, object)?;
    // The filters named the row; what comes back is shaped by `select` alone.
    let (returning, _) = write_level(cache, relation, &g::QueryParams { filters: vec![], ..params.clone() }, prefs)?;
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Insert {
            columns,
            rows_json: Value::Array(vec![body.clone()]).to_string(),
            on_conflict: Some(OnConflict { columns: relation.primary_key.clone(), merge: true }),
            defaults: vec![],
        },
        returning,
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
    let object = one_object(&body, "PATCH")?;
    let columns = columns(relation, params, object)?;
    let (returning, filter) = write_level(cache, relation, params, prefs)?;
    Ok(WritePlan {
        target: target(relation),
        mutation: Mutation::Update { columns, row_json: body.to_string(), filter },
        returning,
    })
}

pub fn delete(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    _body: Option<Value>,
) -> Result<WritePlan, ApiError> {
    let (returning, filter) = write_level(cache, relation, params, prefs)?;
    Ok(WritePlan { target: target(relation), mutation: Mutation::Delete { filter }, returning })
}

/// The arguments of an RPC as the request gave them.
pub enum CallInput {
    /// POST: the body's JSON object.
    Json(serde_json::Map<String, Value>),
    /// GET: the query parameters that are not filters.
    Query(Vec<(String, String)>),
}

impl CallInput {
    pub fn names(&self) -> Vec<&str> {
        match self {
            CallInput::Json(object) => object.keys().map(String::as_str).collect(),
            CallInput::Query(pairs) => pairs.iter().map(|(k, _)| k.as_str()).collect(),
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
    max_rows: Option<u64>,
) -> Result<CallPlan, ApiError> {
    let target = Target { schema: function.schema.clone(), name: function.name.clone() };
    let args = call_args(function, input);
    if !function.returns_rows() {
        return Ok(CallPlan::Scalar(ScalarCall { function: target, args, returns_set: function.returns_set }));
    }
    let synthesized;
    let relation = match &function.return_relation {
        Some(r) => cache
            .relation(&r.schema, &r.name)
            .ok_or_else(|| ApiError::UnknownRelation { schema: r.schema.clone(), name: r.name.clone() })?,
        None => {
            synthesized = Relation {
                schema: function.schema.clone(),
                name: function.name.clone(),
                is_view: true,
                columns: function.out_columns.clone(),
                primary_key: vec![],
                unique_keys: vec![],
                foreign_keys: vec![],
            };
            &synthesized
        }
    };
    let planner = Planner::new(cache, params);
    let level = planner.level(relation, params.select.as_deref(), &[], max_rows)?;
    planner.check_paths()?;
    let count = total(prefs, max_rows);
    Ok(CallPlan::Rows {
        plan: Box::new(ReadPlan { source: Source::Call { function: target, args }, level, count }),
        single: !function.returns_set,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Tenant tables: films and actors keyed `(tenant_id, id)`, the junction `films_actors`
    /// keyed `(tenant_id, film_id, actor_id)`, `screenings` with keys to both outside its key,
    /// `directors` (many-to-one from films) and `technical_specs` (one-to-one).
    fn cache() -> SchemaCache {
        let column = |name: &str| {
            let mut c = json!({"type_name": "int", "nullable": false, "has_default": false, "generated": false});
            c["name"] = json!(name);
            c
        };
        let fk = |name: &str, columns: &[&str], table: &str| {
            let to = ["tenant_id", "id"];
            json!({"name": name, "columns": columns, "ref_schema": "cinema", "ref_table": table, "ref_columns": to})
        };
        let relation = |name: &str, columns: &[&str], key: &[&str], fks: Vec<Value>| {
            let columns: Vec<Value> = columns.iter().map(|c| column(c)).collect();
            json!({"schema": "cinema", "name": name, "is_view": false, "columns": columns, "primary_key": key,
                   "foreign_keys": fks})
        };
        let doc = json!({"functions": [], "relations": [
            relation("films", &["tenant_id", "id", "title", "director_id"], &["tenant_id", "id"],
                     vec![fk("films_director_fkey", &["tenant_id", "director_id"], "directors")]),
            relation("directors", &["tenant_id", "id", "name"], &["tenant_id", "id"], vec![]),
            relation("actors", &["tenant_id", "id", "name"], &["tenant_id", "id"], vec![]),
            relation("films_actors", &["tenant_id", "film_id", "actor_id"], &["tenant_id", "film_id", "actor_id"], vec![
                fk("films_actors_film_fkey", &["tenant_id", "film_id"], "films"),
                fk("films_actors_actor_fkey", &["tenant_id", "actor_id"], "actors"),
            ]),
            relation("screenings", &["tenant_id", "id", "film_id", "actor_id"], &["tenant_id", "id"], vec![
                fk("screenings_film_fkey", &["tenant_id", "film_id"], "films"),
                fk("screenings_actor_fkey", &["tenant_id", "actor_id"], "actors"),
            ]),
            relation("technical_specs", &["tenant_id", "film_id"], &["tenant_id", "film_id"],
                     vec![fk("specs_film_fkey", &["tenant_id", "film_id"], "films")]),
        ]});
        SchemaCache::from_json(&doc.to_string()).unwrap()
    }

    fn plan(query: &str) -> Result<ReadPlan, ApiError> {
        let cache = cache();
        let films = cache.relation("cinema", "films").unwrap();
        read(&cache, films, &g::parse_query(query).unwrap(), &Preferences::default(), None, None)
    }

    fn first_embed(plan: &ReadPlan) -> &Embed {
        match &plan.level.select[1] {
            Projection::Embed(e) | Projection::Spread(e) => e,
            other => panic!("not an embed: {other:?}"),
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_junction_with_composite_tenant_keys_joins_on_every_column() {
        let plan = plan("select=title,actors(name)").unwrap();
        let embed = first_embed(&plan);
        assert!(embed.many);
        assert_eq!(
            embed.join,
            Join::Junction {
                table: Target { schema: "cinema".into(), name: "films_actors".into() },
                parent: pairs(&[("tenant_id", "tenant_id"), ("film_id", "id")]),
                child: pairs(&[("tenant_id", "tenant_id"), ("actor_id", "id")]),
            },
            "screenings is no junction: its foreign keys are not in its key"
        );
        let sql = crate::sql_builder::read(&plan, crate::sql_builder::Media::Json).sql;
        assert!(
            sql.contains(
                "EXISTS (SELECT 1 FROM \"cinema\".\"films_actors\" AS \"_pgrst_j1\" WHERE \
                 \"_pgrst_j1\".\"tenant_id\" = \"_pgrst_1\".\"tenant_id\" \
                 AND \"_pgrst_j1\".\"actor_id\" = \"_pgrst_1\".\"id\" \
                 AND \"_pgrst_j1\".\"tenant_id\" = \"_pgrst_0\".\"tenant_id\" \
                 AND \"_pgrst_j1\".\"film_id\" = \"_pgrst_0\".\"id\")"
            ),
            "{sql}"
        );
    }

    #[test]
    fn the_junction_name_is_the_hint_and_a_foreign_key_name_is_not() {
        assert!(plan("select=title,actors!films_actors(name)").is_ok());
        for hint in ["screenings", "films_actors_actor_fkey"] {
            let query = format!("select=title,actors!{hint}(name)");
            assert!(matches!(plan(&query), Err(ApiError::NoRelationship { .. })), "{query}");
        }
    }

    #[test]
    fn spread_is_for_to_one_relationships() {
        let spread = plan("select=title,...directors(director:name)").unwrap();
        assert!(matches!(&spread.level.select[1], Projection::Spread(e) if !e.many));
        let sql = crate::sql_builder::read(&spread, crate::sql_builder::Media::Json).sql;
        let lateral = "LEFT JOIN LATERAL (SELECT \"_pgrst_1\".\"name\" AS \"director\" \
                       FROM \"cinema\".\"directors\" AS \"_pgrst_1\" \
                       WHERE \"_pgrst_1\".\"tenant_id\" = \"_pgrst_0\".\"tenant_id\" \
                       AND \"_pgrst_1\".\"id\" = \"_pgrst_0\".\"director_id\" AND true) AS \"_pgrst_s0_1\" ON true";
        assert!(sql.contains(lateral), "{sql}");
        assert!(
            sql.starts_with("SELECT")
                && sql.contains("SELECT \"_pgrst_0\".\"title\" AS \"title\", \"_pgrst_s0_1\".* FROM"),
            "{sql}"
        );

        let one_to_one = plan("select=title,...technical_specs(film_id)").unwrap();
        assert!(!first_embed(&one_to_one).many, "a foreign key on the child's primary key is one-to-one");

        for query in ["select=title,...actors(name)", "select=title,...screenings(id)"] {
            assert!(
                matches!(plan(query), Err(ApiError::SpreadNotToOne { ref parent, .. }) if parent == "films"),
                "{query}"
            );
        }
    }
}
