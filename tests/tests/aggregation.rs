//! Cross-tenant aggregation: `tenancy.aggregate` gives what a superuser's `GROUP BY` gives
//! (overall, grouped, per tenant, filtered), suppresses small groups, leaves opted-out tenants
//! out, refuses bad input with its own SQLSTATE, and is the only way `tenancy_analytics` sees
//! tenant data; the platform views agree with the catalog.
use serde_json::{json, Value};
use tenancy_e2e::*;
use tokio_postgres::{Client, GenericClient, IsolationLevel};
use uuid::Uuid;

/// A database of its own (aggregates span every tenant, and the platform views the whole
/// catalog) with a protected table holding rows for four tenants (8, 14, 20 and 26 rows). The
/// platform's minimum group size is 1, so results compare with a plain GROUP BY; the columns
/// band, day and price hold qty, happened and amount again as dimensions, to filter on.
/// (tests/tests/aggregation_privacy.rs attacks the classes and the default minimum.)
struct Fixture {
    scratch: ScratchDatabase,
    table: String,
    plain: String,
    tenants: Vec<Tenant>,
}

impl Fixture {
    async fn db(&self) -> Client {
        self.scratch.connect().await
    }

    async fn connect_as(&self, role: &str) -> Client {
        connect_to(&self.scratch.name, role).await
    }
}

async fn fixture() -> Fixture {
    let scratch = ScratchDatabase::create("agg").await;
    let db = scratch.connect().await;
    db.batch_execute(
        "CREATE EXTENSION tenancy;
         SELECT tenancy.install_module('{\"key\": \"facts\", \"name\": \"Facts\", \"version\": \"1.0.0\", \"platform\": \">=0.1\"}')",
    )
    .await
    .unwrap();
    let schema = "agg";
    let mut tenants = vec![];
    for _ in 0..4 {
        tenants.push(create_tenant(&db, "free", &["facts"]).await);
    }
    db.batch_execute(&format!(
        "CREATE SCHEMA {schema};
         CREATE TABLE {schema}.facts (
             tenant_id uuid NOT NULL, id int NOT NULL, category text, region text, amount numeric(10,2),
             qty int, label text, happened date, extra jsonb, band int, day date, price numeric(10,2),
             PRIMARY KEY (tenant_id, id));
         SELECT tenancy.protect('{schema}.facts', analytics => '{{
             \"category\": \"dimension\", \"region\": \"dimension\", \"label\": {{\"class\": \"dimension\", \"extremes\": true}},
             \"extra\": {{\"class\": \"dimension\", \"extremes\": true}},
             \"band\": \"dimension\", \"day\": \"dimension\", \"price\": \"dimension\",
             \"amount\": {{\"class\": \"measure\", \"extremes\": true}}, \"qty\": {{\"class\": \"measure\", \"extremes\": true}},
             \"happened\": {{\"class\": \"measure\", \"extremes\": true}}}}');
         SELECT tenancy.set_analytics_policy(1);
         -- not protected, and no tenant_id: unprotected_tables() must stay empty
         CREATE TABLE {schema}.plain (owner uuid, amount numeric);"
    ))
    .await
    .unwrap();
    for (k, tenant) in tenants.iter().enumerate() {
        let k = k as i32;
        db.execute(
            &format!(
                "INSERT INTO {schema}.facts
                 SELECT $1, i, (ARRAY['a', 'b', 'c'])[i % 3 + 1], CASE WHEN i % 4 = 0 THEN 'north' ELSE 'south' END,
                        CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1.25 + $2 END,
                        CASE WHEN i % 5 = 0 THEN NULL ELSE i % 7 END, 'L' || i % 2, date '2024-01-01' + i, '{{}}'
                 FROM generate_series(1, 8 + 6 * $2) i"
            ),
            &[&tenant.id, &k],
        )
        .await
        .unwrap();
    }
    db.batch_execute(&format!("UPDATE {schema}.facts SET band = qty, day = happened, price = amount")).await.unwrap();
    Fixture { scratch, table: format!("{schema}.facts"), plain: format!("{schema}.plain"), tenants }
}

/// One result row: tenant (per_tenant), group values, aggregates, rows, tenants.
type Group = (Option<Uuid>, Value, Value, i64, i64);

struct Call<'a> {
    measures: &'a [&'a str],
    group_by: &'a [&'a str],
    filters: Value,
    per_tenant: bool,
    min_group_size: i32,
}

impl Default for Call<'_> {
    fn default() -> Self {
        Call { measures: MEASURES, group_by: &[], filters: json!({}), per_tenant: false, min_group_size: 1 }
    }
}

