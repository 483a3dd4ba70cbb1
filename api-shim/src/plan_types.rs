//! The typed plan of one request: every identifier in it has been checked against the
//! schema cache, every value is still a string that only ever becomes a bound parameter.
use crate::operators::Operator;
pub use crate::query_grammar::AggregateFunction;

/// `"schema"."name"` of an exposed table or view.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub schema: String,
    pub name: String,
}

// A JSON path is already as typed as the plan needs it when the grammar parses it.
pub use crate::query_grammar::{Arrow, JsonKey, JsonStep};

/// A column, or a path into a JSON column.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The column, or the computed column's function.
    pub column: String,
    /// For a computed column: the function, and the row type its argument is cast to.
    pub function: Option<(Target, Target)>,
    /// The column's type, to cast request values to.
    pub column_type: String,
    pub path: Vec<JsonStep>,
    /// Data representations of the column's domain (no path): the function that writes it
    /// into a body, and the one that reads a query-string value into it.
    pub to_json: Option<String>,
    pub from_text: Option<String>,
}

impl Expr {
    /// The type of the expression's value: the column's, or JSON / text along a path.
    pub fn value_type(&self) -> &str {
        match self.path.last().map(|step| step.arrow) {
            None => &self.column_type,
            Some(Arrow::Text) => "text",
            Some(Arrow::Json) if self.column_type == "json" => "json",
            Some(Arrow::Json) => "jsonb",
        }
    }

    /// The JSON key it is returned under when no alias is given, as PostgREST names it: the
    /// path's last key that is not an array index, else the column.
    pub fn default_name(&self) -> String {
        let key = self.path.iter().rev().find_map(|step| match &step.key {
            JsonKey::Name(n) => Some(n.clone()),
            JsonKey::Index(_) => None,
        });
        key.unwrap_or_else(|| self.column.clone())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// `*`: every column.
    All,
    Field {
        expr: Expr,
        alias: String,
        cast: Option<String>,
    },
    /// An aggregate of the level's rows (`expr` none: `count(*)`), grouped by its `Field`s.
    Aggregate {
        function: AggregateFunction,
        expr: Option<Expr>,
        input_cast: Option<String>,
        cast: Option<String>,
        alias: String,
    },
    /// A related resource, as a JSON object (many-to-one) or array (one-to-many, many-to-many).
    Embed(Box<Embed>),
    /// `...rel(...)`: a related resource whose selected keys are lifted into this object: a
    /// to-one one's values (all null when there is no related row), a to-many one's as arrays
    /// of its rows' values (PostgREST 13). Its level names every key (no `All`).
    Spread(Box<Embed>),
}

impl Projection {
    /// The keys this item puts in the object (`All` names none: the planner spells it out
    /// where keys must be known, in spreads).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Projection::All => vec![],
            Projection::Field { alias, .. } | Projection::Aggregate { alias, .. } => vec![alias],
            Projection::Embed(embed) => vec![&embed.name],
            Projection::Spread(embed) => embed.query.select.iter().flat_map(Projection::keys).collect(),
        }
    }
}

/// A resource embedded through a foreign key.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    /// The key it is returned under (its alias, or the relation's name).
    pub name: String,
    pub target: Target,
    pub join: Join,
    /// One-to-many and many-to-many: an array; many-to-one: an object or null.
    pub many: bool,
    /// `!inner`: parent rows without a match are left out.
    pub inner: bool,
    pub query: Level,
}

/// How the embedded rows that belong to a parent row are found.
#[derive(Debug, Clone, PartialEq)]
pub enum Join {
    /// One foreign key, as (embedded column, parent column) pairs: all of its columns, so a
    /// composite key such as `(tenant_id, department_id)` joins on both.
    Direct(Vec<(String, String)>),
    /// Many-to-many: a row of `table` pairs them, through its foreign key to the parent
    /// ((junction column, parent column) pairs) and to the embedded resource ((junction
    /// column, embedded column) pairs).
    Junction { table: Target, parent: Vec<(String, String)>, child: Vec<(String, String)> },
    /// A computed relationship: the rows `function` returns for the parent row (cast to
    /// `row_type`).
    Computed { function: Target, row_type: Target },
}

