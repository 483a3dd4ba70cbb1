//! A view over tenant tables without `security_invoker`: it reads with its owner's rights, and
//! the owner (who ran the migration) is usually a superuser or the tables' owner, past RLS.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::names::QualifiedName;
use crate::lint::tree;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "view-without-security-invoker",
        severity: Severity::Error,
        summary: "a view reading a tenant table with its owner's rights (no security_invoker)",
        hint: "create it WITH (security_invoker = true) so the policies apply to whoever reads the view",
    },
    check,
};

fn check(context: &Context, out: &mut Vec<Violation>) {
    let NodeEnum::ViewStmt(view) = context.statement else { return };
    let Some(relation) = &view.view else { return };
    let invoker = tree::def_elems(&view.options).any(|o| o.defname == "security_invoker" && tree::is_on(o));
    let Some(query) = view.query.as_ref().and_then(|q| q.node.as_ref()) else { return };
    if invoker {
        return;
    }
    let mut read: Vec<String> = tree::relations(query)
        .into_iter()
        .map(QualifiedName::of)
        .filter(|t| context.catalog.is_tenant_table(t))
        .map(|t| t.to_string())
        .collect();
    read.sort();
    read.dedup();
    if !read.is_empty() {
        let message = format!(
            "view {} reads tenant table(s) {} with its owner's rights",
            QualifiedName::of(relation),
            read.join(", ")
        );
        out.push(Violation::at_relation(relation, message));
    }
}