const MEASURES: &[&str] = &[
    "count",
    "sum(amount)",
    "avg(amount)",
    "min(qty)",
    "max(qty)",
    "count(qty)",
    "min(happened)",
    "max(label)",
    "avg(qty)",
];
/// What MEASURES are, written by hand for the superuser's query.
const EXPECTED_MEASURES: &str =
    "jsonb_build_object('count', count(*), 'sum(amount)', sum(amount), 'avg(amount)', avg(amount),
    'min(qty)', min(qty), 'max(qty)', max(qty), 'count(qty)', count(qty), 'min(happened)', min(happened),
    'max(label)', max(label), 'avg(qty)', avg(qty))";

const AGGREGATE: &str =
    "SELECT tenant_id, group_values, aggregates, row_count, tenant_count, suppressed_groups, excluded_tenants
     FROM tenancy.aggregate($1, $2, $3, $4, $5, $6)";

/// The groups tenancy.aggregate returns, with suppressed_groups and excluded_tenants (the same
/// on every row; (0, 0) when there is none).
async fn aggregate(
    db: &impl GenericClient,
    table: &str,
    call: Call<'_>,
) -> Result<(Vec<Group>, (i64, i64)), tokio_postgres::Error> {
    let measures = call.measures.to_vec();
    let group_by = call.group_by.to_vec();
    let rows = db
        .query(AGGREGATE, &[&table, &measures, &group_by, &call.filters, &call.per_tenant, &call.min_group_size])
        .await?;
    let counts: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(5), r.get(6))).collect();
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "the counts repeat on every row: {counts:?}");
    let groups = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
    Ok((groups, counts.first().copied().unwrap_or((0, 0))))
}

async fn groups(db: &impl GenericClient, table: &str, call: Call<'_>) -> Vec<Group> {
    aggregate(db, table, call).await.unwrap().0
}

