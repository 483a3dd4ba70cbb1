//! Embedding over REST beyond one foreign key: many-to-many through a junction table (both
//! directions, hints, filters / order / limit on the embedded side, `!inner`, ambiguity) and
//! spread embedding `...rel(...)` (to-one only), on tenant tables whose keys and foreign keys
//! all hold `tenant_id`, in a database of the test's own.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json, token};
use tenancy_e2e::*;

/// Schema `cinema`: films, actors and the junction `films_actors` (key `(tenant_id, film_id,
/// actor_id)`), directors and studios (many-to-one), technical specs (one-to-one), and
/// `screenings`, which has foreign keys to films and actors but is no junction (they are not
/// in its key). Schema `festival`: films and actors paired by two junctions, `cast_members`
/// and `stunt_doubles`. Two tenants with the same ids and different names.
struct Fixture {
    _scratch: ScratchDatabase,
    api: api::Api,
    a: Tenant,
    b: Tenant,
}

const SCHEMA: &str = "
    CREATE SCHEMA cinema;
    CREATE TABLE cinema.studios (
        tenant_id uuid NOT NULL, id int NOT NULL, city text NOT NULL, PRIMARY KEY (tenant_id, id));
    CREATE TABLE cinema.directors (
        tenant_id uuid NOT NULL, id int NOT NULL, name text NOT NULL, studio_id int,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, studio_id) REFERENCES cinema.studios (tenant_id, id));
    CREATE TABLE cinema.films (
        tenant_id uuid NOT NULL, id int NOT NULL, title text NOT NULL, director_id int,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, director_id) REFERENCES cinema.directors (tenant_id, id));
    CREATE TABLE cinema.actors (
        tenant_id uuid NOT NULL, id int NOT NULL, name text NOT NULL, PRIMARY KEY (tenant_id, id));
    CREATE TABLE cinema.films_actors (
        tenant_id uuid NOT NULL, film_id int NOT NULL, actor_id int NOT NULL,
        PRIMARY KEY (tenant_id, film_id, actor_id),
        FOREIGN KEY (tenant_id, film_id) REFERENCES cinema.films (tenant_id, id),
        FOREIGN KEY (tenant_id, actor_id) REFERENCES cinema.actors (tenant_id, id));
    CREATE TABLE cinema.technical_specs (
        tenant_id uuid NOT NULL, film_id int NOT NULL, camera text NOT NULL,
        PRIMARY KEY (tenant_id, film_id),
        FOREIGN KEY (tenant_id, film_id) REFERENCES cinema.films (tenant_id, id));
    CREATE TABLE cinema.screenings (
        tenant_id uuid NOT NULL, id int NOT NULL, film_id int NOT NULL, actor_id int,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, film_id) REFERENCES cinema.films (tenant_id, id),
        FOREIGN KEY (tenant_id, actor_id) REFERENCES cinema.actors (tenant_id, id));

    CREATE SCHEMA festival;
    CREATE TABLE festival.films (
        tenant_id uuid NOT NULL, id int NOT NULL, title text NOT NULL, PRIMARY KEY (tenant_id, id));
    CREATE TABLE festival.actors (
        tenant_id uuid NOT NULL, id int NOT NULL, name text NOT NULL, PRIMARY KEY (tenant_id, id));
    CREATE TABLE festival.cast_members (
        tenant_id uuid NOT NULL, film_id int NOT NULL, actor_id int NOT NULL,
        PRIMARY KEY (tenant_id, film_id, actor_id),
        FOREIGN KEY (tenant_id, film_id) REFERENCES festival.films (tenant_id, id),
        FOREIGN KEY (tenant_id, actor_id) REFERENCES festival.actors (tenant_id, id));
    CREATE TABLE festival.stunt_doubles (
        tenant_id uuid NOT NULL, film_id int NOT NULL, actor_id int NOT NULL,
        PRIMARY KEY (tenant_id, film_id, actor_id),
        FOREIGN KEY (tenant_id, film_id) REFERENCES festival.films (tenant_id, id),
        FOREIGN KEY (tenant_id, actor_id) REFERENCES festival.actors (tenant_id, id));

    DO $$
    DECLARE t regclass;
    BEGIN
        FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname IN ('cinema', 'festival') AND c.relkind = 'r' LOOP
            PERFORM tenancy.protect(t);
        END LOOP;
    END $$;
    GRANT USAGE ON SCHEMA cinema, festival TO tenant_member;
    GRANT SELECT ON ALL TABLES IN SCHEMA cinema, festival TO tenant_member;
    GRANT INSERT ON cinema.films TO tenant_member;
