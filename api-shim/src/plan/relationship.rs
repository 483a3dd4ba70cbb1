//! How one relation embeds another, by PostgREST's rules: every relationship the parent has (a
//! foreign key either way, a junction table, a computed relationship), then the ones the
//! request's name and hint pick (`findRel` in PostgREST's `Plan.hs`).
use super::target;
use crate::error::{ApiError, RelationshipChoice};
use crate::fuzzy::FuzzySet;
use crate::plan_types::{Join, Target};
use crate::schema_cache::{ForeignKey, Relation, SchemaCache};

/// A relationship between a relation and one embedded in it: a foreign key, or a junction
/// table with a foreign key to each.
pub(super) struct Relationship<'a> {
    pub child: &'a Relation,
    pub join: Join,
    pub many: bool,
}

/// PostgREST's cardinalities, in the order it sorts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cardinality {
    OneToMany,
    ManyToOne,
    /// `parent`: the embedded relation holds the foreign key.
    OneToOne {
        parent: bool,
    },
    ManyToMany,
}

/// The junction of a many-to-many relationship: its foreign key to the embedded relation and
/// that key's (embedded column, junction column) pairs.
struct JunctionSide<'a> {
    table: &'a Relation,
    constraint: &'a str,
    columns: Vec<(String, String)>,
}

/// One relationship `parent` has with `child`: through one foreign key (`constraint`, its
/// (parent column, child column) pairs), or a junction (its key to the parent and the
/// (parent column, junction column) pairs, then `junction`).
struct Candidate<'a> {
    child: &'a Relation,
    is_self: bool,
    cardinality: Cardinality,
    constraint: &'a str,
    columns: Vec<(String, String)>,
    junction: Option<JunctionSide<'a>>,
}

impl Candidate<'_> {
    /// `relColumns=[(col, _)]` in PostgREST: a one-column key whose parent side is `name`.
    fn single_parent_column(&self, name: &str) -> bool {
        self.junction.is_none() && matches!(self.columns.as_slice(), [(p, _)] if p == name)
    }

    /// A one-column key whose embedded side is `name`.
    fn single_child_column(&self, name: &str) -> bool {
        self.junction.is_none() && matches!(self.columns.as_slice(), [(_, c)] if c == name)
    }

    fn named(&self, constraint: &str) -> bool {
        self.junction.is_none() && self.constraint == constraint
    }

    fn through(&self, junction: &str) -> bool {
        self.junction.as_ref().is_some_and(|j| j.table.name == junction)
    }

    /// PostgREST's order of relationships, which is the order of an ambiguity's details.
    fn sort_key(&self) -> impl Ord + '_ {
        let junction = self.junction.as_ref().map(|j| (&j.table.schema, &j.table.name, self.constraint, j.constraint));
        let columns = (&self.columns, self.junction.as_ref().map(|j| &j.columns));
        (
            &self.child.schema,
            &self.child.name,
            self.is_self,
            self.cardinality,
            junction,
            self.constraint,
            columns,
            self.child.is_view,
        )
    }

    fn join(&self) -> Join {
        match &self.junction {
            None => Join::Direct(self.columns.iter().map(|(p, c)| (c.clone(), p.clone())).collect()),
            Some(j) => Join::Junction {
                table: target(j.table),
                parent: self.columns.iter().map(|(p, jc)| (jc.clone(), p.clone())).collect(),
                child: j.columns.iter().map(|(c, jc)| (jc.clone(), c.clone())).collect(),
            },
        }
    }

    /// How PostgREST describes it in a `PGRST201` answer.
    fn choice(&self, parent: &Relation) -> RelationshipChoice {
        let list = |cols: &mut dyn Iterator<Item = &String>| cols.map(String::as_str).collect::<Vec<_>>().join(", ");
        let (cardinality, relationship, hint) = match &self.junction {
            Some(j) => (
                "many-to-many",
                format!(
                    "{} using {}({}) and {}({})",
                    j.table.name,
                    self.constraint,
                    list(&mut self.columns.iter().map(|(_, jc)| jc)),
                    j.constraint,
                    list(&mut j.columns.iter().map(|(_, jc)| jc)),
                ),
                j.table.name.clone(),
            ),
            None => (
                match self.cardinality {
                    Cardinality::OneToMany => "one-to-many",
                    Cardinality::ManyToOne => "many-to-one",
                    _ => "one-to-one",
                },
                format!(
                    "{} using {}({}) and {}({})",
                    self.constraint,
                    parent.name,
                    list(&mut self.columns.iter().map(|(p, _)| p)),
                    self.child.name,
                    list(&mut self.columns.iter().map(|(_, c)| c)),
                ),
                self.constraint.to_string(),
            ),
        };
        RelationshipChoice {
            cardinality,
            relationship,
            embedding: format!("{} with {}", parent.name, self.child.name),
            hint: format!("{}!{hint}", self.child.name),
        }
    }
}