/// The superuser's answer: `sql` selects the five columns of a Group.
async fn expected(db: &impl GenericClient, sql: &str) -> Vec<Group> {
    db.query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

#[tokio::test]
async fn aggregates_equal_a_superusers_group_by() {
    let f = fixture().await;
    let db = f.db().await;
    let t = &f.table;

    let overall = groups(&db, t, Call::default()).await;
    assert_eq!(
        overall,
        expected(
            &db,
            &format!(
                "SELECT NULL::uuid, '{{}}'::jsonb, {EXPECTED_MEASURES}, count(*), count(DISTINCT tenant_id) FROM {t}"
            )
        )
        .await
    );
    assert_eq!((overall[0].3, overall[0].4), (8 + 14 + 20 + 26, 4), "all rows of the four tenants");

    let by_category = groups(&db, t, Call { group_by: &["category"], ..Call::default() }).await;
    assert_eq!(by_category.len(), 3);
    assert_eq!(
        by_category,
        expected(
            &db,
            &format!(
                "SELECT NULL::uuid, jsonb_build_object('category', category), {EXPECTED_MEASURES}, count(*), count(DISTINCT tenant_id)
                 FROM {t} GROUP BY category ORDER BY category"
            )
        )
        .await
    );

    assert_eq!(
        groups(&db, t, Call { group_by: &["region", "category", "label"], ..Call::default() }).await,
        expected(
            &db,
            &format!(
                "SELECT NULL::uuid, jsonb_build_object('region', region, 'category', category, 'label', label),
                        {EXPECTED_MEASURES}, count(*), count(DISTINCT tenant_id)
                 FROM {t} GROUP BY region, category, label ORDER BY region, category, label"
            )
        )
        .await
    );

    let per_tenant = groups(&db, t, Call { per_tenant: true, ..Call::default() }).await;
    assert_eq!(per_tenant.len(), 4);
    assert_eq!(
        per_tenant,
        expected(
            &db,
            &format!(
                "SELECT tenant_id, '{{}}'::jsonb, {EXPECTED_MEASURES}, count(*), 1::bigint FROM {t} GROUP BY tenant_id ORDER BY tenant_id"
            )
        )
        .await
    );

    assert_eq!(
        groups(&db, t, Call { per_tenant: true, group_by: &["region"], ..Call::default() }).await,
        expected(
            &db,
            &format!(
                "SELECT tenant_id, jsonb_build_object('region', region), {EXPECTED_MEASURES}, count(*), 1::bigint
                 FROM {t} GROUP BY tenant_id, region ORDER BY tenant_id, region"
            )
        )
        .await
    );

    // Filters: equality, a list, a range, NULL, dates and numbers given as JSON.
    let filtered = groups(
        &db,
        t,
        Call {
            group_by: &["label"],
            filters: json!({"category": "a", "band": {"gte": 2, "lt": 6}, "region": ["north", "south"]}),
            ..Call::default()
        },
    )
    .await;
    assert!(!filtered.is_empty());
    assert_eq!(
        filtered,
        expected(
            &db,
            &format!(
                "SELECT NULL::uuid, jsonb_build_object('label', label), {EXPECTED_MEASURES}, count(*), count(DISTINCT tenant_id)
                 FROM {t} WHERE category = 'a' AND band >= 2 AND band < 6 AND region IN ('north', 'south')
                 GROUP BY label ORDER BY label"
            )
        )
        .await
    );
    assert_eq!(
        groups(&db, t, Call { filters: json!({"band": null}), per_tenant: true, ..Call::default() }).await,
        expected(
            &db,
            &format!(
                "SELECT tenant_id, '{{}}'::jsonb, {EXPECTED_MEASURES}, count(*), 1::bigint FROM {t} WHERE band IS NULL
                 GROUP BY tenant_id ORDER BY tenant_id"
            )
        )
        .await
    );
    assert_eq!(
        groups(
            &db,
            t,
            Call {
                filters: json!({"day": {"gt": "2024-01-05"}, "price": {"lte": 12.5}, "label": {"neq": "L0"}}),
                group_by: &["category"],
                ..Call::default()
            }
        )
        .await,
        expected(
            &db,
            &format!(
                "SELECT NULL::uuid, jsonb_build_object('category', category), {EXPECTED_MEASURES}, count(*), count(DISTINCT tenant_id)
                 FROM {t} WHERE day > '2024-01-05' AND price <= 12.5 AND label <> 'L0'
                 GROUP BY category ORDER BY category"
            )
        )
        .await
    );
    // Nothing matches: no group (rather than one of zero rows).
    assert_eq!(groups(&db, t, Call { filters: json!({"category": "z"}), ..Call::default() }).await, vec![]);
}

/// Index scans of `table`'s indexes in the current transaction.
async fn index_scans(db: &impl GenericClient, table: &str) -> i64 {
    value(
        db,
        &format!(
            "SELECT coalesce(sum(pg_stat_get_xact_numscans(i.indexrelid)), 0)::bigint FROM pg_index i
             WHERE i.indrelid = '{table}'::regclass"
        ),
    )
    .await
}

/// Without filters, and with an index on tenant_id then the group_by columns, aggregate counts
/// each group's tenants by skipping through the index (one descent per tenant and group) rather
/// than grouping every row by tenant: the answers are the superuser's all the same, opt-outs and
/// small groups included; a NULLable group column or a filter takes the two-level query.
#[tokio::test]
async fn tenants_counted_through_an_index_are_the_same() {
    let f = fixture().await;
    let mut db = f.db().await;
    let t = "agg.big";
    db.batch_execute(&format!(
        "CREATE TABLE {t} (
             tenant_id uuid NOT NULL, id int NOT NULL, category text NOT NULL, region text, amount numeric(10,2),
             PRIMARY KEY (tenant_id, id));
         SELECT tenancy.protect('{t}', analytics => '{{
             \"category\": \"dimension\", \"region\": {{\"class\": \"dimension\", \"extremes\": true}},
             \"amount\": \"measure\", \"id\": {{\"class\": \"measure\", \"extremes\": true}}}}');
         CREATE INDEX big_tenant_category ON {t} (tenant_id, category);
         CREATE INDEX big_tenant_region ON {t} (tenant_id, region);"
    ))
    .await
    .unwrap();
    for (k, tenant) in f.tenants.iter().enumerate() {
        let k = k as i32;
        // The first tenant has no category c: c has three tenants, a and b four.
        db.execute(
            &format!(
                "INSERT INTO {t}
                 SELECT $1, i, CASE WHEN $2 = 0 THEN (ARRAY['a', 'b'])[i % 2 + 1] ELSE (ARRAY['a', 'b', 'c'])[i % 3 + 1] END,
                        CASE WHEN i % 5 = 0 THEN NULL WHEN i % 2 = 0 THEN 'north' ELSE 'south' END,
                        CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1.25 + $2 END
                 FROM generate_series(1, 300 + 100 * $2) i"
            ),
            &[&tenant.id, &k],
        )
        .await
        .unwrap();
    }
    db.batch_execute(&format!("ANALYZE {t}")).await.unwrap();
    let measures: &[&str] = &["count", "sum(amount)", "avg(amount)", "count(amount)", "max(region)", "min(id)"];
    let expected_measures =
        "jsonb_build_object('count', count(*), 'sum(amount)', sum(amount), 'avg(amount)', avg(amount),
        'count(amount)', count(amount), 'max(region)', max(region), 'min(id)', min(id))";

    // One call: its groups, the index scans it made, the superuser's groups and the suppressed count, in
    // one snapshot.
    async fn run(db: &mut Client, t: &str, call: Call<'_>, sql: &str) -> (Vec<Group>, i64, Vec<Group>, i64) {
        let tx = db.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await.unwrap();
        let before = index_scans(&tx, t).await;
        let (groups, (suppressed, _)) = aggregate(&tx, t, call).await.unwrap();
        let scans = index_scans(&tx, t).await - before;
        let expected = expected(&tx, sql).await;
        tx.commit().await.unwrap();
        (groups, scans, expected, suppressed)
    }

    let (overall, scans, want, _) = run(
        &mut db,
        t,
        Call { measures, ..Call::default() },
        &format!("SELECT NULL::uuid, '{{}}'::jsonb, {expected_measures}, count(*), count(DISTINCT tenant_id) FROM {t}"),
    )
    .await;
    assert_eq!(overall, want);
    assert_eq!((overall[0].3, overall[0].4), (300 + 400 + 500 + 600, 4));
    assert!(scans >= 4, "one descent per tenant: {scans} index scans");

    let by_category = format!(
        "SELECT NULL::uuid, jsonb_build_object('category', category), {expected_measures}, count(*), count(DISTINCT tenant_id)
         FROM {t} GROUP BY category ORDER BY category"
    );
    let (grouped, scans, want, _) =
        run(&mut db, t, Call { measures, group_by: &["category"], ..Call::default() }, &by_category).await;
    assert_eq!(grouped, want);
    assert_eq!(grouped.iter().map(|g| g.4).collect::<Vec<_>>(), [4, 4, 3]);
    assert!(scans >= 11, "one descent per tenant and category: {scans} index scans");

    // Small groups suppressed and counted: c (500 rows) is smaller than 600, a and b are not.
    let (kept, scans, want, suppressed) = run(
        &mut db,
        t,
        Call { measures, group_by: &["category"], min_group_size: 600, ..Call::default() },
        &format!(
            "SELECT NULL::uuid, jsonb_build_object('category', category), {expected_measures}, count(*), count(DISTINCT tenant_id)
             FROM {t} GROUP BY category HAVING count(*) >= 600 ORDER BY category"
        ),
    )
    .await;
    assert_eq!(kept, want);
    assert_eq!((kept.len(), suppressed), (2, 1));
    assert!(scans >= 11);

    // A NULLable group column (its NULLs are a group) and a filter: two levels, same answers.
    let (by_region, scans, want, _) = run(
        &mut db,
        t,
        Call { measures, group_by: &["region"], ..Call::default() },
        &format!(
            "SELECT NULL::uuid, jsonb_build_object('region', region), {expected_measures}, count(*), count(DISTINCT tenant_id)
             FROM {t} GROUP BY region ORDER BY region"
        ),
    )
    .await;
    assert_eq!(by_region, want);
    assert_eq!(by_region.len(), 3, "north, south and NULL");
    assert!(scans <= 1, "no skip scan through (tenant_id, region): {scans} index scans");
    let (filtered, scans, want, _) = run(
        &mut db,
        t,
        Call { measures, group_by: &["category"], filters: json!({"region": {"gte": "north"}}), ..Call::default() },
        &format!(
            "SELECT NULL::uuid, jsonb_build_object('category', category), {expected_measures}, count(*), count(DISTINCT tenant_id)
             FROM {t} WHERE region >= 'north' GROUP BY category ORDER BY category"
        ),
    )
    .await;
    assert_eq!(filtered, want);
    assert!(scans <= 1, "no skip scan with a filter: {scans} index scans");

    // Opted out: the tenant's rows and its pairs are left out.
    let out = f.tenants[3].id;
    assert!(value::<bool>(&db, &format!("SELECT tenancy.set_analytics_opt_out('{out}', true)")).await);
    let (overall, _, want, _) = run(
        &mut db,
        t,
        Call { measures, ..Call::default() },
        &format!(
            "SELECT NULL::uuid, '{{}}'::jsonb, {expected_measures}, count(*), count(DISTINCT tenant_id) FROM {t}
             WHERE tenant_id <> '{out}'"
        ),
    )
    .await;
    assert_eq!(overall, want);
    assert_eq!((overall[0].3, overall[0].4), (300 + 400 + 500, 3));
    let (grouped, scans, want, _) = run(
        &mut db,
        t,
        Call { measures, group_by: &["category"], ..Call::default() },
        &format!(
            "SELECT NULL::uuid, jsonb_build_object('category', category), {expected_measures}, count(*), count(DISTINCT tenant_id)
             FROM {t} WHERE tenant_id <> '{out}' GROUP BY category ORDER BY category"
        ),
    )
    .await;
    assert_eq!(grouped, want);
    assert_eq!(grouped.iter().map(|g| g.4).collect::<Vec<_>>(), [3, 3, 2]);
    assert!(scans >= 11);
    assert!(value::<bool>(&db, &format!("SELECT tenancy.set_analytics_opt_out('{out}', false)")).await);

    // No rows: no group, as with two levels.
    db.batch_execute(&format!("DELETE FROM {t}")).await.unwrap();
    let (none, _, _, _) = run(
        &mut db,
        t,
        Call { measures, ..Call::default() },
        "SELECT NULL::uuid, NULL::jsonb, NULL::jsonb, 0::bigint, 0::bigint WHERE false",
    )
    .await;
    assert_eq!(none, vec![]);
}