";

/// Tenant A: Alien (Dee, of the London studio) with Ann, Bob and Abe; Brazil (Eve, no
/// studio) with Bob; Casablanca (no director) with nobody; Cid in no film. Tenant B: the
/// same ids, its own names.
const ROWS: &str = "
    INSERT INTO cinema.studios VALUES ($1, 1, 'London');
    INSERT INTO cinema.directors VALUES ($1, 1, 'Dee', 1), ($1, 2, 'Eve', NULL);
    INSERT INTO cinema.films VALUES ($1, 1, 'Alien', 1), ($1, 2, 'Brazil', 2), ($1, 3, 'Casablanca', NULL);
    INSERT INTO cinema.actors VALUES ($1, 1, 'Ann'), ($1, 2, 'Bob'), ($1, 3, 'Abe'), ($1, 4, 'Cid');
    INSERT INTO cinema.films_actors VALUES ($1, 1, 1), ($1, 1, 2), ($1, 1, 3), ($1, 2, 2);
    INSERT INTO cinema.technical_specs VALUES ($1, 1, 'Panavision');
    INSERT INTO cinema.screenings VALUES ($1, 1, 3, 4);
    INSERT INTO festival.films VALUES ($1, 1, 'Alien');
    INSERT INTO festival.actors VALUES ($1, 1, 'Ann'), ($1, 2, 'Bob');
    INSERT INTO festival.cast_members VALUES ($1, 1, 1);
    INSERT INTO festival.stunt_doubles VALUES ($1, 1, 2);

    INSERT INTO cinema.studios VALUES ($2, 1, 'Lagos');
    INSERT INTO cinema.directors VALUES ($2, 1, 'Zoe', 1), ($2, 2, 'Yuri', 1);
    INSERT INTO cinema.films VALUES ($2, 1, 'Zardoz', 2), ($2, 2, 'Yojimbo', 1);
    INSERT INTO cinema.actors VALUES ($2, 1, 'Zed'), ($2, 2, 'Yan'), ($2, 5, 'Xi');
    INSERT INTO cinema.films_actors VALUES ($2, 1, 1), ($2, 1, 5), ($2, 2, 2);
";

async fn fixture() -> Fixture {
    let scratch = ScratchDatabase::create("embedding").await;
    let db = scratch.connect().await;
    db.batch_execute("CREATE EXTENSION tenancy").await.unwrap();
    let (a, b) = (create_tenant(&db, "free", &[]).await, create_tenant(&db, "free", &[]).await);
    db.batch_execute(SCHEMA).await.unwrap();
    // Parameters bind once per statement: one insert at a time, tenants as literals.
    let rows = ROWS.replace("$1", &format!("'{}'", a.id)).replace("$2", &format!("'{}'", b.id));
    db.batch_execute(&rows).await.unwrap();
    let uri = scratch.url().replacen("postgres://postgres@", "postgres://authenticator@", 1);
    assert!(uri.starts_with("postgres://authenticator@"), "{uri}");
    let api = api::start_with(&[("PGRST_DB_URI", &uri), ("PGRST_DB_SCHEMAS", "cinema,festival")]).await;
    Fixture { _scratch: scratch, api, a, b }
}

impl Fixture {
    fn cinema(&self, tenant: &Tenant) -> postgrest::Postgrest {
        self.api.client(Some(&token(tenant.id))).schema("cinema")
    }

