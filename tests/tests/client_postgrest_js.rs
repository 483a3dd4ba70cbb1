//! postgrest-js (`@supabase/postgrest-js`, unmodified, from npm) against the server: the calls
//! a frontend makes every day, each answered as PostgREST answers them.
use serde_json::{json, Value};
use tenancy_e2e::api::{self, token};
use tenancy_e2e::client_calls::{departments_with_employees, employees_of, hrms_tenant, salaries};
use tenancy_e2e::node::drive;
use tenancy_e2e::superuser;

#[tokio::test]
async fn postgrest_js_everyday_calls() {
    let api = api::start().await;
    let mut admin = superuser().await;
    let t = hrms_tenant(&mut admin).await;

    let seen = drive("postgrest_calls.mjs", &json!({"url": api.url, "token": token(t.id)})).await;
    let call = |name: &str| -> &Value { &seen[name] };
    let ok = |name: &str, status: u64, data: Value| {
        assert_eq!(call(name)["status"], status, "{name}: {}", call(name));
        assert_eq!(call(name)["data"], data, "{name}: {}", call(name));
        assert!(call(name)["error"].is_null(), "{name}: {}", call(name));
    };

    ok("select", 200, salaries());
    ok("filters", 200, json!([{"first_name": "First4"}, {"first_name": "First6"}]));
    ok("embed", 200, departments_with_employees());
    ok("single", 200, json!({"first_name": "First1"}));
    assert_eq!(call("single_of_many")["status"], 406);
    assert_eq!(call("single_of_many")["error"]["code"], "PGRST116");
    ok("maybe_single_none", 200, Value::Null);
    ok("count_range", 206, json!([{"first_name": "First2"}, {"first_name": "First3"}]));
    assert_eq!(call("count_range")["count"], 6);
    assert_eq!(call("head_count")["count"], 6);
    ok("insert", 201, json!({"first_name": "New", "salary": 500}));
    ok("update", 200, json!([{"salary": 600}]));
    // The row existed: the upsert updated it and inserted nothing, 200 as in PostgREST.
    ok("upsert", 200, json!([{"first_name": "First1", "salary": 1234}]));
    ok("delete", 200, json!([{"first_name": "New"}]));
    ok("rpc", 200, json!(6));
    ok("rpc_get", 200, json!([{"first_name": "First1"}, {"first_name": "First2"}]));
    ok("csv", 200, json!("first_name,salary\nFirst1,1234.00\nFirst2,2000.00"));
    assert_eq!(call("error")["status"], 400);
    assert_eq!(call("error")["error"]["code"], "42703");
    assert_eq!(call("error")["error"]["message"], "column employees.no_such_column does not exist");

    // Every write went to this tenant's rows only.
    assert_eq!(employees_of(&admin, &t).await, 6);
}
