//! The data the real clients' everyday calls run against (`client_postgrest_*.rs`): a tenant
//! with two departments and six employees, and what the calls must see of it.
use crate::{as_tenant, create_tenant, value, Tenant};
use serde_json::{json, Value};
use tokio_postgres::Client;

/// A tenant with hrms: Engineering (the even employees) and Sales (the odd ones), employee i
/// named `First<i>` earning 1000 * i. (Written as Citus takes it, for the runs on the cluster: a
/// join rather than a correlated subquery, and `RETURNING`, without which Citus copies an
/// `INSERT … SELECT` into the shards and refuses that under row-level security.)
pub async fn hrms_tenant(admin: &mut Client) -> Tenant {
    let t = create_tenant(admin, "free", &["hrms"]).await;
    as_tenant(
        admin,
        t.id,
        "INSERT INTO hrms.departments (name) VALUES ('Engineering'), ('Sales');
         INSERT INTO hrms.employees (first_name, last_name, email, salary, job_title, department_id)
         SELECT 'First' || i, 'Last' || i, 'e' || i || '@x.example', 1000 * i,
                CASE WHEN i % 2 = 0 THEN 'engineer' ELSE 'sales rep' END, d.id
         FROM generate_series(1, 6) i
         JOIN hrms.departments d ON d.name = CASE WHEN i % 2 = 0 THEN 'Engineering' ELSE 'Sales' END
         RETURNING 1",
    )
    .await
    .unwrap();
    t
}

/// `select=first_name,salary&order=salary`.
pub fn salaries() -> Value {
    (1..=6).map(|i| json!({"first_name": format!("First{i}"), "salary": 1000 * i})).collect()
}

/// `departments?select=name,employees(first_name)`, ordered by name on both levels.
pub fn departments_with_employees() -> Value {
    json!([
        {"name": "Engineering", "employees": [{"first_name": "First2"}, {"first_name": "First4"}, {"first_name": "First6"}]},
        {"name": "Sales", "employees": [{"first_name": "First1"}, {"first_name": "First3"}, {"first_name": "First5"}]},
    ])
}

/// The tenant's employees after the calls: the inserted one deleted again, no other's touched.
pub async fn employees_of(admin: &Client, tenant: &Tenant) -> i64 {
    value(admin, &format!("SELECT count(*) FROM hrms.employees WHERE tenant_id = '{}'", tenant.id)).await
}