/// What one level of a read selects, filters, orders and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub select: Vec<Projection>,
    pub filter: Condition,
    pub order: Vec<Ordering>,
    pub offset: u64,
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IsValue {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        expr: Expr,
        op: Operator,
        value: String,
    },
    /// `eq(any).{a,b}`: the value is an array literal.
    Quantified {
        expr: Expr,
        op: Operator,
        quantifier: Quantifier,
        array: String,
    },
    In {
        expr: Expr,
        values: Vec<String>,
    },
    Is {
        expr: Expr,
        value: IsValue,
    },
    Search {
        expr: Expr,
        op: Operator,
        language: Option<String>,
        query: String,
    },
    /// `!inner`: the embedded resource has at least one matching row.
    EmbedExists(Box<Embed>),
}

impl Condition {
    /// True for no filter at all (`AND` of nothing, however nested): every row passes.
    pub fn passes_every_row(&self) -> bool {
        matches!(self, Condition::And(children) if children.iter().all(Condition::passes_every_row))
    }

    /// The column this condition sets equal to a value (`col = v`).
    fn pinned_column(&self) -> Option<&Expr> {
        match self {
            Condition::Compare { expr, op: Operator::Eq, .. } => Some(expr),
            _ => None,
        }
    }

    /// Citus routing (`routing.rs`): `condition AND route`, in place, unless `condition` already
    /// sets the route's column equal to a value. A request naming another tenant then goes to that
    /// tenant's shard, where row-level security shows it nothing; both values would leave Citus
    /// no shard at all, which it refuses in a writing statement. Only for conditions that route:
    /// any other would be dropped.
    fn route(condition: &mut Condition, route: Condition) {
        if let Some(column) = route.pinned_column() {
            let children = match &*condition {
                Condition::And(children) => children.as_slice(),
                one => std::slice::from_ref(one),
            };
            if children.iter().any(|c| c.pinned_column() == Some(column)) {
                return;
            }
        }
        *condition = match std::mem::replace(condition, Condition::And(vec![])) {
            Condition::And(mut children) => {
                children.push(route);
                Condition::And(children)
            }
            one => Condition::And(vec![one, route]),
        };
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ordering {
    /// A column of the level, or (with `embedded`) of the embedded to-one resource.
    pub expr: Expr,
    pub embedded: Option<Box<Embed>>,
    pub descending: bool,
    pub nulls_first: Option<bool>,
}

/// Arguments of a function call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallArgs {
    /// From a JSON object (POST): (name, type) of each argument, read with `json_to_record`,
    /// so JSON arrays and objects become PostgreSQL arrays and records; `variadic` names the
    /// argument passed as `VARIADIC`.
    Json { object: String, args: Vec<(String, String)>, variadic: Option<String> },
    /// From the query string (GET): (name, type, value); a variadic argument's values as one
    /// array literal.
    Text { args: Vec<(String, String, String)>, variadic: Option<String> },
    /// The whole body, the one unnamed argument of its type (`json` or `jsonb`).
    Whole { value: String, type_name: String },
}

/// What a read selects from: a table or view, or the rows a function returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Relation(Target),
    Call {
        function: Target,
        args: CallArgs,
    },
    /// A computed relationship's function, called with an SQL argument the builder made (the
    /// parent row).
    Rows {
        function: Target,
        argument: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReadPlan {
    pub source: Source,
    pub level: Level,
    /// Whether and how the total is counted (`Prefer: count=`).
    pub count: Option<Total>,
}

/// How the total rows of a read are counted, as PostgREST does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Total {
    /// `count=exact`: `count(*)` of every matching row.
    Exact,
    /// `count=planned`: no counting; the planner's estimate (`EXPLAIN`) of the rows.
    Planned,
    /// `count=estimated`: `count(*)` of at most `max_rows` + 1 rows; past `max_rows` (or with
    /// no ceiling), the larger of that count and the planner's estimate.
    Estimated { max_rows: Option<u64> },
}

/// A function that returns a value (or a set of values) rather than rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarCall {
    pub function: Target,
    pub args: CallArgs,
    pub returns_set: bool,
    /// `RETURNS void`: answered 204 with no body.
    pub returns_void: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// Rows of a body, only these columns written (the others get their defaults).
    Insert {
        columns: Vec<String>,
        rows: InsertRows,
        on_conflict: Option<OnConflict>,
        /// `Prefer: missing=default`: (column, default SQL from the catalog) of each written
        /// column that has a default, which a row that leaves the column out gets.
        defaults: Vec<(String, String)>,
        parsers: Vec<Parser>,
    },
    /// These columns set from one JSON object, on the rows the filter selects.
    Update {
        columns: Vec<String>,
        row_json: String,
        filter: Condition,
        parsers: Vec<Parser>,
        /// `Prefer: missing=default`: (column, default SQL from the catalog) of each written
        /// column the object leaves out, which it is set to.
        defaults: Vec<(String, String)>,
    },
    Delete {
        filter: Condition,
    },
}