#[tokio::test]
async fn groups_smaller_than_min_group_size_are_suppressed_and_counted() {
    let f = fixture().await;
    let db = f.db().await;
    let t = &f.table;
    let call = || Call { group_by: &["category", "region"], per_tenant: true, min_group_size: 4, ..Call::default() };
    let (kept, (suppressed, _)) = aggregate(&db, t, call()).await.unwrap();
    assert_eq!(
        kept,
        expected(
            &db,
            &format!(
                "SELECT tenant_id, jsonb_build_object('category', category, 'region', region), {EXPECTED_MEASURES},
                        count(*), 1::bigint
                 FROM {t} GROUP BY tenant_id, category, region HAVING count(*) >= 4 ORDER BY tenant_id, category, region"
            )
        )
        .await
    );
    let small: i64 = value(
        &db,
        &format!("SELECT count(*) FROM (SELECT FROM {t} GROUP BY tenant_id, category, region HAVING count(*) < 4) g"),
    )
    .await;
    assert!(small > 0 && !kept.is_empty(), "the data has groups on both sides of 4");
    assert_eq!(suppressed, small);
    assert!(kept.iter().all(|g| g.3 >= 4));

    // Every group suppressed: nothing comes back.
    let (none, _) = aggregate(&db, t, Call { min_group_size: 1000, ..Call::default() }).await.unwrap();
    assert_eq!(none, vec![]);
    // The default keeps every group.
    let (all, (suppressed, _)) = aggregate(&db, t, Call { min_group_size: 1, ..call() }).await.unwrap();
    assert_eq!(suppressed, 0);
    assert_eq!(all.len() as i64, kept.len() as i64 + small);
}

