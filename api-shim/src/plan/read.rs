//! A read: the target's level and each embedded resource's, with the filters, order and limits
//! whose path names that level.
use super::relationship::{relationship, Relationship};
use super::{cast, expr, filter_condition, logic, target};
use crate::error::ApiError;
use crate::plan_types::*;
use crate::prefer::{Count, Preferences};
use crate::query_grammar as g;
use crate::schema_cache::{Relation, SchemaCache};
use std::cell::RefCell;

/// Plans the levels of one request: the target and each embedded resource, with the filters,
/// order and limits whose path names that level.
pub(super) struct Planner<'a> {
    cache: &'a SchemaCache,
    params: &'a g::QueryParams,
    /// The embed paths planned so far: a filter, order or limit on any other path is an error.
    paths: RefCell<Vec<Vec<String>>>,
    /// `PGRST_DB_MAX_ROWS`: the most rows of any level, embedded ones too (as PostgREST).
    max_rows: Option<u64>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(cache: &'a SchemaCache, params: &'a g::QueryParams, max_rows: Option<u64>) -> Self {
        Planner { cache, params, paths: RefCell::new(vec![vec![]]), max_rows }
    }

    pub(super) fn level(
        &self,
        relation: &Relation,
        select: Option<&[g::SelectItem]>,
        path: &[String],
    ) -> Result<Level, ApiError> {
        let (mut filter, mut related) = (vec![], vec![]);
        let mut select = self.projections(relation, select, path, &mut filter, &mut related)?;
        if relation.columns.iter().any(|c| c.to_json.is_some()) {
            select = spelled_out(relation, select)?;
        }
        for f in self.params.filters.iter().filter(|f| f.path == path) {
            let condition = match embedded_null_check(relation, &related, &f.filter) {
                Some(exists) => exists,
                None => filter_condition(relation, &f.filter)?,
            };
            filter.push(condition);
        }
        for t in self.params.logic.iter().filter(|t| t.path == path) {
            filter.push(logic(relation, &t.tree, &related)?);
        }
        let mut order = vec![];
        for (_, terms) in self.params.order.iter().filter(|(p, _)| p == path) {
            for t in terms {
                order.push(self.ordering(relation, &related, t)?);
            }
        }
        let range = self.params.limits.iter().find(|(p, _)| p == path).map(|(_, r)| *r).unwrap_or_default();
        let mut limit = range.limit;
        if let Some(max) = self.max_rows {
            limit = Some(limit.map_or(max, |l| l.min(max)));
        }
        Ok(Level { select, filter: Condition::And(filter), order, offset: range.offset.unwrap_or(0), limit })
    }

    /// One `order` term: a column of the level, or `rel(col)` of an embedded to-one resource.
    fn ordering(&self, relation: &Relation, related: &[Embed], t: &g::OrderTerm) -> Result<Ordering, ApiError> {
        let (expr, embedded) = match &t.embedded {
            None => (expr(relation, &t.field)?, None),
            Some(name) => {
                let embed =
                    related.iter().find(|e| &e.name == name).ok_or_else(|| ApiError::NotEmbedded(name.clone()))?;
                if embed.many {
                    return Err(ApiError::RelatedOrderNotToOne { parent: relation.name.clone(), name: name.clone() });
                }
                (expr(self.target(embed)?, &t.field)?, Some(Box::new(embed.clone())))
            }
        };
        Ok(Ordering {
            expr,
            embedded,
            descending: t.direction == Some(g::Direction::Desc),
            nulls_first: t.nulls.map(|n| n == g::Nulls::First),
        })
    }

    /// The relation an embed reads.
    fn target(&self, embed: &Embed) -> Result<&'a Relation, ApiError> {
        let target = &embed.target;
        self.cache.relation(&target.schema, &target.name).ok_or_else(|| ApiError::UnknownRelation {
            schema: target.schema.clone(),
            name: target.name.clone(),
            perhaps: None,
        })
    }

    /// The select list; `!inner` embeds also add their existence to `filter`.
    fn projections(
        &self,
        relation: &Relation,
        select: Option<&[g::SelectItem]>,
        path: &[String],
        filter: &mut Vec<Condition>,
        related: &mut Vec<Embed>,
    ) -> Result<Vec<Projection>, ApiError> {
        let Some(items) = select else { return Ok(vec![Projection::All]) };
        // Relationships first: PostgREST finds them before PostgreSQL sees any column, so an
        // unknown embed is PGRST200 even beside an unknown column.
        let mut embedded = vec![];
        for item in items {
            if let g::SelectItem::Embed { alias, relation: name, hint, join, select, spread } = item {
                let mut embed = self.embed(relation, name, hint.as_deref(), alias.as_deref(), select, path)?;
                if *spread {
                    let child = self.target(&embed)?;
                    embed.query.select = spelled_out(child, std::mem::take(&mut embed.query.select))?;
                }
                let inner = *join == Some(g::JoinType::Inner);
                if inner {
                    filter.push(exists(&embed));
                }
                related.push(embed.clone());
                // `rel()` embeds nothing (nor `rel(other())`): it is there to filter the parent.
                embedded.push((!embed.query.select.is_empty()).then(|| {
                    let embed = Box::new(Embed { inner, ..embed });
                    if *spread {
                        Projection::Spread(embed)
                    } else {
                        Projection::Embed(embed)
                    }
                }));
            }
        }
        let mut embedded = embedded.into_iter();
        let mut out = vec![];
        for item in items {
            match item {
                g::SelectItem::Star => out.push(Projection::All),
                g::SelectItem::Field { alias, field, cast: c } => {
                    let e = expr(relation, field)?;
                    let alias = alias.clone().unwrap_or_else(|| e.default_name());
                    out.push(Projection::Field { expr: e, alias, cast: c.as_deref().map(cast).transpose()? });
                }
                g::SelectItem::Aggregate { alias, function, field, input_cast, cast: result_cast } => {
                    out.push(Projection::Aggregate {
                        function: *function,
                        expr: field.as_ref().map(|f| expr(relation, f)).transpose()?,
                        input_cast: input_cast.as_deref().map(cast).transpose()?,
                        cast: result_cast.as_deref().map(cast).transpose()?,
                        alias: alias.clone().unwrap_or_else(|| function.name().to_string()),
                    });
                }
                g::SelectItem::Embed { .. } => out.extend(embedded.next().flatten()),
            }
        }
        Ok(out)
    }

    fn embed(
        &self,
        parent: &Relation,
        name: &str,
        hint: Option<&str>,
        alias: Option<&str>,
        select: &[g::SelectItem],
        path: &[String],
    ) -> Result<Embed, ApiError> {
        let Relationship { child, join, many } = relationship(self.cache, parent, name, hint)?;
        let key = alias.unwrap_or(name).to_string();
        let mut child_path = path.to_vec();
        child_path.push(key.clone());
        self.paths.borrow_mut().push(child_path.clone());
        let query = self.level(child, Some(select), &child_path)?;
        Ok(Embed { name: key, target: target(child), join, many, inner: false, query })
    }

    /// Every filter, order and limit must belong to the target or an embedded resource.
    pub(super) fn check_paths(&self) -> Result<(), ApiError> {
        let known = self.paths.borrow();
        let used = self
            .params
            .filters
            .iter()
            .map(|f| &f.path)
            .chain(self.params.logic.iter().map(|t| &t.path))
            .chain(self.params.order.iter().map(|(p, _)| p))
            .chain(self.params.limits.iter().map(|(p, _)| p));
        match used.into_iter().find(|path| !known.contains(path)) {
            // PostgREST names the first step that is not embedded.
            Some(path) => {
                let embedded = (0..path.len()).rev().find(|&n| known.contains(&path[..n].to_vec())).unwrap_or(0);
                Err(ApiError::NotEmbedded(path[embedded].clone()))
            }
            None => Ok(()),
        }
    }
}

