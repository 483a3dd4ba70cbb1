//! What cross-tenant aggregation must never reveal, attacked as a member of
//! tenancy_analytics: a person's row through a private column (grouped, filtered, counted,
//! min/max), one row's value through min/max of a measure, a small group through filters or
//! per_tenant, a minimum group size lowered by the caller. The platform's k and the column
//! classes (sql/analytics_privacy.sql) refuse or suppress each; allowed queries still equal a
//! superuser's GROUP BY.
use serde_json::{json, Value};
use tenancy_e2e::*;
use tokio_postgres::Client;

/// A database of its own (the platform's k is database-wide) with people of two tenants:
/// `big` has 12 (one of them the only "CEO"), `tiny` has 1. The classes are what a module
/// would declare; `notes` is left undeclared.
struct Fixture {
    scratch: ScratchDatabase,
    analyst: String,
    big: Tenant,
    tiny: Tenant,
}

const PEOPLE: &str = "priv.people";

async fn fixture() -> Fixture {
    let scratch = ScratchDatabase::create("privacy").await;
    let db = scratch.connect().await;
    db.batch_execute(
        "CREATE EXTENSION tenancy;
         CREATE SCHEMA priv;
         CREATE TABLE priv.people (
             tenant_id uuid NOT NULL, id int NOT NULL, name text NOT NULL, email text NOT NULL,
             job text NOT NULL, salary numeric(10, 2) NOT NULL, hired date NOT NULL, notes text,
             PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, email));
         SELECT tenancy.protect('priv.people', analytics => '{
             \"id\": \"private\", \"name\": \"private\", \"email\": \"private\",
             \"job\": \"dimension\", \"salary\": \"measure\", \"hired\": {\"class\": \"measure\", \"extremes\": true}}');",
    )
    .await
    .unwrap();
    let big = create_tenant(&db, "free", &[]).await;
    let tiny = create_tenant(&db, "free", &[]).await;
    db.execute(
        "INSERT INTO priv.people
         SELECT $1, i, 'Person ' || i, 'p' || i || '@big.example', CASE WHEN i = 1 THEN 'CEO' ELSE 'Engineer' END,
                1000 * i, date '2020-01-01' + i, 'secret ' || i
         FROM generate_series(1, 12) i",
        &[&big.id],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO priv.people VALUES ($1, 1, 'Solo', 'solo@tiny.example', 'Engineer', 99999, '2021-06-01', 'x')",
        &[&tiny.id],
    )
    .await
    .unwrap();
    let analyst = create_role(&db, "IN ROLE tenancy_analytics").await;
    Fixture { scratch, analyst, big, tiny }
}

impl Fixture {
    async fn analyst(&self) -> Client {
        connect_to(&self.scratch.name, &self.analyst).await
    }
}

/// The rows of one call as (tenant, group_values, aggregates, row_count), and suppressed_groups.
async fn aggregate(
    db: &Client,
    call: Value,
) -> Result<(Vec<(Option<uuid::Uuid>, Value, Value, i64)>, i64), tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT a.tenant_id, a.group_values, a.aggregates, a.row_count, a.suppressed_groups
             FROM (SELECT $1::jsonb AS j) c, tenancy.aggregate(
                 c.j->>'tbl', coalesce(nullif(ARRAY(SELECT jsonb_array_elements_text(c.j->'measures')), '{}'), '{count}'),
                 ARRAY(SELECT jsonb_array_elements_text(coalesce(c.j->'group_by', '[]'))),
                 coalesce(c.j->'filters', '{}'), coalesce((c.j->>'per_tenant')::bool, false),
                 (c.j->>'min_group_size')::int) a",
            &[&call],
        )
        .await?;
    let suppressed = rows.first().map_or(0, |r| r.get(4));
    Ok((rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect(), suppressed))
}