    /// A GET the postgrest client cannot say (it has no header-free way to ask for a status
    /// it treats as an error), as plain HTTP: status and body.
    async fn get(&self, tenant: &Tenant, schema: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .api
            .http()
            .get(format!("{}{path}", self.api.url))
            .bearer_auth(token(tenant.id))
            .header("Accept-Profile", schema)
            .send()
            .await
            .unwrap();
        json(response).await
    }
}

async fn rows(query: postgrest::Builder) -> Value {
    let (status, body) = json(query.execute().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn many_to_many_in_both_directions_with_hints_filters_order_limit_and_inner() {
    let f = fixture().await;
    let db = f.cinema(&f.a);

    let films = rows(db.from("films").select("title,actors(name)").order("id").order_with_options(
        "name",
        Some("actors"),
        true,
        false,
    ))
    .await;
    assert_eq!(
        films,
        json!([
            {"title": "Alien", "actors": [{"name": "Abe"}, {"name": "Ann"}, {"name": "Bob"}]},
            {"title": "Brazil", "actors": [{"name": "Bob"}]},
            {"title": "Casablanca", "actors": []},
        ]),
        "screenings has foreign keys to both but they are not in its key: no second relationship"
    );

    let actors = rows(db.from("actors").select("name,films(title)").order("id").order_with_options(
        "title",
        Some("films"),
        false,
        false,
    ))
    .await;
    assert_eq!(
        actors,
        json!([
            {"name": "Ann", "films": [{"title": "Alien"}]},
            {"name": "Bob", "films": [{"title": "Brazil"}, {"title": "Alien"}]},
            {"name": "Abe", "films": [{"title": "Alien"}]},
            {"name": "Cid", "films": []},
        ])
    );

    let hinted = rows(db.from("films").select("title,cast:actors!films_actors(name)").eq("id", "2")).await;
    assert_eq!(hinted, json!([{"title": "Brazil", "cast": [{"name": "Bob"}]}]));

    let narrowed = rows(
        db.from("films")
            .select("title,actors(name)")
            .order("id")
            .order_with_options("name", Some("actors"), true, false)
            .foreign_table_limit(2, "actors")
            .like("actors.name", "A*"),
    )
    .await;
    assert_eq!(
        narrowed,
        json!([
            {"title": "Alien", "actors": [{"name": "Abe"}, {"name": "Ann"}]},
            {"title": "Brazil", "actors": []},
            {"title": "Casablanca", "actors": []},
        ])
    );

    let offset =
        f.get(&f.a, "cinema", "/films?select=title,actors(name)&id=eq.1&actors.order=name.desc&actors.offset=1").await;
    assert_eq!(offset, (StatusCode::OK, json!([{"title": "Alien", "actors": [{"name": "Ann"}, {"name": "Abe"}]}])));

    let inner = rows(db.from("films").select("title,actors!inner(name)").eq("actors.name", "Bob").order("id")).await;
    assert_eq!(
        inner,
        json!([{"title": "Alien", "actors": [{"name": "Bob"}]}, {"title": "Brazil", "actors": [{"name": "Bob"}]}])
    );

    let nested = rows(db.from("actors").select("name,films(title,actors(name))").eq("name", "Bob").order_with_options(
        "title",
        Some("films"),
        true,
        false,
    ))
    .await;
    let alien_cast: Vec<&str> = nested[0]["films"][0]["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(nested[0]["films"][0]["title"], "Alien");
    assert_eq!(alien_cast, ["Abe", "Ann", "Bob"], "m2m nested in m2m: {nested}");

    // The junction itself is still a one-to-many of either side.
    let links = rows(db.from("films").select("title,films_actors(actor_id)").eq("id", "2")).await;
    assert_eq!(links, json!([{"title": "Brazil", "films_actors": [{"actor_id": 2}]}]));

    let (status, body) = f.get(&f.a, "cinema", "/studios?select=city,actors(name)").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("PGRST200")), "{body}");
    let (status, body) = f.get(&f.a, "cinema", "/films?select=title,actors!screenings(name)").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("PGRST200")),
        "a table that is not a junction is no hint for one: {body}"
    );
}