/// A select list with `*` as the relation's columns, where each key must be named: a spread's
/// keys are lifted into the parent (a to-many spread's SQL names each one), and a column whose
/// domain has a data representation is written through its function.
fn spelled_out(relation: &Relation, select: Vec<Projection>) -> Result<Vec<Projection>, ApiError> {
    let mut out = vec![];
    for item in select {
        if item != Projection::All {
            out.push(item);
            continue;
        }
        for column in &relation.columns {
            let field = g::Field { name: column.name.clone(), json_path: vec![] };
            out.push(Projection::Field { expr: expr(relation, &field)?, alias: column.name.clone(), cast: None });
        }
    }
    Ok(out)
}

/// That the parent has a related row passing the embed's filters (`!inner`, `rel=not.is.null`):
/// existence needs the embedded rows' filter, not their columns or order.
fn exists(embed: &Embed) -> Condition {
    let query = Level { select: vec![], order: vec![], ..embed.query.clone() };
    Condition::EmbedExists(Box::new(Embed { query, ..embed.clone() }))
}

/// `rel=is.null` / `rel=not.is.null` on an embedded resource (not a column): whether the
/// parent has a related row that passes the embed's filters, as PostgREST 12 reads it.
pub(super) fn embedded_null_check(relation: &Relation, related: &[Embed], f: &g::Filter) -> Option<Condition> {
    let null = match (&f.op, &f.value) {
        (g::Operator::Is, g::FilterValue::Is(g::IsValue::Null)) => true,
        (g::Operator::Is, g::FilterValue::Is(g::IsValue::NotNull)) => false,
        _ => return None,
    };
    if relation.column(&f.field.name).is_some() || !f.field.json_path.is_empty() {
        return None;
    }
    let exists = exists(related.iter().find(|e| e.name == f.field.name)?);
    Some(if null != f.negated { Condition::Not(Box::new(exists)) } else { exists })
}

/// Offset and limit of the top level from the `Range` header (items, inclusive), narrowed
/// by `limit`/`offset` and the server's ceiling.
pub(super) fn apply_range(level: &mut Level, range: Option<(u64, Option<u64>)>) {
    if let Some((first, last)) = range {
        level.offset = level.offset.max(first);
        let by_range = last.map(|l| l.saturating_sub(first) + 1);
        level.limit = match (level.limit, by_range) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// `Prefer: count=` as the plan counts it; `estimated` switches to the planner's estimate
/// past the server's row ceiling.
pub(super) fn total(prefs: &Preferences, max_rows: Option<u64>) -> Option<Total> {
    prefs.count.map(|count| match count {
        Count::Exact => Total::Exact,
        Count::Planned => Total::Planned,
        Count::Estimated => Total::Estimated { max_rows },
    })
}

pub fn read(
    cache: &SchemaCache,
    relation: &Relation,
    params: &g::QueryParams,
    prefs: &Preferences,
    range: Option<(u64, Option<u64>)>,
    max_rows: Option<u64>,
) -> Result<ReadPlan, ApiError> {
    params.reject_other()?;
    let planner = Planner::new(cache, params, max_rows);
    let mut level = planner.level(relation, params.select.as_deref(), &[])?;
    apply_range(&mut level, range);
    planner.check_paths()?;
    Ok(ReadPlan { source: Source::Relation(target(relation)), level, count: total(prefs, max_rows) })
}