#[tokio::test]
async fn opted_out_tenants_are_left_out_and_counted() {
    let f = fixture().await;
    let mut db = f.db().await;
    let t = &f.table;
    let out = f.tenants[1].id;
    let set = |opt_out: bool| format!("SELECT tenancy.set_analytics_opt_out('{out}', {opt_out})");
    assert!(value::<bool>(&db, &set(true)).await, "opting out changes something");
    assert!(!value::<bool>(&db, &set(true)).await, "twice changes nothing");

    {
        // One snapshot, so the platform-wide opt-out count cannot move between the two reads.
        let tx = db.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await.unwrap();
        let (grouped, (_, excluded)) =
            aggregate(&tx, t, Call { group_by: &["category"], ..Call::default() }).await.unwrap();
        assert_eq!(
            grouped,
            expected(
                &tx,
                &format!(
                    "SELECT NULL::uuid, jsonb_build_object('category', category), {EXPECTED_MEASURES}, count(*),
                            count(DISTINCT tenant_id)
                     FROM {t} WHERE tenant_id <> '{out}' GROUP BY category ORDER BY category"
                )
            )
            .await
        );
        assert!(grouped.iter().all(|g| g.4 == 3), "three tenants left in every group");
        let opted_out: i64 = value(&tx, "SELECT count(*) FROM tenancy.analytics_opt_outs").await;
        assert!(opted_out >= 1);
        assert_eq!(excluded, opted_out);
        let (per_tenant, _) = aggregate(&tx, t, Call { per_tenant: true, ..Call::default() }).await.unwrap();
        assert_eq!(per_tenant.len(), 3);
        assert!(per_tenant.iter().all(|g| g.0 != Some(out)));
        let usage: i64 =
            value(&tx, &format!("SELECT count(*) FROM tenancy.tenant_table_usage WHERE tenant_id = '{out}'")).await;
        assert_eq!(usage, 0, "usage leaves opted-out tenants out");
        tx.commit().await.unwrap();
    }

    let actions: Vec<String> = db
        .query(
            "SELECT action FROM tenancy.events WHERE tenant_id = $1 AND action LIKE 'tenant.analytics%' ORDER BY id",
            &[&out],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actions, ["tenant.analytics_opted_out"]);

    assert!(value::<bool>(&db, &set(false)).await, "back in");
    let back = groups(&db, t, Call { per_tenant: true, ..Call::default() }).await;
    assert_eq!(back.len(), 4);
    assert_eq!(
        sqlstate(db.execute("SELECT tenancy.set_analytics_opt_out(gen_random_uuid(), true)", &[]).await),
        "TN001"
    );

    // Only tenancy_admin may set it.
    let analyst = create_role(&db, "IN ROLE tenancy_analytics").await;
    let analytics = f.connect_as(&analyst).await;
    assert_eq!(sqlstate(analytics.execute(&set(true), &[]).await), INSUFFICIENT_PRIVILEGE);
    let admin = create_role(&db, "IN ROLE tenancy_admin").await;
    assert!(value::<bool>(&f.connect_as(&admin).await, &set(true)).await);
    assert!(value::<bool>(&db, &set(false)).await);
}