#[tokio::test]
async fn a_tenant_never_sees_another_tenants_actors_through_the_junction() {
    let f = fixture().await;
    for (tenant, expected) in [
        (
            &f.a,
            json!([
                {"id": 1, "actors": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}, {"id": 3, "name": "Abe"}]},
                {"id": 2, "actors": [{"id": 2, "name": "Bob"}]},
                {"id": 3, "actors": []},
            ]),
        ),
        (
            &f.b,
            json!([
                {"id": 1, "actors": [{"id": 1, "name": "Zed"}, {"id": 5, "name": "Xi"}]},
                {"id": 2, "actors": [{"id": 2, "name": "Yan"}]},
            ]),
        ),
    ] {
        let got = rows(f.cinema(tenant).from("films").select("id,actors(id,name)").order("id").order_with_options(
            "id",
            Some("actors"),
            true,
            false,
        ))
        .await;
        assert_eq!(got, expected, "tenant {}", tenant.slug);
        let tenants = rows(f.cinema(tenant).from("actors").select("tenant_id,films(tenant_id)")).await;
        for actor in tenants.as_array().unwrap() {
            assert_eq!(actor["tenant_id"], json!(tenant.id));
            for film in actor["films"].as_array().unwrap() {
                assert_eq!(film["tenant_id"], json!(tenant.id), "{tenants}");
            }
        }
    }
    // Tenant B has no film 3 and no actor 3 or 4: the same ids, nothing of A's.
    let b_bob = rows(f.cinema(&f.b).from("actors").select("name,films(title)").in_("id", ["2", "3", "4"])).await;
    assert_eq!(b_bob, json!([{"name": "Yan", "films": [{"title": "Yojimbo"}]}]));
}

#[tokio::test]
async fn two_junction_tables_are_ambiguous_until_a_hint_names_one() {
    let f = fixture().await;
    let (status, body) = f.get(&f.a, "festival", "/films?select=title,actors(name)").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::MULTIPLE_CHOICES, Some("PGRST201")), "{body}");
    // PostgREST's details: each relationship, its cardinality and the tables it joins.
    let relationships: Vec<&str> =
        body["details"].as_array().unwrap().iter().map(|d| d["relationship"].as_str().unwrap()).collect();
    assert_eq!(relationships.len(), 2, "{body}");
    assert!(
        relationships[0].starts_with("cast_members using ") && relationships[1].starts_with("stunt_doubles using ")
    );
    assert!(body["details"].as_array().unwrap().iter().all(|d| d["cardinality"] == "many-to-many"), "{body}");
    assert_eq!(
        body["hint"],
        "Try changing 'actors' to one of the following: 'actors!cast_members', 'actors!stunt_doubles'. \
         Find the desired relationship in the 'details' key."
    );

    let festival = f.api.client(Some(&token(f.a.id))).schema("festival");
    let cast = rows(festival.from("films").select("title,actors!cast_members(name)")).await;
    assert_eq!(cast, json!([{"title": "Alien", "actors": [{"name": "Ann"}]}]));
    let doubles = rows(festival.from("films").select("title,doubles:actors!stunt_doubles(name)")).await;
    assert_eq!(doubles, json!([{"title": "Alien", "doubles": [{"name": "Bob"}]}]));
    let both = rows(
        festival
            .from("actors")
            .select("name,cast:films!cast_members(title),stunts:films!stunt_doubles(title)")
            .order("id"),
    )
    .await;
    assert_eq!(
        both,
        json!([
            {"name": "Ann", "cast": [{"title": "Alien"}], "stunts": []},
            {"name": "Bob", "cast": [], "stunts": [{"title": "Alien"}]},
        ])
    );
}

