//! How one relation embeds another: through a foreign key (either way) or a junction table.
use super::target;
use crate::error::ApiError;
use crate::plan_types::{Join, Target};
use crate::schema_cache::{ForeignKey, Relation, SchemaCache};

/// A relationship between a relation and one embedded in it: a foreign key, or a junction
/// table with a foreign key to each.
pub(super) struct Relationship<'a> {
    pub child: &'a Relation,
    pub join: Join,
    pub many: bool,
}

/// One way `parent` may embed a relation; `label` names it in an ambiguity error.
struct Candidate<'a> {
    relationship: Relationship<'a>,
    label: String,
}

fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

/// The one relationship between `parent` and the relation called `name`: many-to-one
/// when the parent holds the foreign key; one-to-many when the other does (one-to-one
/// when its columns are the other's primary key or a unique key); many-to-many through
/// a junction table. `hint` (a foreign key's name or one of its columns; for
/// many-to-many, the junction's name) picks among several.
pub(super) fn relationship<'a>(
    cache: &'a SchemaCache,
    parent: &Relation,
    name: &str,
    hint: Option<&str>,
) -> Result<Relationship<'a>, ApiError> {
    // A computed relationship of that name wins over foreign keys, as in PostgREST.
    if let Some(computed) = parent.computed_relationships.iter().find(|r| r.name == name && hint.is_none()) {
        let child = cache.relation(&computed.ref_schema, &computed.ref_table).ok_or_else(|| {
            ApiError::UnknownRelation { schema: computed.ref_schema.clone(), name: computed.ref_table.clone() }
        })?;
        let function = Target { schema: computed.schema.clone(), name: computed.name.clone() };
        let join = Join::Computed { function, row_type: target(parent) };
        return Ok(Relationship { child, join, many: computed.many });
    }
    let fits = |fk: &ForeignKey| hint.is_none_or(|h| fk.name == h || fk.columns.iter().any(|c| c == h));
    let mut found = vec![];
    for fk in parent.foreign_keys.iter().filter(|fk| fk.ref_table == name && fits(fk)) {
        if let Some(child) = cache.relation(&fk.ref_schema, &fk.ref_table) {
            let join = fk.ref_columns.iter().cloned().zip(fk.columns.iter().cloned()).collect();
            let relationship = Relationship { child, join: Join::Direct(join), many: false };
            found.push(Candidate { relationship, label: fk.name.clone() });
        }
    }
    for child in cache.relations_named(name) {
        for fk in child
            .foreign_keys
            .iter()
            .filter(|fk| fk.ref_schema == parent.schema && fk.ref_table == parent.name && fits(fk))
        {
            let join = fk.columns.iter().cloned().zip(fk.ref_columns.iter().cloned()).collect();
            let one = same_columns(&fk.columns, &child.primary_key)
                || child.unique_keys.iter().any(|key| same_columns(&fk.columns, key));
            let relationship = Relationship { child, join: Join::Direct(join), many: !one };
            found.push(Candidate { relationship, label: fk.name.clone() });
        }
    }
    found.extend(junctions(cache, parent, name, hint));
    match found.len() {
        1 => Ok(found.remove(0).relationship),
        0 => Err(ApiError::NoRelationship { parent: parent.name.clone(), name: name.to_string() }),
        _ => Err(ApiError::AmbiguousRelationship {
            parent: parent.name.clone(),
            name: name.to_string(),
            candidates: found.into_iter().map(|c| c.label).collect(),
        }),
    }
}