#[tokio::test]
async fn every_refusal_has_its_sqlstate_and_names_the_problem() {
    let f = fixture().await;
    let db = f.db().await;
    let t = &f.table;
    let cases: Vec<(&str, String, Call, &str)> = vec![
        ("TN060", "unknown_schema.facts".into(), Call::default(), "unknown_schema.facts"),
        ("TN060", f.plain.clone(), Call::default(), &f.plain),
        ("TN060", "a.b.c.d".into(), Call::default(), "a.b.c.d"),
        ("TN060", "tenancy.tenants".into(), Call::default(), "tenancy.tenants"),
        ("TN061", t.clone(), Call { measures: &["sum(nope)"], ..Call::default() }, "nope"),
        ("TN061", t.clone(), Call { group_by: &["Category"], ..Call::default() }, "Category"),
        ("TN061", t.clone(), Call { filters: json!({"nope": 1}), ..Call::default() }, "nope"),
        ("TN062", t.clone(), Call { measures: &["sum(happened)"], ..Call::default() }, "happened"),
        ("TN062", t.clone(), Call { measures: &["avg(happened)"], ..Call::default() }, "happened"),
        ("TN062", t.clone(), Call { measures: &["median(amount)"], ..Call::default() }, "median(amount)"),
        ("TN062", t.clone(), Call { measures: &["count(amount) + 1"], ..Call::default() }, "count(amount) + 1"),
        ("TN062", t.clone(), Call { measures: &["sum"], ..Call::default() }, "sum"),
        ("TN062", t.clone(), Call { measures: &["min(extra)"], ..Call::default() }, "extra"),
        ("TN062", t.clone(), Call { measures: &[], ..Call::default() }, "measures"),
        ("TN063", t.clone(), Call { filters: json!([1]), ..Call::default() }, "object"),
        ("TN063", t.clone(), Call { filters: json!({"price": "lots"}), ..Call::default() }, "price"),
        ("TN063", t.clone(), Call { filters: json!({"day": {"gte": "yesterday-ish"}}), ..Call::default() }, "day"),
        ("TN063", t.clone(), Call { filters: json!({"band": {"like": 3}}), ..Call::default() }, "like"),
        ("TN063", t.clone(), Call { filters: json!({"band": [1, [2]]}), ..Call::default() }, "band"),
        ("TN063", t.clone(), Call { filters: json!({"extra": {}}), ..Call::default() }, "extra"),
        (
            "TN064",
            t.clone(),
            Call { group_by: &["category", "region", "label", "qty", "happened"], ..Call::default() },
            "4",
        ),
        ("TN064", t.clone(), Call { group_by: &["category", "category"], ..Call::default() }, "category"),
        ("TN065", t.clone(), Call { min_group_size: 0, ..Call::default() }, "min_group_size"),
    ];
    let rows_before: i64 = value(&db, &format!("SELECT count(*) FROM {t}")).await;
    for (code, table, call, named) in cases {
        let what = format!("{table} {:?} {:?} {} {}", call.measures, call.group_by, call.filters, call.min_group_size);
        let result = aggregate(&db, &table, call).await;
        let err = result.as_ref().map(|_| ()).expect_err(&format!("{what} should be refused"));
        let db_err = err.as_db_error().unwrap_or_else(|| panic!("{what}: {err}"));
        assert_eq!(db_err.code().code(), code, "{what}: {}", db_err.message());
        assert!(db_err.message().contains(named), "{what}: {:?} should name {named:?}", db_err.message());
    }
    // Read-only by construction (a STABLE function cannot write), and nothing was written.
    let volatility: String =
        value(&db, "SELECT provolatile::text FROM pg_proc WHERE oid = 'tenancy.aggregate(text, text[], text[], jsonb, bool, int)'::regprocedure").await;
    assert_eq!(volatility, "s");
    assert_eq!(value::<i64>(&db, &format!("SELECT count(*) FROM {t}")).await, rows_before);
}