#[tokio::test]
async fn spread_lifts_to_one_columns_into_the_parent() {
    let f = fixture().await;
    let db = f.cinema(&f.a);

    let films = rows(db.from("films").select("title,...directors(director:name)").order("id")).await;
    assert_eq!(
        films,
        json!([
            {"title": "Alien", "director": "Dee"},
            {"title": "Brazil", "director": "Eve"},
            {"title": "Casablanca", "director": null},
        ])
    );

    let nested = rows(db.from("films").select("title,...directors(director:name,...studios(city))").order("id")).await;
    assert_eq!(
        nested,
        json!([
            {"title": "Alien", "director": "Dee", "city": "London"},
            {"title": "Brazil", "director": "Eve", "city": null},
            {"title": "Casablanca", "director": null, "city": null},
        ])
    );

    let inner =
        rows(db.from("films").select("title,...directors!inner(director:name)").eq("directors.name", "Eve")).await;
    assert_eq!(inner, json!([{"title": "Brazil", "director": "Eve"}]));

    let one_to_one =
        rows(db.from("films").select("title,...technical_specs(camera),specs:technical_specs(camera)").order("id"))
            .await;
    assert_eq!(
        one_to_one,
        json!([
            {"title": "Alien", "camera": "Panavision", "specs": {"camera": "Panavision"}},
            {"title": "Brazil", "camera": null, "specs": null},
            {"title": "Casablanca", "camera": null, "specs": null},
        ]),
        "a foreign key that is the child's primary key is one-to-one: an object, and spreadable"
    );

    let in_embed =
        rows(
            db.from("actors")
                .select("name,films(title,...directors(director:name))")
                .eq("name", "Bob")
                .order_with_options("title", Some("films"), true, false),
        )
        .await;
    assert_eq!(
        in_embed,
        json!([{"name": "Bob", "films": [
            {"title": "Alien", "director": "Dee"},
            {"title": "Brazil", "director": "Eve"},
        ]}]),
        "spread inside a many-to-many embed"
    );

    let everything = rows(db.from("directors").select("name,...studios(*)").eq("id", "1")).await;
    assert_eq!(everything, json!([{"name": "Dee", "tenant_id": f.a.id, "id": 1, "city": "London"}]));

    let response = db
        .from("films")
        .select("title,...directors(director:name)")
        .insert(json!({"id": 4, "title": "Dune", "director_id": 2}).to_string())
        .execute()
        .await
        .unwrap();
    let (status, created) = json(response).await;
    assert_eq!((status, created), (StatusCode::CREATED, json!([{"title": "Dune", "director": "Eve"}])));
}

#[tokio::test]
async fn spread_of_a_to_many_relationship_lifts_arrays_of_the_tenants_rows() {
    let f = fixture().await;
    let cases = [
        // One-to-many: each key an array of the related rows' values; [] without rows.
        (
            &f.a,
            "/directors?select=name,...films(title,film:id)&order=id",
            json!([{"name": "Dee", "title": ["Alien"], "film": [1]}, {"name": "Eve", "title": ["Brazil"], "film": [2]}]),
        ),
        // Many-to-many, in the embed's order.
        (
            &f.a,
            "/films?select=title,...actors(name)&order=id&actors.order=name.desc",
            json!([
                {"title": "Alien", "name": ["Bob", "Ann", "Abe"]},
                {"title": "Brazil", "name": ["Bob"]},
                {"title": "Casablanca", "name": []},
            ]),
        ),
        // A to-one spread inside: each actor's film's director, as an array beside the titles.
        (
            &f.a,
            "/actors?select=name,...films(title,...directors(director:name))&id=eq.2&films.order=id",
            json!([{"name": "Bob", "title": ["Alien", "Brazil"], "director": ["Dee", "Eve"]}]),
        ),
        // `rel=is.null` on a to-many spread: the films without actors, with an empty array.
        (&f.a, "/films?select=title,...actors(name)&actors=is.null", json!([{"title": "Casablanca", "name": []}])),
        // Tenant B's actors share ids with A's: none of A's rows crosses into B's arrays.
        (
            &f.b,
            "/films?select=title,...actors(name)&order=id&actors.order=name",
            json!([{"title": "Zardoz", "name": ["Xi", "Zed"]}, {"title": "Yojimbo", "name": ["Yan"]}]),
        ),
    ];
    for (tenant, path, expected) in cases {
        let (status, body) = f.get(tenant, "cinema", path).await;
        assert_eq!((status, body), (StatusCode::OK, expected), "{path}");
    }
}
