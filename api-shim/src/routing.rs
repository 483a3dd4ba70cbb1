//! Citus router queries. On Citus a tenant's request reads one shard only when the query names
//! the tenant: the policies compare `tenant_id` on the workers, after the coordinator has
//! planned, so without `tenant_id = <value>` the coordinator sends the query to every shard
//! (measured: 9x slower, README "Scale-out on Citus"). The server knows each request's tenant
//! and adds that condition to the top level of reads, updates and deletes of a table distributed
//! by `tenant_id`, once they are planned; a one-row insert that leaves `tenant_id` to its default
//! writes the value instead (`WritePlan::route`). Row-level security still decides what passes;
//! the condition only routes.
use crate::operators::Operator;
use crate::plan::filter_condition;
use crate::plan_types::Condition;
use crate::query_grammar::{Field, Filter, FilterValue};
use crate::schema_cache::{Relation, SchemaCache};
use uuid::Uuid;

/// `tenant_id = <tenant>`, when `relation` is distributed by `tenant_id` and the request has a
/// tenant; `None` otherwise (one node, or a table Citus does not spread by tenant).
pub fn tenant_condition(cache: &SchemaCache, relation: &Relation, tenant: Option<Uuid>) -> Option<Condition> {
    let tenant = tenant.filter(|_| cache.distributed_by_tenant(relation))?;
    let filter = Filter {
        field: Field { name: "tenant_id".into(), json_path: vec![] },
        negated: false,
        op: Operator::Eq,
        quantifier: None,
        language: None,
        value: FilterValue::Single(tenant.to_string()),
    };
    filter_condition(relation, &filter).ok()
}
