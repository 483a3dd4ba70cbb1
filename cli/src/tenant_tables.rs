//! What one tenant owns, as the database describes it: the catalog rows and every protected
//! table (enabled modules or not), in load order, with the columns a COPY moves; and what an
//! archive must match (extension version, applied migrations).
use crate::tenant_archive::Migration;
use crate::tenant_remap::{IdColumn, IdField};
use anyhow::{bail, ensure, Context};
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
/// `erase_tenant` uses (so every referenced row is there before its referrers), then the
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

/// Per column of a table with a foreign key: whether it references a tenant's id
/// (`tenants.id` or any `tenant_id`) or a company's.
const REFERENCES: &str = r#"
SELECT a.attname::text,
       bool_or(r.attname = 'tenant_id' OR (c.confrelid = 'tenancy.tenants'::regclass AND r.attname = 'id')),
       bool_or(c.confrelid = 'tenancy.companies'::regclass AND r.attname = 'id')
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, refcol)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = k.refcol
WHERE c.contype = 'f' AND c.conrelid = $1::text::regclass
GROUP BY a.attname
"#;

/// The columns of `table` that say whose a row is: the tenant's id (`tenant_id`, `tenants.id`,
/// a foreign key to a tenant's id), the slug, a company's id or a foreign key to one. A table
/// with none of them could not be checked, so it is refused.
pub async fn id_fields(db: &impl GenericClient, table: &TenantTable) -> anyhow::Result<Vec<IdField>> {
    let rows = db.query(REFERENCES, &[&table.quoted_name()]).await?;
    let references: Vec<(String, bool, bool)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let kind = |column: &str| {
        let (to_tenant, to_company) =
            references.iter().find(|(c, ..)| c == column).map_or((false, false), |&(_, t, c)| (t, c));
        match (table.schema.as_str(), table.name.as_str(), column) {
            ("tenancy", "tenants", "id") => Some(IdColumn::Tenant),
            ("tenancy", "tenants", "slug") => Some(IdColumn::Slug),
            ("tenancy", "companies", "id") => Some(IdColumn::CompanyKey),
            (_, _, "tenant_id") => Some(IdColumn::Tenant),
            _ if to_tenant => Some(IdColumn::Tenant),
            _ if to_company => Some(IdColumn::Company),
            _ => None,
        }
    };
    let fields: Vec<IdField> = table
        .columns
        .iter()
        .enumerate()
        .filter_map(|(position, name)| kind(name).map(|kind| IdField { position, name: name.clone(), kind }))
        .collect();
    ensure!(
        !fields.is_empty(),
        "refused: {} has no column saying whose its rows are (tenant_id, or a foreign key to a tenant or a company)",
        table.quoted_name()
    );
    Ok(fields)
}

/// A protected table's module when the tenant has never had it (no `tenant_modules` row,
/// enabled or not, and not a core module), with the modules it has: rows there cannot be its.
/// A disabled module keeps its rows (`disable_module` deletes nothing), so those move too.
pub async fn module_not_held(
    db: &impl GenericClient,
    table: &TenantTable,
    tenant: Uuid,
) -> anyhow::Result<Option<(String, String)>> {
    let row = db
        .query_opt(
            "SELECT p.module, (SELECT coalesce(string_agg(tm.module, ', ' ORDER BY tm.module), 'none')
                               FROM tenancy.tenant_modules tm WHERE tm.tenant_id = $2)
             FROM tenancy.protected_tables p JOIN tenancy.modules m ON m.key = p.module
             WHERE p.tbl = $1::text::regclass AND NOT m.is_core
               AND NOT EXISTS (SELECT FROM tenancy.tenant_modules tm WHERE tm.tenant_id = $2 AND tm.module = p.module)",
            &[&table.quoted_name(), &tenant],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
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
