//! `tenancy export`, `erase` and `import` against the Citus coordinator (scripts/up-citus): a
//! tenant leaves the cluster and comes back whole, read again on the workers through its
//! context, and its neighbour in the same table is not touched.
mod common;

use common::{assert_ok, stdout, tenancy};
use tenancy_e2e::citus::{url, TenantTable, COORDINATOR};

#[tokio::test]
async fn a_tenant_exported_erased_and_imported_on_the_cluster_comes_back_whole() {
    let t = TenantTable::create().await;
    let coordinator = url(COORDINATOR, "postgres");
    let archive = std::env::temp_dir().join(format!("{}.archive", tenancy_e2e::unique("citus")));
    let archive = archive.to_str().unwrap();
    let a = t.a.to_string();

    assert_ok(&tenancy(&coordinator, &["export", "--tenant", &a, "-o", archive]));
    let erased = tenancy(&coordinator, &["erase", "--tenant", &a, "--yes"]);
    assert_ok(&erased);
    assert!(stdout(&erased).contains("none left"), "{}", stdout(&erased));
    assert_eq!(t.count_as_superuser(t.a).await, 0);

    let imported = tenancy(&coordinator, &["import", archive]);
    std::fs::remove_file(archive).unwrap();
    assert_ok(&imported);
    assert_eq!(t.count_as_superuser(t.a).await, 2, "a's two rows, back on its shard");
    let bodies = t.as_tenant(t.a, &format!("SELECT body FROM {} ORDER BY body", t.table)).await.unwrap();
    assert_eq!(bodies, ["a1", "a2"], "read on the workers, in a's context");
    assert_eq!(t.count_as_superuser(t.b).await, 3, "b untouched");
}