#[tokio::test]
async fn private_columns_are_never_grouped_filtered_counted_or_extremes() {
    let f = fixture().await;
    let db = f.analyst().await;
    // every private column (declared or not) in every use; min/max of a measure without extremes;
    // sum/avg of a dimension
    let mut attacks = vec![];
    for col in ["id", "name", "email", "notes"] {
        attacks.push(json!({"tbl": PEOPLE, "group_by": [col]}));
        attacks.push(json!({"tbl": PEOPLE, "group_by": ["job", col], "per_tenant": true}));
        attacks.push(json!({"tbl": PEOPLE, "filters": {col: "x"}}));
        attacks.push(json!({"tbl": PEOPLE, "filters": {col: {"gte": "a"}}}));
        for fun in ["count", "min", "max", "sum", "avg"] {
            attacks.push(json!({"tbl": PEOPLE, "measures": [format!("{fun}({col})")]}));
        }
    }
    attacks.push(json!({"tbl": PEOPLE, "measures": ["max(salary)"], "group_by": ["job"], "per_tenant": true}));
    attacks.push(json!({"tbl": PEOPLE, "measures": ["min(salary)"]}));
    attacks.push(json!({"tbl": PEOPLE, "measures": ["sum(job)"]}));
    attacks.push(json!({"tbl": PEOPLE, "group_by": ["salary"]}));
    attacks.push(json!({"tbl": PEOPLE, "filters": {"salary": {"gte": 11000}}}));
    for attack in attacks {
        let refused = aggregate(&db, attack.clone()).await;
        assert_eq!(sqlstate(refused), "TN067", "{attack}");
    }
    // what the classes allow still works
    let (rows, _) = aggregate(
        &db,
        json!({"tbl": PEOPLE, "measures": ["count", "count(salary)", "avg(salary)", "min(hired)", "max(hired)"],
                              "group_by": ["job"], "filters": {"job": "Engineer"}}),
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].3, 12, "11 engineers of big, 1 of tiny");
}

