//! Tenants of the demo schema with rows the REST tests read and write.
use crate::*;

// The inserts return their rows: on Citus, an `INSERT ... SELECT` without `RETURNING` is copied
// into the shards, which Citus refuses under row-level security (README, Scale-out on Citus).

/// A tenant with hrms and chat, and `n` employees numbered 1..=n.
pub async fn tenant_with_employees(n: i32) -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms", "chat"]).await;
    as_tenant(
        &mut admin,
        t.id,
        &format!(
            "INSERT INTO hrms.employees (first_name, last_name, email, salary, job_title)
             SELECT 'First' || i, 'Last' || i, 'e' || i || '@x.example', 1000 * i,
                    CASE WHEN i % 2 = 0 THEN 'engineer' ELSE 'sales rep' END
             FROM generate_series(1, {n}) i RETURNING 1"
        ),
    )
    .await
    .unwrap();
    t
}

/// A tenant with two departments (Sales: 2 employees, Tech: 1) and one user linked to Ada. (The
/// join names `tenant_id`, as Citus needs of a join of two tenant tables.)
pub async fn tenant_with_departments() -> Tenant {
    let mut admin = superuser().await;
    let t = create_tenant(&admin, "free", &["hrms"]).await;
    as_tenant(
        &mut admin,
        t.id,
        "INSERT INTO hrms.departments (name) VALUES ('Sales'), ('Tech');
         INSERT INTO core.users (email, display_name) VALUES ('ada@x.example', 'Ada');
         INSERT INTO hrms.employees (first_name, last_name, email, department_id, user_id)
         SELECT v.f, 'L', v.f || '@x.example', d.id, u.id
         FROM (VALUES ('Ada', 'Sales'), ('Bob', 'Sales'), ('Cy', 'Tech')) v (f, dept)
         JOIN hrms.departments d ON d.name = v.dept
         LEFT JOIN core.users u ON v.f = 'Ada' AND u.tenant_id = d.tenant_id RETURNING 1;",
    )
    .await
    .unwrap();
    t
}
