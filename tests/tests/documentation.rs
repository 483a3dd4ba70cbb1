//! The SQL surface documents itself: every public function has a COMMENT and a README example.
use tenancy_e2e::*;

#[tokio::test]
async fn every_public_function_has_a_comment_and_a_readme_example() {
    let admin = superuser().await;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let functions = admin
        .query(
            "SELECT p.proname::text, obj_description(p.oid, 'pg_proc') IS NOT NULL
             FROM pg_proc p JOIN pg_extension e ON e.extname = 'tenancy'
             JOIN pg_depend d ON d.objid = p.oid AND d.refobjid = e.oid AND d.deptype = 'e'
             WHERE p.proname NOT LIKE '\\_%' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    assert!(functions.len() >= 20, "{} public functions", functions.len());
    let mut missing = vec![];
    for f in &functions {
        let name: String = f.get(0);
        if !f.get::<_, bool>(1) {
            missing.push(format!("{name}: no COMMENT ON FUNCTION"));
        }
        if !readme.contains(&format!("tenancy.{name}(")) {
            missing.push(format!("{name}: no example in README.md"));
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}