/// The issue's own leaks, on the demo's tables in the dev database: the bodies of chat
/// messages, each named person's salary, one person by e-mail.
#[tokio::test]
async fn the_demo_tables_reveal_no_message_salary_or_person() {
    let admin = superuser().await;
    let analyst = create_role(&admin, "IN ROLE tenancy_analytics").await;
    let db = connect_as(&analyst).await;
    for attack in [
        json!({"tbl": "chat.messages", "group_by": ["body"]}),
        json!({"tbl": "hrms.employees", "measures": ["max(salary)"], "group_by": ["email"], "per_tenant": true}),
        json!({"tbl": "hrms.employees", "filters": {"email": "ada@acme.example"}}),
        json!({"tbl": "hrms.employees", "group_by": ["first_name", "last_name"]}),
        json!({"tbl": "core.user_profiles", "group_by": ["phone"]}),
    ] {
        assert_eq!(sqlstate(aggregate(&db, attack.clone()).await), "TN067", "{attack}");
    }
    // every column of every demo table has a declared class
    let demo_tables = [
        "core.users",
        "core.user_profiles",
        "hrms.departments",
        "hrms.employees",
        "payroll.payslips",
        "chat.channels",
        "chat.messages",
        "pipeline.deals",
        "school.students",
        "library.books",
        "library.loans",
        "events.events",
        "attendance.records",
    ];
    let undeclared: Vec<String> = admin
        .query(
            "SELECT table_name || '.' || column_name FROM tenancy.analytics_classes
             WHERE NOT declared AND table_name = ANY ($1)",
            &[&demo_tables.to_vec()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(undeclared, Vec::<String>::new());
}

#[tokio::test]
async fn small_groups_stay_suppressed_however_they_are_narrowed() {
    let f = fixture().await;
    let db = f.analyst().await;
    // the only CEO, grouped, filtered, or per tenant: never a row, counted as suppressed
    let (rows, suppressed) =
        aggregate(&db, json!({"tbl": PEOPLE, "measures": ["count", "avg(salary)"], "group_by": ["job"]}))
            .await
            .unwrap();
    assert_eq!(rows.iter().map(|r| (r.1.clone(), r.3)).collect::<Vec<_>>(), [(json!({"job": "Engineer"}), 12)]);
    assert_eq!(suppressed, 1, "the CEO's group");
    let (rows, _) =
        aggregate(&db, json!({"tbl": PEOPLE, "measures": ["avg(salary)"], "filters": {"job": "CEO"}})).await.unwrap();
    assert_eq!(rows, vec![], "a filter down to one person");
    let (rows, suppressed) =
        aggregate(&db, json!({"tbl": PEOPLE, "measures": ["avg(salary)"], "per_tenant": true})).await.unwrap();
    assert_eq!(rows.iter().map(|r| (r.0, r.3)).collect::<Vec<_>>(), [(Some(f.big.id), 12)], "tiny's one person");
    assert_eq!(suppressed, 1);
    let (rows, _) = aggregate(
        &db,
        json!({"tbl": PEOPLE, "measures": ["max(hired)"], "per_tenant": true, "filters": {"tenant_id": f.tiny.id}}),
    )
    .await
    .unwrap();
    assert_eq!(rows, vec![], "per_tenant with a group of one");

    // the caller may ask for more, never for less
    assert_eq!(sqlstate(aggregate(&db, json!({"tbl": PEOPLE, "min_group_size": 4})).await), "TN066");
    assert_eq!(sqlstate(aggregate(&db, json!({"tbl": PEOPLE, "min_group_size": 1})).await), "TN066");
    let (rows, suppressed) =
        aggregate(&db, json!({"tbl": PEOPLE, "group_by": ["job"], "min_group_size": 13})).await.unwrap();
    assert_eq!((rows, suppressed), (vec![], 0), "every group suppressed: nothing comes back");
    let (rows, _) = aggregate(&db, json!({"tbl": PEOPLE, "min_group_size": 13})).await.unwrap();
    assert_eq!(rows[0].3, 13);
}

#[tokio::test]
async fn allowed_queries_equal_a_superusers_group_by() {
    let f = fixture().await;
    let db = f.analyst().await;
    let admin = f.scratch.connect().await;
    let (rows, suppressed) = aggregate(
        &db,
        json!({"tbl": PEOPLE, "measures": ["count", "sum(salary)", "avg(salary)", "min(hired)", "max(hired)"],
               "group_by": ["job"], "filters": {"job": ["Engineer", "CEO"]}}),
    )
    .await
    .unwrap();
    let expected: Vec<(Value, Value, i64)> = admin
        .query(
            "SELECT jsonb_build_object('job', job),
                    jsonb_build_object('count', count(*), 'sum(salary)', sum(salary), 'avg(salary)', avg(salary),
                                       'min(hired)', min(hired), 'max(hired)', max(hired)), count(*)
             FROM priv.people WHERE job IN ('Engineer', 'CEO') GROUP BY job HAVING count(*) >= 5 ORDER BY job",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows.into_iter().map(|r| (r.1, r.2, r.3)).collect::<Vec<_>>(), expected);
    assert_eq!(suppressed, 1);
}

#[tokio::test]
async fn only_tenancy_admin_sets_the_minimum_and_it_is_recorded() {
    let f = fixture().await;
    let admin = f.scratch.connect().await;
    let analyst = f.analyst().await;
    let k: i32 = value(&analyst, "SELECT tenancy.analytics_min_group_size()").await;
    assert_eq!(k, 5, "the default");
    assert_eq!(sqlstate(analyst.execute("SELECT tenancy.set_analytics_policy(1)", &[]).await), INSUFFICIENT_PRIVILEGE);
    assert_eq!(sqlstate(admin.execute("SELECT tenancy.set_analytics_policy(0)", &[]).await), "TN065");
    assert_eq!(value::<i32>(&analyst, "SELECT tenancy.analytics_min_group_size()").await, 5, "refusals change nothing");

    let tenancy_admin = create_role(&admin, "IN ROLE tenancy_admin").await;
    let was: i32 =
        value(&connect_to(&f.scratch.name, &tenancy_admin).await, "SELECT tenancy.set_analytics_policy(13)").await;
    assert_eq!(was, 5);
    let event: Value = value(
        &admin,
        "SELECT detail FROM tenancy.events WHERE action = 'analytics.policy_set' ORDER BY id DESC LIMIT 1",
    )
    .await;
    assert_eq!(event, json!({"min_group_size": 13, "was": 5}));
    // 12 engineers are now a small group; asking for 12 is asking for less
    let (rows, suppressed) = aggregate(&analyst, json!({"tbl": PEOPLE, "group_by": ["job"]})).await.unwrap();
    assert_eq!((rows.len(), suppressed), (0, 0));
    assert_eq!(sqlstate(aggregate(&analyst, json!({"tbl": PEOPLE, "min_group_size": 12})).await), "TN066");
}

#[tokio::test]
async fn declarations_are_checked_and_follow_the_columns() {
    let f = fixture().await;
    let admin = f.scratch.connect().await;
    let declare = |classes: Value| {
        let admin = &admin;
        async move { admin.execute("SELECT tenancy.protect('priv.people', analytics => $1)", &[&classes]).await }
    };
    for (classes, named) in [
        (json!({"nope": "dimension"}), "nope: no such column"),
        (json!({"job": "category"}), "unknown class"),
        (json!({"tenant_id": "dimension"}), "tenant_id"),
        (json!({"email": "dimension"}), "email: a dimension needs a reason"),
        (json!({"id": "dimension"}), "id: a dimension needs a reason"),
        (json!({"name": {"class": "private", "extremes": true}}), "no extremes"),
        (json!({"job": {"class": "dimension", "why": "x"}}), "unknown key"),
        (json!({"job": {"class": "dimension", "reason": ""}}), "reason"),
        (json!(["job"]), "JSON object"),
    ] {
        let refused = declare(classes.clone()).await;
        let text = format!("{refused:?}");
        assert_eq!(sqlstate(refused), "TN068", "{classes}");
        assert!(text.contains(named), "{classes}: {text}");
    }
    let classes: Vec<(String, String, bool)> = admin
        .query("SELECT column_name, class, declared FROM tenancy.analytics_classes WHERE table_name = $1", &[&PEOPLE])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert!(classes.contains(&("job".into(), "dimension".into(), true)), "refusals changed nothing: {classes:?}");
    assert!(classes.contains(&("notes".into(), "private".into(), false)), "undeclared is private: {classes:?}");

    // an identifying column may be a dimension with a reason
    declare(json!({"email": {"class": "dimension", "reason": "a shared mailbox per team"}, "salary": "measure"}))
        .await
        .unwrap();
    let recorded = || async {
        value::<i64>(&admin, "SELECT count(*) FROM tenancy.events WHERE action = 'table.analytics_classified'").await
    };
    let before = recorded().await;
    declare(json!({"salary": "measure", "email": {"class": "dimension", "reason": "a shared mailbox per team"}}))
        .await
        .unwrap();
    assert_eq!(recorded().await, before, "the same classes again: nothing changed, nothing recorded");
    let db = f.analyst().await;
    aggregate(&db, json!({"tbl": PEOPLE, "group_by": ["email"]})).await.unwrap();
    assert_eq!(
        sqlstate(aggregate(&db, json!({"tbl": PEOPLE, "group_by": ["job"]})).await),
        "TN067",
        "replaced, not merged"
    );

    // a dropped column takes its class along: the new one under the same name is private
    admin
        .batch_execute("ALTER TABLE priv.people DROP COLUMN salary; ALTER TABLE priv.people ADD COLUMN salary numeric")
        .await
        .unwrap();
    assert_eq!(sqlstate(aggregate(&db, json!({"tbl": PEOPLE, "measures": ["sum(salary)"]})).await), "TN067");
    // and only administrators declare
    let analyst_db = f.analyst().await;
    let refused = analyst_db.execute("SELECT tenancy.protect('priv.people', analytics => '{}')", &[]).await;
    assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE);
}