#[tokio::test]
async fn the_analytics_role_aggregates_but_cannot_read_rows() {
    let f = fixture().await;
    let db = f.db().await;
    let t = &f.table;
    let role = create_role(&db, "IN ROLE tenancy_analytics").await;
    let analytics = f.connect_as(&role).await;

    assert_eq!(groups(&analytics, t, Call::default()).await, groups(&db, t, Call::default()).await);
    assert_eq!(groups(&analytics, t, Call::default()).await[0].3, 68);
    for view in ["module_adoption", "tenant_table_usage", "tenant_daily_events", "tenants_by_plan"] {
        let n: i64 = value(&analytics, &format!("SELECT count(*) FROM tenancy.{view}")).await;
        assert!(n > 0, "{view}");
    }

    // No grant: refused. A grant: still nothing, as RLS finds no tenant context.
    let read = format!("SELECT count(*) FROM {t}");
    assert_eq!(sqlstate(analytics.query_one(&read, &[]).await), INSUFFICIENT_PRIVILEGE);
    for catalog in ["tenancy.tenants", "tenancy.events", "tenancy.analytics_opt_outs", "tenancy.tenant_modules"] {
        let sql = format!("SELECT count(*) FROM {catalog}");
        assert_eq!(sqlstate(analytics.query_one(&sql, &[]).await), INSUFFICIENT_PRIVILEGE, "{catalog}");
    }
    let schema = t.split('.').next().unwrap();
    db.batch_execute(&format!("GRANT USAGE ON SCHEMA {schema} TO {role}; GRANT SELECT ON {t} TO {role}"))
        .await
        .unwrap();
    assert_eq!(value::<i64>(&analytics, &read).await, 0);
    // Nor can it pick a tenant.
    let enter = format!("SELECT tenancy.enter_tenant('{}')", f.tenants[0].id);
    assert_eq!(sqlstate(analytics.execute(&enter, &[]).await), INSUFFICIENT_PRIVILEGE);
}

#[tokio::test]
async fn members_and_analysts_of_a_tenant_cannot_aggregate() {
    let f = fixture().await;
    let db = f.db().await;
    let t = &f.table;
    let analyst = create_analyst(&db, &[f.tenants[0].id]).await;
    let member = create_role(&db, "IN ROLE tenant_member").await;
    let nobody = create_role(&db, "").await;
    let service = create_role(&db, "IN ROLE tenancy_service").await;
    for role in [&analyst, &member, &nobody, &service] {
        let c = f.connect_as(role).await;
        assert_eq!(sqlstate(aggregate(&c, t, Call::default()).await), INSUFFICIENT_PRIVILEGE, "{role}");
        for sql in [
            "SELECT count(*) FROM tenancy.module_adoption",
            "SELECT count(*) FROM tenancy.tenant_table_usage",
            "SELECT count(*) FROM tenancy._table_usage()",
            "SELECT count(*) FROM tenancy.tenants_by_plan",
            "SELECT count(*) FROM tenancy.tenant_daily_events",
        ] {
            assert_eq!(sqlstate(c.query_one(sql, &[]).await), INSUFFICIENT_PRIVILEGE, "{role}: {sql}");
        }
    }
    // tenancy_admin may.
    let admin = create_role(&db, "IN ROLE tenancy_admin").await;
    assert_eq!(groups(&f.connect_as(&admin).await, t, Call::default()).await[0].3, 68);
}

