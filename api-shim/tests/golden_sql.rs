//! URL → SQL, pinned: each request below goes through the grammar, the planner and the SQL
//! builder over a fixed schema cache (`fixtures/schema_cache.json`, the demo's `hrms`, `chat`
//! and `core` as `sql/introspect.sql` describes them), and the statement it becomes is an insta
//! snapshot (`snapshots/`). A change to generated SQL shows up as a reviewable diff.
use serde_json::Value;
use tenancy_api::plan::{self, CallInput, CallPlan};
use tenancy_api::plan_types::Mutation;
use tenancy_api::prefer::parse_prefer;
use tenancy_api::query_grammar::parse_query;
use tenancy_api::schema_cache::SchemaCache;
use tenancy_api::sql_builder::{self, Media, Statement};

fn cache() -> SchemaCache {
    SchemaCache::from_json(include_str!("fixtures/schema_cache.json")).expect("the fixture is an introspection")
}

/// `METHOD /schema.resource?query` with its `Prefer` header and body, as the statement it runs.
fn sql(method: &str, url: &str, prefer: &str, body: Option<Value>, media: Media) -> String {
    let cache = cache();
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let (schema, name) = path.trim_start_matches('/').split_once('.').expect("/schema.name");
    let params = parse_query(query).expect("the query parses");
    let prefs = parse_prefer(&[prefer]);
    let statement = match (method, name.strip_prefix("rpc/")) {
        (_, Some(function)) => {
            let input = match body {
                Some(Value::Object(args)) => CallInput::Json(args),
                _ => CallInput::Query(params.other.clone()),
            };
            let names = input.names();
            let f = cache.functions_called(schema, function, &names)[0];
            match plan::call(&cache, f, input, &params, &prefs, None, None).expect("the call plans") {
                CallPlan::Scalar(call) => sql_builder::scalar_call(&call, false),
                CallPlan::Rows { plan, .. } => sql_builder::read(&plan, media),
            }
        }
        (method, None) => {
            let relation = cache.relation(schema, name).expect("the relation exists");
            let write = match method {
                "GET" => {
                    let plan = plan::read(&cache, relation, &params, &prefs, None, None).expect("the read plans");
                    return render(url, prefer, &sql_builder::read(&plan, media), sql_builder::planned_count(&plan));
                }
                "POST" => plan::insert(&cache, relation, &params, &prefs, body),
                "PUT" => plan::put(&cache, relation, &params, &prefs, body),
                "PATCH" => plan::update(&cache, relation, &params, &prefs, body),
                "DELETE" => plan::delete(&cache, relation, &params, &prefs, None),
                other => panic!("no method {other}"),
            };
            sql_builder::write(&write.expect("the write plans"), media)
        }
    };
    render(url, prefer, &statement, None)
}

fn render(url: &str, prefer: &str, statement: &Statement, explain: Option<Statement>) -> String {
    let params: Vec<String> = statement.params.iter().map(|p| format!("{p:?}")).collect();
    let mut out = format!("{url}\nPrefer: {prefer}\n\n{}\n\nparams: [{}]\n", statement.sql, params.join(", "));
    if statement.generic_plan {
        out.push_str("\nplanned without the parameters' values (plan_cache_mode = force_generic_plan)\n");
    }
    if let Some(explain) = explain {
        out.push_str(&format!("\ncount: {}\n", explain.sql));
    }
    out
}

macro_rules! golden {
    ($name:ident, $method:literal, $url:literal) => {
        golden!($name, $method, $url, "", None, Media::Json);
    };
    ($name:ident, $method:literal, $url:literal, $prefer:literal) => {
        golden!($name, $method, $url, $prefer, None, Media::Json);
    };
    ($name:ident, $method:literal, $url:literal, $prefer:literal, $body:expr) => {
        golden!($name, $method, $url, $prefer, Some($body), Media::Json);
    };
    ($name:ident, $method:literal, $url:literal, $prefer:literal, $body:expr, $media:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(sql($method, $url, $prefer, $body, $media));
        }
    };
}