fn same_relation(a: &Relation, b: &Relation) -> bool {
    a.schema == b.schema && a.name == b.name
}

fn pairs(a: &[String], b: &[String]) -> Vec<(String, String)> {
    a.iter().cloned().zip(b.iter().cloned()).collect()
}

/// The relation a foreign key points at, when it is exposed.
fn referenced<'a>(cache: &'a SchemaCache, fk: &ForeignKey) -> Option<&'a Relation> {
    cache.relation(&fk.ref_schema, &fk.ref_table)
}

/// Every relationship through foreign keys that `parent` has, as PostgREST lists them: its own
/// keys (many-to-one, or one-to-one when the key is unique), the keys pointing at it
/// (one-to-many, or one-to-one) and junctions (many-to-many).
fn candidates<'a>(cache: &'a SchemaCache, parent: &'a Relation) -> Vec<Candidate<'a>> {
    let mut found = vec![];
    for fk in &parent.foreign_keys {
        let Some(child) = referenced(cache, fk) else { continue };
        let cardinality = if fk.one_to_one { Cardinality::OneToOne { parent: false } } else { Cardinality::ManyToOne };
        let columns = pairs(&fk.columns, &fk.ref_columns);
        let is_self = same_relation(parent, child);
        found.push(Candidate { child, is_self, cardinality, constraint: &fk.name, columns, junction: None });
    }
    for child in cache.relations() {
        for fk in child.foreign_keys.iter().filter(|fk| fk.ref_schema == parent.schema && fk.ref_table == parent.name) {
            let cardinality =
                if fk.one_to_one { Cardinality::OneToOne { parent: true } } else { Cardinality::OneToMany };
            let columns = pairs(&fk.ref_columns, &fk.columns);
            let is_self = same_relation(parent, child);
            found.push(Candidate { child, is_self, cardinality, constraint: &fk.name, columns, junction: None });
        }
    }
    found.extend(junctions(cache, parent));
    found
}

/// Many-to-many relationships, by PostgREST's rule: a relation with a foreign key to the
/// parent and another to the embedded relation, the columns of both within its primary key.
/// In tenant tables both keys hold `tenant_id` (`(tenant_id, film_id)`, `(tenant_id,
/// actor_id)` in a key `(tenant_id, film_id, actor_id)`); every column pair of each joins.
fn junctions<'a>(cache: &'a SchemaCache, parent: &Relation) -> Vec<Candidate<'a>> {
    let mut found = vec![];
    for junction in cache.relations() {
        let in_key = |fk: &ForeignKey| fk.columns.iter().all(|c| junction.primary_key.contains(c));
        let to_parent = junction
            .foreign_keys
            .iter()
            .filter(|fk| fk.ref_schema == parent.schema && fk.ref_table == parent.name && in_key(fk));
        for to_parent in to_parent {
            for to_child in junction.foreign_keys.iter().filter(|fk| fk.name != to_parent.name && in_key(fk)) {
                let Some(child) = referenced(cache, to_child) else { continue };
                found.push(Candidate {
                    child,
                    is_self: same_relation(parent, child),
                    cardinality: Cardinality::ManyToMany,
                    constraint: &to_parent.name,
                    columns: pairs(&to_parent.ref_columns, &to_parent.columns),
                    junction: Some(JunctionSide {
                        table: junction,
                        constraint: &to_child.name,
                        columns: pairs(&to_child.ref_columns, &to_child.columns),
                    }),
                });
            }
        }
    }
    found
}

