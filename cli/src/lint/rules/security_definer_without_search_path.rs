//! A `SECURITY DEFINER` function without its own `search_path`: a caller can put a schema of
//! their own first and have the function run the caller's objects with the owner's rights.
use super::{Context, Rule, Violation};
use crate::lint::finding::{RuleInfo, Severity};
use crate::lint::tree;
use pg_query::protobuf::DefElem;
use pg_query::{Node, NodeEnum};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "security-definer-without-search-path",
        severity: Severity::Error,
        summary: "a SECURITY DEFINER function without a fixed search_path",
        hint: "pin it in the definition: SECURITY DEFINER SET search_path = pg_catalog, <schema>",
    },
    check,
};

fn is_definer(option: &DefElem) -> bool {
    option.defname == "security" && tree::is_on(option)
}

fn sets_search_path(option: &DefElem) -> bool {
    option.defname == "set"
        && matches!(option.arg.as_deref().and_then(|a| a.node.as_ref()),
            Some(NodeEnum::VariableSetStmt(set)) if set.name == "search_path")
}

fn check(context: &Context, out: &mut Vec<Violation>) {
    let (name, options): (Vec<String>, &[Node]) = match context.statement {
        NodeEnum::CreateFunctionStmt(f) => (tree::strings(&f.funcname), &f.options),
        NodeEnum::AlterFunctionStmt(f) => {
            (f.func.as_ref().map(|o| tree::strings(&o.objname)).unwrap_or_default(), &f.actions)
        }
        _ => return,
    };
    let definer = tree::def_elems(options).find(|o| is_definer(o));
    if let Some(definer) = definer.filter(|_| !tree::def_elems(options).any(sets_search_path)) {
        let message = format!("function {} is SECURITY DEFINER without a fixed search_path", name.join("."));
        out.push(Violation::at(definer.location, message));
    }
}