// Reads: the select list, filters by operator class, logic trees, order and pages.
golden!(read_columns_aliases_casts, "GET", "/hrms.employees?select=first_name,pay:salary::text,hired_on");
golden!(read_every_column, "GET", "/hrms.employees");
golden!(read_json_path, "GET", "/core.users?select=email,display_name->>0&email=like.*example*");
golden!(read_comparisons, "GET", "/hrms.employees?salary=gte.1000&salary=lt.5000&status=neq.left");
golden!(read_patterns, "GET", "/hrms.employees?first_name=ilike.a*&last_name=match.^S");
golden!(read_in_and_is, "GET", "/hrms.employees?status=in.(active,on_leave)&job_title=is.null");
golden!(read_quantified, "GET", "/hrms.employees?first_name=like(any).{A*,B*}");
golden!(read_full_text, "GET", "/chat.messages?body=fts(english).hello");
golden!(read_not, "GET", "/hrms.employees?status=not.eq.active");
golden!(read_logic_tree, "GET", "/hrms.employees?or=(salary.lt.1000,and(status.eq.active,job_title.is.null))");
golden!(read_order_pages, "GET", "/hrms.employees?order=salary.desc.nullslast,last_name&limit=10&offset=20");
golden!(read_exact_count, "GET", "/hrms.employees?select=id&limit=5", "count=exact");
golden!(read_planned_count, "GET", "/hrms.employees?select=id", "count=planned");
golden!(read_csv, "GET", "/hrms.employees?select=first_name,salary", "", None, Media::Csv);
golden!(
    read_single_object,
    "GET",
    "/hrms.employees?id=eq.00000000-0000-0000-0000-000000000001",
    "",
    None,
    Media::Object
);

// Aggregates: grouped by the other fields.
golden!(aggregate_count, "GET", "/hrms.employees?select=count()");
golden!(
    aggregate_grouped,
    "GET",
    "/hrms.employees?select=job_title,total:salary.sum()::int,salary.max(),count()&order=job_title"
);

// Embedding: to-one, to-many, filters and order inside, !inner, spread, hints.
golden!(embed_to_one, "GET", "/hrms.employees?select=first_name,departments(name)");
golden!(embed_to_many, "GET", "/hrms.departments?select=name,employees(first_name,salary)");
golden!(
    embed_filtered_ordered_limited,
    "GET",
    "/hrms.departments?select=name,employees(first_name)&employees.salary=gt.100&employees.order=first_name&employees.limit=3"
);
golden!(embed_inner, "GET", "/hrms.departments?select=name,employees!inner(first_name)&employees.status=eq.left");
golden!(embed_spread, "GET", "/hrms.employees?select=first_name,...departments(department:name)");
golden!(
    embed_spread_to_many,
    "GET",
    "/hrms.departments?select=name,...employees(first_name)&employees.order=first_name"
);
golden!(embed_by_constraint, "GET", "/chat.messages?select=body,messages_tenant_id_author_id_fkey(display_name)");
golden!(embed_hint, "GET", "/chat.messages?select=body,author:users!messages_tenant_id_author_id_fkey(display_name)");
golden!(embed_nested, "GET", "/chat.messages?select=body,users(email,user_profiles(locale))");
golden!(
    embed_order_by_to_one,
    "GET",
    "/hrms.employees?select=first_name,departments(name)&order=departments(name).desc.nullslast,first_name"
);
golden!(
    embed_null_filter,
    "GET",
    "/hrms.departments?select=name,employees()&employees.status=eq.left&employees=not.is.null"
);
golden!(
    embed_or_inside,
    "GET",
    "/hrms.departments?select=name,employees(first_name)&employees.or=(salary.lt.10,salary.gt.99)"
);