#[tokio::test]
async fn the_platform_views_agree_with_the_catalog() {
    let f = fixture().await;
    let mut db = f.db().await;
    let t = &f.table;
    let empty = create_tenant(&db, "premium", &[]).await;
    let module = unique("m").replace('-', "_");
    db.execute(
        "SELECT tenancy.install_module(jsonb_build_object('key', $1::text, 'name', 'Agg test', 'version', '1.0.0', 'platform', '>=0.1'))",
        &[&module],
    )
    .await
    .unwrap();
    for tenant in &f.tenants[..2] {
        db.execute("SELECT tenancy.enable_module($1, $2)", &[&tenant.id, &module]).await.unwrap();
    }
    db.execute("SELECT tenancy.suspend_tenant($1)", &[&f.tenants[3].id]).await.unwrap();
    let mine: Vec<Uuid> = f.tenants.iter().map(|t| t.id).chain([empty.id]).collect();

    let tx = db.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await.unwrap();
    // Module adoption: mine is enabled by exactly two tenants; every module agrees with the catalog.
    let adoption: (i64, i64) = {
        let r = tx
            .query_one(
                "SELECT enabled_tenants, total_tenants FROM tenancy.module_adoption WHERE module = $1",
                &[&module],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let total: i64 = value(&tx, "SELECT count(*) FROM tenancy.tenants").await;
    assert_eq!(adoption, (2, total));
    let disagree: i64 = value(
        &tx,
        "SELECT count(*) FROM tenancy.module_adoption a JOIN tenancy.modules m ON m.key = a.module
         WHERE a.enabled_tenants <> (SELECT count(*) FROM tenancy.tenants t
                                     WHERE m.is_core OR t.id IN (SELECT tm.tenant_id FROM tenancy.tenant_modules tm
                                                                 WHERE tm.module = m.key AND tm.enabled))
            OR a.total_tenants <> (SELECT count(*) FROM tenancy.tenants)
            OR a.adoption IS DISTINCT FROM round(a.enabled_tenants::numeric / nullif(a.total_tenants, 0), 4)",
    )
    .await;
    assert_eq!(disagree, 0);
    assert_eq!(
        value::<i64>(&tx, "SELECT count(*) FROM tenancy.module_adoption").await,
        value::<i64>(&tx, "SELECT count(*) FROM tenancy.modules").await
    );

    // Tenants by plan and status, zeros included.
    let by_plan: Vec<(String, String, i64, i64)> = tx
        .query(
            "SELECT plan, status, tenants, analytics_opted_out FROM tenancy.tenants_by_plan ORDER BY rank, status",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let catalog: Vec<(String, String, i64, i64)> = tx
        .query(
            "SELECT p.key, s.status,
                    (SELECT count(*) FROM tenancy.tenants t WHERE t.plan = p.key AND t.status = s.status),
                    (SELECT count(*) FROM tenancy.tenants t JOIN tenancy.analytics_opt_outs o ON o.tenant_id = t.id
                     WHERE t.plan = p.key AND t.status = s.status)
             FROM tenancy.plans p, (VALUES ('active'), ('suspended')) s (status) ORDER BY p.rank, s.status",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(by_plan, catalog);
    assert!(by_plan.iter().any(|r| r.0 == "free" && r.1 == "suspended" && r.2 >= 1));

    // Usage: my table's rows per tenant, 0 for the tenant without any.
    let usage: Vec<(Uuid, String, i64)> = tx
        .query(
            "SELECT tenant_id, slug, row_count FROM tenancy.tenant_table_usage WHERE table_name = $1 AND tenant_id = ANY ($2)
             ORDER BY tenant_id",
            &[t, &mine],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let counted: Vec<(Uuid, String, i64)> = tx
        .query(
            &format!(
                "SELECT tn.id, tn.slug, (SELECT count(*) FROM {t} f WHERE f.tenant_id = tn.id)
                 FROM tenancy.tenants tn WHERE tn.id = ANY ($1) ORDER BY tn.id"
            ),
            &[&mine],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(usage, counted);
    assert!(usage.iter().any(|u| u.0 == empty.id && u.2 == 0));
    let tables: i64 = value(&tx, "SELECT count(*) FROM tenancy.protected_tables").await;
    let per_tenant: i64 = tx
        .query_one("SELECT count(*) FROM tenancy.tenant_table_usage WHERE tenant_id = $1", &[&empty.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(per_tenant, tables, "one row per protected table");

    // Events per tenant and UTC day.
    let daily: Vec<(Uuid, String, i64)> = tx
        .query(
            "SELECT tenant_id, day::text, events FROM tenancy.tenant_daily_events WHERE tenant_id = ANY ($1) ORDER BY 1, 2",
            &[&mine],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let logged: Vec<(Uuid, String, i64)> = tx
        .query(
            "SELECT tenant_id, ((at AT TIME ZONE 'UTC')::date)::text, count(*) FROM tenancy.events WHERE tenant_id = ANY ($1)
             GROUP BY 1, 2 ORDER BY 1, 2",
            &[&mine],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(daily, logged);
    assert!(daily.iter().map(|d| d.2).sum::<i64>() >= 8, "5 tenants created, 2 modules enabled, 1 suspended");
    tx.commit().await.unwrap();
}