/// Whether `select=name!hint(...)` from `parent` means this relationship, by PostgREST's
/// rules: `name` is the embedded relation, or (not for views) a foreign key's name or its one
/// column; a hint is a foreign key's name, its one column on either side, or the junction. In a
/// self-relationship the relation's name is the one-to-many side and the column the many-to-one.
fn picks(candidate: &Candidate, name: &str, hint: Option<&str>) -> bool {
    let named_child = candidate.child.name == name;
    let one_to_many = candidate.cardinality == Cardinality::OneToMany;
    match (candidate.is_self, hint) {
        (true, None) => {
            (named_child && one_to_many)
                || (candidate.cardinality == Cardinality::ManyToOne && candidate.single_parent_column(name))
        }
        (true, Some(hint)) => named_child && one_to_many && candidate.single_child_column(hint),
        (false, None) => {
            named_child || (!candidate.child.is_view && (candidate.named(name) || candidate.single_parent_column(name)))
        }
        (false, Some(hint)) => {
            named_child
                && (candidate.named(hint)
                    || candidate.single_parent_column(hint)
                    || candidate.single_child_column(hint)
                    || candidate.through(hint))
        }
    }
}

/// What PostgREST suggests when nothing is found: a relation `parent` has relationships with
/// that is close to `name` (not `name` itself: then the hint was wrong); or, when `parent` has
/// none, a relation with relationships close to the parent's name.
fn relation_meant(
    cache: &SchemaCache,
    parent: &Relation,
    all: &[Candidate],
    name: &str,
) -> Option<Box<(String, String)>> {
    let related =
        all.iter().map(|c| c.child.name.as_str()).chain(parent.computed_relationships.iter().map(|r| r.name.as_str()));
    let related: Vec<&str> = related.collect();
    if related.is_empty() {
        let with_relationships = cache.relations().filter(|r| !r.foreign_keys.is_empty()).map(|r| r.name.as_str());
        let meant = FuzzySet::new(with_relationships).best(&parent.name, 0.33)?;
        return Some(Box::new((meant.to_string(), parent.name.clone())));
    }
    let close = FuzzySet::new(related).matches(name, 0.33);
    let meant = close.into_iter().find(|(score, _)| *score < 1.0)?.1;
    Some(Box::new((meant.to_string(), name.to_string())))
}