/// What an insert's rows are read from.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertRows {
    /// A JSON array of objects, populated into the relation's row type (any number of rows,
    /// any column type).
    Json(String),
    /// One row as plain parameters, in the order of the written columns: each value's text
    /// (or NULL) and the column's type it is cast to, the value `json_populate_record` would
    /// make of it. A plain `INSERT … VALUES`, which Citus routes to the tenant's shard (an
    /// `INSERT … SELECT` it runs through the coordinator).
    Values(Vec<(Option<String>, String)>),
}

/// A written column whose domain reads its JSON through a data representation: the column,
/// and the function (from the catalog) its body value goes through.
#[derive(Debug, Clone, PartialEq)]
pub struct Parser {
    pub column: String,
    pub function: String,
}

/// An upsert: what a row that collides on `columns` does instead.
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    pub columns: Vec<String>,
    /// `merge-duplicates`: update the written columns; `ignore-duplicates`: skip the row.
    pub merge: bool,
    /// How a merging upsert learns how many rows it inserted (its status): PostgREST's counter,
    /// a setting bumped in the statement's conditions; on Citus, which refuses a volatile
    /// function in `ON CONFLICT`'s condition, each returned row's `xmax` (0: inserted).
    pub counted_by_xmax: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WritePlan {
    pub target: Target,
    pub mutation: Mutation,
    /// What to send back: the rows (with `select`) or only their count.
    pub returning: Option<Vec<Projection>>,
    /// `order=`: the order the rows sent back come in.
    pub order: Vec<Ordering>,
}

impl WritePlan {
    /// An UPDATE or DELETE of every row the caller can see: what TENANCY_SAFE_UPDATES refuses.
    pub fn changes_every_row(&self) -> bool {
        match &self.mutation {
            Mutation::Update { filter, .. } | Mutation::Delete { filter } => filter.passes_every_row(),
            Mutation::Insert { .. } => false,
        }
    }

    /// Routes an UPDATE or DELETE by `route` (`Condition::route`). A one-row insert that leaves
    /// the route's column to its default (the same tenant) writes the route's value instead:
    /// Citus routes either way, but counts an insert for its tenant (`citus_stat_tenants`) only
    /// when the query itself holds the value. Rows through the record are left to the default.
    /// An upsert counts what it inserted in a way Citus accepts (`OnConflict::counted_by_xmax`).
    pub fn route(&mut self, route: Condition) {
        match &mut self.mutation {
            Mutation::Update { filter, .. } | Mutation::Delete { filter } => Condition::route(filter, route),
            Mutation::Insert { columns, rows: InsertRows::Values(values), .. } => {
                if let Condition::Compare { expr, op: Operator::Eq, value } = route {
                    if !columns.contains(&expr.column) {
                        values.push((Some(value), expr.value_type().to_string()));
                        columns.push(expr.column);
                    }
                }
            }
            Mutation::Insert { on_conflict: Some(on_conflict), .. } => on_conflict.counted_by_xmax = true,
            Mutation::Insert { .. } => {}
        }
    }
}

impl ReadPlan {
    /// Routes the read's top level by `route` (`Condition::route`).
    pub fn route(&mut self, route: Condition) {
        Condition::route(&mut self.level.filter, route);
    }
}