// Writes: inserts, bulk with columns=, defaults, upserts, PUT, PATCH, DELETE, returning.
golden!(insert_one, "POST", "/hrms.departments", "", serde_json::json!({"name": "Sales"}));
golden!(
    insert_returning,
    "POST",
    "/hrms.departments?select=name",
    "return=representation",
    serde_json::json!([{"name": "Sales"}, {"name": "Ops"}])
);
golden!(
    insert_columns,
    "POST",
    "/hrms.employees?columns=first_name,last_name,email",
    "",
    serde_json::json!([{"first_name": "A", "last_name": "B", "email": "a@b", "salary": 1}])
);
golden!(
    insert_missing_default,
    "POST",
    "/hrms.employees",
    "missing=default",
    serde_json::json!([{"first_name": "A", "last_name": "B", "email": "a@b"}, {"first_name": "C", "last_name": "D", "email": "c@d", "status": "left"}])
);
golden!(
    upsert_merge,
    "POST",
    "/hrms.employees?on_conflict=tenant_id,email",
    "resolution=merge-duplicates",
    serde_json::json!({"first_name": "A", "last_name": "B", "email": "a@b"})
);
golden!(
    upsert_ignore,
    "POST",
    "/hrms.departments",
    "resolution=ignore-duplicates",
    serde_json::json!({"name": "Sales"})
);
golden!(
    put_one_row,
    "PUT",
    "/hrms.departments?id=eq.00000000-0000-0000-0000-000000000001",
    "",
    serde_json::json!({"id": "00000000-0000-0000-0000-000000000001", "name": "Sales"})
);
golden!(
    patch_filtered,
    "PATCH",
    "/hrms.employees?status=eq.on_leave&select=first_name",
    "return=representation",
    serde_json::json!({"status": "active"})
);
// One row as plain parameters (`INSERT … VALUES`): a number into text, a boolean, a null; an
// array of one with `columns=`; not when the value is an array (the record reads it).
golden!(insert_values_of_each_kind, "POST", "/chat.channels", "", serde_json::json!({"name": 7, "is_private": true}));
golden!(
    insert_values_returning,
    "POST",
    "/hrms.employees?select=first_name,salary",
    "return=representation",
    serde_json::json!({"first_name": "A", "last_name": "B", "email": "a@b", "salary": 1.5, "hired_on": null})
);
golden!(
    insert_values_array_of_one,
    "POST",
    "/hrms.employees?columns=first_name,last_name,email",
    "",
    serde_json::json!([{"first_name": "A", "last_name": "B", "email": "a@b"}])
);
golden!(insert_array_value_through_the_record, "POST", "/hrms.departments", "", serde_json::json!({"name": ["x"]}));
golden!(insert_rows_of_defaults, "POST", "/hrms.departments", "", serde_json::json!([{}, {}]));
golden!(patch_of_nothing, "PATCH", "/hrms.departments?name=eq.x", "return=representation", serde_json::json!({}));
golden!(delete_filtered, "DELETE", "/hrms.employees?status=eq.left");
golden!(delete_every_row, "DELETE", "/chat.messages");

// Functions: a scalar, rows of a table (filterable), a record set, arguments from the query.
golden!(rpc_scalar, "POST", "/hrms.rpc/headcount", "", serde_json::json!({}));
golden!(
    rpc_one_row,
    "POST",
    "/hrms.rpc/give_raise",
    "",
    serde_json::json!({"employee": "00000000-0000-0000-0000-000000000001", "percent": 5})
);
golden!(
    rpc_rows_filtered,
    "GET",
    "/hrms.rpc/hired_since?since=2020-01-01&select=first_name&salary=gt.100&order=first_name"
);
golden!(rpc_record_set, "GET", "/hrms.rpc/headcount_by_department?headcount=gt.2");

/// On Citus (`WritePlan::route`) a merging upsert counts what it inserted by each row's `xmax`:
/// Citus refuses the counter's volatile function in `ON CONFLICT`'s condition.
#[test]
fn upsert_merge_counted_by_xmax() {
    let cache = cache();
    let relation = cache.relation("hrms", "employees").expect("the relation exists");
    for (name, query) in [
        ("upsert_merge_counted_by_xmax_whole_row", "on_conflict=tenant_id,email&select=*"),
        ("upsert_merge_counted_by_xmax_columns", "on_conflict=tenant_id,email&select=email"),
    ] {
        let prefer = "resolution=merge-duplicates,return=representation";
        let body = serde_json::json!({"first_name": "A", "last_name": "B", "email": "a@b"});
        let mut write =
            plan::insert(&cache, relation, &parse_query(query).unwrap(), &parse_prefer(&[prefer]), Some(body))
                .expect("the write plans");
        if let Mutation::Insert { on_conflict: Some(on_conflict), .. } = &mut write.mutation {
            on_conflict.counted_by_xmax = true;
        }
        let statement = sql_builder::write(&write, Media::Json);
        insta::assert_snapshot!(name, render(&format!("/hrms.employees?{query}"), prefer, &statement, None));
    }
}
