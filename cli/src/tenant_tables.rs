//! What one tenant owns, as the database describes it: the catalog rows and every protected
//! table (enabled modules or not), in load order, with the columns a COPY moves; and what an
//! archive must match (extension version, applied migrations).
use crate::tenant_archive::Migration;
use anyhow::{bail, Context};
use tokio_postgres::GenericClient;
use uuid::Uuid;

/// A table holding rows of the tenant, with the columns an archive carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantTable {
    pub schema: String,
    pub name: String,
    pub columns: Vec<String>,
}

/// Parents first: the catalog, then the protected tables in the reverse of the order
/// `delete_tenant` uses (so every referenced row is there before its referrers), then the
/// events. Generated columns are left out (COPY cannot write them; they are recomputed), and
/// so is `events.id`: the target numbers the tenant's history in its own sequence.
const TABLES_IN_LOAD_ORDER: &str = r#"
WITH load_order AS (
    SELECT c.tbl, 0 AS part, c.ord
    FROM unnest('{tenancy.tenants,tenancy.companies,tenancy.tenant_modules,tenancy.company_modules,
                  tenancy.tenant_roles,tenancy.tenant_role_members,tenancy.analytics_opt_outs}'::regclass[])
         WITH ORDINALITY AS c(tbl, ord)
    UNION ALL
    SELECT p.tbl, 1, -p.ord FROM unnest(tenancy._protected_tables_children_first()) WITH ORDINALITY AS p(tbl, ord)
    UNION ALL
    SELECT 'tenancy.events'::regclass, 2, 0
)
SELECT n.nspname::text, c.relname::text, array_agg(a.attname::text ORDER BY a.attnum)
FROM load_order o
JOIN pg_class c ON c.oid = o.tbl
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = o.tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
WHERE NOT (o.tbl = 'tenancy.events'::regclass AND a.attname = 'id')
GROUP BY o.part, o.ord, n.nspname, c.relname
ORDER BY o.part, o.ord
"#;

pub async fn tables_in_load_order(db: &impl GenericClient) -> anyhow::Result<Vec<TenantTable>> {
    let rows = db.query(TABLES_IN_LOAD_ORDER, &[]).await.context("listing the tenant tables")?;
    Ok(rows.iter().map(|r| TenantTable { schema: r.get(0), name: r.get(1), columns: r.get(2) }).collect())
}

impl TenantTable {
    pub fn is(&self, schema: &str, name: &str) -> bool {
        self.schema == schema && self.name == name
    }

    /// The extension's own tables, as opposed to the protected (application) tables.
    pub fn is_catalog(&self) -> bool {
        self.schema == "tenancy"
    }

    pub fn quoted_name(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    pub fn quoted_columns(&self) -> String {
        self.columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
    }

    /// The query selecting the tenant's rows. COPY takes no parameters, so the id is written
    /// into the text: it is a parsed `Uuid`, whose text is hex digits and dashes only.
    pub fn select_rows_of(&self, tenant: Uuid) -> String {
        let owned = if self.is("tenancy", "tenants") {
            format!("id = '{tenant}'")
        } else if self.is("tenancy", "company_modules") {
            format!("company_id IN (SELECT id FROM tenancy.companies WHERE tenant_id = '{tenant}')")
        } else {
            format!("tenant_id = '{tenant}'")
        };
        // The history keeps its order, so the target's new event ids follow it.
        let order = if self.is("tenancy", "events") { " ORDER BY id" } else { "" };
        format!("SELECT {} FROM {} WHERE {owned}{order}", self.quoted_columns(), self.quoted_name())
    }
}

/// The one place identifiers are quoted; only names the catalog listed come here.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A tenant named on the command line by slug or id.
pub async fn find_tenant(db: &impl GenericClient, slug_or_id: &str) -> anyhow::Result<(Uuid, String)> {
    let row = match slug_or_id.parse::<Uuid>() {
        Ok(id) => db.query_opt("SELECT id, slug FROM tenancy.tenants WHERE id = $1", &[&id]).await?,
        Err(_) => db.query_opt("SELECT id, slug FROM tenancy.tenants WHERE slug = $1", &[&slug_or_id]).await?,
    };
    match row {
        Some(row) => Ok((row.get(0), row.get(1))),
        None => bail!("no tenant {slug_or_id:?} in this database"),
    }
}

pub async fn extension_version(db: &impl GenericClient) -> anyhow::Result<String> {
    let row = db.query_opt("SELECT extversion FROM pg_extension WHERE extname = 'tenancy'", &[]).await?;
    row.map(|r| r.get(0)).context("the tenancy extension is not installed in this database")
}

/// The migrations refinery has applied, oldest first.
pub async fn applied_migrations(db: &impl GenericClient) -> anyhow::Result<Vec<Migration>> {
    let rows = db
        .query(
            "SELECT version, coalesce(name, ''), coalesce(checksum, '') FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .context("reading refinery_schema_history (has `tenancy migrate` run here?)")?;
    Ok(rows.iter().map(|r| Migration { version: r.get(0), name: r.get(1), checksum: r.get(2) }).collect())
}
