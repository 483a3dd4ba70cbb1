//! Table names as PostgreSQL resolves them in a migration: unqualified means `public`.
use pg_query::protobuf::RangeVar;
use std::fmt;

/// Schemas that are not the application's: the extension's catalog and PostgreSQL's own.
fn is_system_schema(schema: &str) -> bool {
    schema == "tenancy" || schema == "information_schema" || schema.starts_with("pg_")
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    fn new(schema: Option<&str>, name: &str) -> Self {
        let schema = schema.filter(|s| !s.is_empty()).unwrap_or("public");
        QualifiedName { schema: schema.to_string(), name: name.to_string() }
    }

    pub fn of(relation: &RangeVar) -> Self {
        Self::new(Some(&relation.schemaname), &relation.relname)
    }

    /// From a parsed name list (`DROP TABLE a.b`, `DROP POLICY p ON a.b` gives `[a, b]`).
    pub fn from_parts(parts: &[String]) -> Option<Self> {
        match parts {
            [name] => Some(Self::new(None, name)),
            [.., schema, name] => Some(Self::new(Some(schema), name)),
            [] => None,
        }
    }

    /// From the text of a `regclass` argument, as `tenancy.protect('hrms.employees')` receives it:
    /// unquoted parts fold to lower case, quoted ones are kept as written.
    pub fn from_regclass_text(text: &str) -> Option<Self> {
        let mut parts = vec![String::new()];
        let mut chars = text.trim().chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            let part = parts.last_mut()?;
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    part.push('"');
                }
                '"' => quoted = !quoted,
                '.' if !quoted => parts.push(String::new()),
                c if quoted => part.push(c),
                c => part.extend(c.to_lowercase()),
            }
        }
        Self::from_parts(&parts).filter(|n| !n.name.is_empty())
    }

    /// A table tenants' data could live in: outside `tenancy`, `pg_*` and `information_schema`.
    /// `public` counts: every role may use it, so a table there is as reachable as any.
    pub fn is_application(&self) -> bool {
        !is_system_schema(&self.schema)
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::QualifiedName;

    #[test]
    fn regclass_text_folds_unquoted_parts_and_defaults_to_public() {
        let q = |t| QualifiedName::from_regclass_text(t).map(|n| n.to_string());
        assert_eq!(q("HRMS.Employees").as_deref(), Some("hrms.employees"));
        assert_eq!(q(r#""My ""S""".t"#).as_deref(), Some(r#"My "S".t"#));
        assert_eq!(q("things").as_deref(), Some("public.things"));
        assert_eq!(q(""), None);
    }
}
