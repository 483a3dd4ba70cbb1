//! A foreign key between tenant tables that does not carry `tenant_id` on both sides: a row
//! could point at another tenant's row (and that row's existence leaks through the key check).
use super::{Context, Rule, Violation};
use crate::lint::catalog::TENANT_ID;
use crate::lint::constraints;
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::protobuf::ConstrType;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "foreign-key-without-tenant-id",
        severity: Severity::Error,
        summary: "a foreign key between tenant tables that does not pair tenant_id with tenant_id",
        hint: "reference with tenant_id on both sides: FOREIGN KEY (tenant_id, x_id) REFERENCES s.x (tenant_id, id)",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let tenant_id_at = |columns: &[String]| columns.iter().position(|c| c == TENANT_ID);
    for fk in constraints::of_statement(context.statement) {
        if fk.constraint.contype() != ConstrType::ConstrForeign {
            continue;
        }
        let Some(target) = fk.constraint.pktable.as_ref().map(QualifiedName::of) else { continue };
        if !context.catalog.is_tenant_table(&fk.table) || !context.catalog.is_tenant_table(&target) {
            continue;
        }
        // Without a column list the key references the target's primary key (when the run knows it).
        let referenced = match tree::strings(&fk.constraint.pk_attrs) {
            named if named.is_empty() => {
                context.catalog.primary_key(&target).map(<[String]>::to_vec).unwrap_or_default()
            }
            named => named,
        };
        let paired = match (tenant_id_at(&fk.columns), tenant_id_at(&referenced)) {
            (Some(from), Some(to)) => from == to,
            (Some(_), None) => referenced.is_empty(),
            (None, _) => false,
        };
        if !paired {
            let message = format!(
                "foreign key ({}) of {} to tenant table {target} ({}) does not pair tenant_id with tenant_id",
                fk.columns.join(", "),
                fk.table,
                referenced.join(", ")
            );
            out.push(Violation::at(fk.constraint.location, message));
        }
    }
}
