//! postgrest-py (PyPI `postgrest`, unmodified) against the server: the calls its README teaches,
//! each seen by the client as it sees PostgREST's answers (the data, the count, the error).
use serde_json::{json, Value};
use tenancy_e2e::api::{self, token};
use tenancy_e2e::client_calls::{departments_with_employees, employees_of, hrms_tenant, salaries};
use tenancy_e2e::python::drive;
use tenancy_e2e::superuser;

#[tokio::test]
async fn postgrest_py_everyday_calls() {
    let api = api::start().await;
    let mut admin = superuser().await;
    let t = hrms_tenant(&mut admin).await;

    let seen = drive("postgrest_calls.py", &json!({"url": api.url, "token": token(t.id)})).await;
    let call = |name: &str| -> &Value { &seen[name] };
    let ok = |name: &str, data: Value| {
        assert!(call(name)["error"].is_null(), "{name}: {}", call(name));
        assert_eq!(call(name)["data"], data, "{name}: {}", call(name));
    };
    let field = |name: &str, key: &str| call(name)["data"][0][key].clone();

    ok("select", salaries());
    ok("filters", json!([{"first_name": "First4"}, {"first_name": "First6"}]));
    ok("embed", departments_with_employees());
    ok("single", json!({"first_name": "First1"}));
    assert_eq!(call("single_of_many")["error"]["code"], "PGRST116");
    assert_eq!(call("maybe_single_none"), &json!({"data": null, "count": null, "error": null}));
    ok("count_range", json!([{"first_name": "First2"}, {"first_name": "First3"}]));
    assert_eq!(call("count_range")["count"], 6);
    assert_eq!(call("head_count")["count"], 6);
    // Writes return the whole rows (the client asks for `return=representation`).
    assert_eq!(
        (field("insert", "first_name"), field("insert", "salary")),
        (json!("New"), json!(500)),
        "{}",
        call("insert")
    );
    assert_eq!(field("update", "salary"), json!(600), "{}", call("update"));
    assert_eq!((field("upsert", "email"), field("upsert", "salary")), (json!("e1@x.example"), json!(1234)));
    assert_eq!(field("delete", "email"), json!("new@x.example"), "{}", call("delete"));
    ok("rpc", json!(6));
    ok("rpc_get", json!([{"first_name": "First1"}, {"first_name": "First2"}]));
    ok("csv", json!("first_name,salary\nFirst1,1234.00\nFirst2,2000.00"));
    assert_eq!(
        call("error")["error"],
        json!({"code": "42703", "message": "column employees.no_such_column does not exist"})
    );

    // Every write went to this tenant's rows only.
    assert_eq!(employees_of(&admin, &t).await, 6);
}