/// The one relationship `select=name!hint(...)` names from `parent`: a computed relationship of
/// that name first (it hides the foreign keys to a relation named like it, as in PostgREST),
/// else the one relationship through keys that `name` and `hint` pick. None is 400
/// `PGRST200`, several 300 `PGRST201`.
pub(super) fn relationship<'a>(
    cache: &'a SchemaCache,
    parent: &'a Relation,
    name: &str,
    hint: Option<&str>,
) -> Result<Relationship<'a>, ApiError> {
    if let Some(computed) = parent.computed_relationships.iter().find(|r| r.name == name) {
        let child =
            cache.relation(&computed.ref_schema, &computed.ref_table).ok_or_else(|| ApiError::UnknownRelation {
                schema: computed.ref_schema.clone(),
                name: computed.ref_table.clone(),
                perhaps: None,
            })?;
        let function = Target { schema: computed.schema.clone(), name: computed.name.clone() };
        let join = Join::Computed { function, row_type: target(parent) };
        return Ok(Relationship { child, join, many: computed.many });
    }
    let all = candidates(cache, parent);
    let perhaps = || relation_meant(cache, parent, &all, name);
    let mut found: Vec<&Candidate> = all.iter().filter(|c| picks(c, name, hint)).collect();
    found.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    match found.as_slice() {
        [one] => Ok(Relationship {
            child: one.child,
            join: one.join(),
            many: matches!(one.cardinality, Cardinality::OneToMany | Cardinality::ManyToMany),
        }),
        [] => Err(ApiError::NoRelationship {
            parent: parent.name.clone(),
            name: name.to_string(),
            hint: hint.map(str::to_string),
            schema: parent.schema.clone(),
            perhaps: perhaps(),
        }),
        many => Err(ApiError::AmbiguousRelationship {
            parent: parent.name.clone(),
            name: name.to_string(),
            choices: many.iter().map(|c| c.choice(parent)).collect(),
        }),
    }
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
            json!({"name": name, "columns": columns, "ref_schema": "cinema", "ref_table": table, "ref_columns": to,
                   "one_to_one": name == "specs_film_fkey"})
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
    fn a_spread_lifts_a_to_one_row_or_a_to_many_relationship_as_arrays() {
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

        // To-many (PostgREST 13): each key an array of the related rows' values, `*` spelled out.
        let to_many = plan("select=title,...actors(*)").unwrap();
        assert!(first_embed(&to_many).many);
        let sql = crate::sql_builder::read(&to_many, crate::sql_builder::Media::Json).sql;
        assert!(
            sql.contains(
                "LEFT JOIN LATERAL (SELECT coalesce(json_agg(_pgrst_e.\"tenant_id\"), '[]') AS \"tenant_id\", \
                 coalesce(json_agg(_pgrst_e.\"id\"), '[]') AS \"id\", \
                 coalesce(json_agg(_pgrst_e.\"name\"), '[]') AS \"name\" FROM (SELECT \"_pgrst_1\".\"tenant_id\" AS"
            ),
            "{sql}"
        );
    }

    /// Tables without tenant keys, as PostgREST's fixtures have them: a family tree (a foreign
    /// key `pptr` to itself), clients and projects, agents and departments (a key each way).
    fn plain_cache() -> SchemaCache {
        let fk = |name: &str, column: &str, table: &str| json!({"name": name, "columns": [column], "ref_schema": "s", "ref_table": table, "ref_columns": ["id"]});
        let relation = |name: &str, columns: &[&str], fks: Vec<Value>| {
            let columns: Vec<Value> = columns
                .iter()
                .map(|c| json!({"name": c, "type_name": "int", "nullable": true, "has_default": false, "generated": false}))
                .collect();
            json!({"schema": "s", "name": name, "is_view": false, "columns": columns, "primary_key": ["id"],
                   "foreign_keys": fks})
        };
        let doc = json!({"functions": [], "relations": [
            relation("family_tree", &["id", "parent"], vec![fk("pptr", "parent", "family_tree")]),
            relation("clients", &["id"], vec![]),
            relation("projects", &["id", "client_id"], vec![fk("client", "client_id", "clients")]),
            relation("agents", &["id", "department_id"], vec![fk("agents_department_id_fkey", "department_id", "departments")]),
            relation("departments", &["id", "head_id"], vec![fk("departments_head_id_fkey", "head_id", "agents")]),
        ]});
        SchemaCache::from_json(&doc.to_string()).unwrap()
    }

    fn embed_in(table: &str, name: &str, hint: Option<&str>) -> Result<(String, bool), ApiError> {
        let cache = plain_cache();
        let parent = cache.relation("s", table).unwrap();
        relationship(&cache, parent, name, hint).map(|r| (r.child.name.clone(), r.many))
    }

    #[test]
    fn a_self_relationship_is_one_to_many_by_the_table_and_many_to_one_by_the_column() {
        assert_eq!(embed_in("family_tree", "family_tree", None).unwrap(), ("family_tree".into(), true));
        assert_eq!(embed_in("family_tree", "parent", None).unwrap(), ("family_tree".into(), false));
        assert_eq!(embed_in("family_tree", "family_tree", Some("parent")).unwrap(), ("family_tree".into(), true));
        assert!(matches!(embed_in("family_tree", "pptr", None), Err(ApiError::NoRelationship { .. })));
    }

    #[test]
    fn a_foreign_key_or_its_one_column_names_the_relationship() {
        for (name, hint) in
            [("client", None), ("client_id", None), ("clients", Some("client")), ("clients", Some("id"))]
        {
            assert_eq!(embed_in("projects", name, hint).unwrap(), ("clients".into(), false), "{name} {hint:?}");
        }
        assert_eq!(embed_in("clients", "client", None).unwrap(), ("projects".into(), true));
        let Err(ApiError::NoRelationship { hint, schema, .. }) = embed_in("projects", "clients", Some("nope")) else {
            panic!("an unknown hint finds nothing")
        };
        assert_eq!((hint.as_deref(), schema.as_str()), (Some("nope"), "s"));
    }

    #[test]
    fn an_ambiguity_lists_the_relationships_in_postgrest_order() {
        let Err(ApiError::AmbiguousRelationship { choices, .. }) = embed_in("agents", "departments", None) else {
            panic!("a key each way is ambiguous")
        };
        let described: Vec<(&str, &str, &str)> =
            choices.iter().map(|c| (c.cardinality, c.relationship.as_str(), c.hint.as_str())).collect();
        assert_eq!(
            described,
            [
                (
                    "one-to-many",
                    "departments_head_id_fkey using agents(id) and departments(head_id)",
                    "departments!departments_head_id_fkey"
                ),
                (
                    "many-to-one",
                    "agents_department_id_fkey using agents(department_id) and departments(id)",
                    "departments!agents_department_id_fkey"
                ),
            ]
        );
        assert_eq!(choices[0].embedding, "agents with departments");
    }
}