/// Many-to-many relationships, by PostgREST's rule: a table with a foreign key to the
/// parent and another to the relation called `name`, the columns of both within its
/// primary key. In tenant tables both keys hold `tenant_id` (`(tenant_id, film_id)`,
/// `(tenant_id, actor_id)` in a key `(tenant_id, film_id, actor_id)`); every column pair
/// of each joins.
fn junctions<'a>(cache: &'a SchemaCache, parent: &Relation, name: &str, hint: Option<&str>) -> Vec<Candidate<'a>> {
    let mut found = vec![];
    for junction in cache.relations().filter(|j| hint.is_none_or(|h| j.name == h)) {
        let in_key = |fk: &ForeignKey| fk.columns.iter().all(|c| junction.primary_key.contains(c));
        let to_parent = junction
            .foreign_keys
            .iter()
            .filter(|fk| fk.ref_schema == parent.schema && fk.ref_table == parent.name && in_key(fk));
        for to_parent in to_parent {
            for to_child in junction
                .foreign_keys
                .iter()
                .filter(|fk| fk.name != to_parent.name && fk.ref_table == name && in_key(fk))
            {
                let Some(child) = cache.relation(&to_child.ref_schema, &to_child.ref_table) else { continue };
                let pairs = |fk: &ForeignKey| fk.columns.iter().cloned().zip(fk.ref_columns.iter().cloned()).collect();
                let join = Join::Junction { table: target(junction), parent: pairs(to_parent), child: pairs(to_child) };
                found.push(Candidate {
                    relationship: Relationship { child, join, many: true },
                    label: format!("{} ({}, {})", junction.name, to_parent.name, to_child.name),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::read;
    use crate::plan_types::{Embed, Projection, ReadPlan, Target};
    use crate::prefer::Preferences;
    use crate::query_grammar as g;
    use serde_json::{json, Value};

    /// Tenant tables: films and actors keyed `(tenant_id, id)`, the junction `films_actors`
    /// keyed `(tenant_id, film_id, actor_id)`, `screenings` with keys to both outside its key,
    /// `directors` (many-to-one from films) and `technical_specs` (one-to-one).
    fn cache() -> SchemaCache {
        let column = |name: &str| {
            let mut c = json!({"type_name": "int", "nullable": false, "has_default": false, "generated": false});
            c["name"] = json!(name);
            c
        };
        let fk = |name: &str, columns: &[&str], table: &str| {
            let to = ["tenant_id", "id"];
            json!({"name": name, "columns": columns, "ref_schema": "cinema", "ref_table": table, "ref_columns": to})
        };
        let relation = |name: &str, columns: &[&str], key: &[&str], fks: Vec<Value>| {
            let columns: Vec<Value> = columns.iter().map(|c| column(c)).collect();
            json!({"schema": "cinema", "name": name, "is_view": false, "columns": columns, "primary_key": key,
                   "foreign_keys": fks})
        };
        let doc = json!({"functions": [], "relations": [
            relation("films", &["tenant_id", "id", "title", "director_id"], &["tenant_id", "id"],
                     vec![fk("films_director_fkey", &["tenant_id", "director_id"], "directors")]),
            relation("directors", &["tenant_id", "id", "name"], &["tenant_id", "id"], vec![]),
            relation("actors", &["tenant_id", "id", "name"], &["tenant_id", "id"], vec![]),
            relation("films_actors", &["tenant_id", "film_id", "actor_id"], &["tenant_id", "film_id", "actor_id"], vec![
                fk("films_actors_film_fkey", &["tenant_id", "film_id"], "films"),
                fk("films_actors_actor_fkey", &["tenant_id", "actor_id"], "actors"),
            ]),
            relation("screenings", &["tenant_id", "id", "film_id", "actor_id"], &["tenant_id", "id"], vec![
                fk("screenings_film_fkey", &["tenant_id", "film_id"], "films"),
                fk("screenings_actor_fkey", &["tenant_id", "actor_id"], "actors"),
            ]),
            relation("technical_specs", &["tenant_id", "film_id"], &["tenant_id", "film_id"],
                     vec![fk("specs_film_fkey", &["tenant_id", "film_id"], "films")]),
        ]});
        SchemaCache::from_json(&doc.to_string()).unwrap()
    }

    fn plan(query: &str) -> Result<ReadPlan, ApiError> {
        let cache = cache();
        let films = cache.relation("cinema", "films").unwrap();
        read(&cache, films, &g::parse_query(query).unwrap(), &Preferences::default(), None, None)
    }

    fn first_embed(plan: &ReadPlan) -> &Embed {
        match &plan.level.select[1] {
            Projection::Embed(e) | Projection::Spread(e) => e,
            other => panic!("not an embed: {other:?}"),
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_junction_with_composite_tenant_keys_joins_on_every_column() {
        let plan = plan("select=title,actors(name)").unwrap();
        let embed = first_embed(&plan);
        assert!(embed.many);
        assert_eq!(
            embed.join,
            Join::Junction {
                table: Target { schema: "cinema".into(), name: "films_actors".into() },
                parent: pairs(&[("tenant_id", "tenant_id"), ("film_id", "id")]),
                child: pairs(&[("tenant_id", "tenant_id"), ("actor_id", "id")]),
            },
            "screenings is no junction: its foreign keys are not in its key"
        );
        let sql = crate::sql_builder::read(&plan, crate::sql_builder::Media::Json).sql;
        assert!(
            sql.contains(
                "EXISTS (SELECT 1 FROM \"cinema\".\"films_actors\" AS \"_pgrst_j1\" WHERE \
                 \"_pgrst_j1\".\"tenant_id\" = \"_pgrst_1\".\"tenant_id\" \
                 AND \"_pgrst_j1\".\"actor_id\" = \"_pgrst_1\".\"id\" \
                 AND \"_pgrst_j1\".\"tenant_id\" = \"_pgrst_0\".\"tenant_id\" \
                 AND \"_pgrst_j1\".\"film_id\" = \"_pgrst_0\".\"id\")"
            ),
            "{sql}"
        );
    }

    #[test]
    fn the_junction_name_is_the_hint_and_a_foreign_key_name_is_not() {
        assert!(plan("select=title,actors!films_actors(name)").is_ok());
        for hint in ["screenings", "films_actors_actor_fkey"] {
            let query = format!("select=title,actors!{hint}(name)");
            assert!(matches!(plan(&query), Err(ApiError::NoRelationship { .. })), "{query}");
        }
    }

    #[test]
    fn spread_is_for_to_one_relationships() {
        let spread = plan("select=title,...directors(director:name)").unwrap();
        assert!(matches!(&spread.level.select[1], Projection::Spread(e) if !e.many));
        let sql = crate::sql_builder::read(&spread, crate::sql_builder::Media::Json).sql;
        let lateral = "LEFT JOIN LATERAL (SELECT \"_pgrst_1\".\"name\" AS \"director\" \
                       FROM \"cinema\".\"directors\" AS \"_pgrst_1\" \
                       WHERE \"_pgrst_1\".\"tenant_id\" = \"_pgrst_0\".\"tenant_id\" \
                       AND \"_pgrst_1\".\"id\" = \"_pgrst_0\".\"director_id\" AND true) AS \"_pgrst_s0_1\" ON true";
        assert!(sql.contains(lateral), "{sql}");
        assert!(
            sql.starts_with("SELECT")
                && sql.contains("SELECT \"_pgrst_0\".\"title\" AS \"title\", \"_pgrst_s0_1\".* FROM"),
            "{sql}"
        );

        let one_to_one = plan("select=title,...technical_specs(film_id)").unwrap();
        assert!(!first_embed(&one_to_one).many, "a foreign key on the child's primary key is one-to-one");

        for query in ["select=title,...actors(name)", "select=title,...screenings(id)"] {
            assert!(
                matches!(plan(query), Err(ApiError::SpreadNotToOne { ref parent, .. }) if parent == "films"),
                "{query}"
            );
        }
    }
}
