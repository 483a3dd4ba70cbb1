//! An archive is untrusted input: every row it brings must belong to its tenant. On the way
//! into the database the COPY text is checked and rewritten field by field, chunk by chunk, so
//! no table is ever held in memory or copied twice.
//!
//! The map from the archive's ids to the target's is defined for the archive's tenant, its
//! slug and its companies only (identity when they keep their ids): a value outside it is a
//! row of someone else, refused with its line. Values are compared as `COPY ... TO` writes them
//! (lowercase hyphenated uuids, `\N` for NULL); any other spelling (an escape, uppercase,
//! braces) is refused rather than interpreted, so what is checked is what the server reads.
//!
//! In COPY's text format a row is one line and fields are separated by tabs; tabs, newlines,
//! carriage returns and backslashes inside values are escaped, so splitting on raw bytes is
//! exact. A raw carriage return is refused: the server would take it for the end of a row.
use anyhow::{anyhow, bail, ensure};
use std::collections::HashMap;
use uuid::Uuid;

/// What a column says about whose a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdColumn {
    /// The tenant's id: `tenant_id`, `tenants.id`, or a foreign key to either.
    Tenant,
    /// `tenants.slug`, unique in a database.
    Slug,
    /// `companies.id`: each row brings one of the archive's companies. Company ids are unique
    /// across tenants, so a tenant imported under another id or slug gives them new ones.
    CompanyKey,
    /// A foreign key to `companies.id`: one of the archive's companies, or NULL.
    Company,
}

/// A column of a table's rows that `Remap` checks and rewrites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdField {
    /// Its position in the table's rows.
    pub position: usize,
    pub name: String,
    pub kind: IdColumn,
}

/// The archive's tenant, the identity it gets here, and its companies seen so far.
pub struct Remap {
    tenant: (String, String),
    slug: (String, String),
    new_company_ids: bool,
    companies: HashMap<Vec<u8>, Vec<u8>>,
}

impl Remap {
    /// `to`'s slug must already be a valid slug (a DNS label needs no COPY escaping).
    pub fn new(from: (Uuid, &str), to: (Uuid, &str)) -> Self {
        Remap {
            tenant: (from.0.to_string(), to.0.to_string()),
            slug: (from.1.to_string(), to.1.to_string()),
            new_company_ids: from != to,
            companies: HashMap::new(),
        }
    }

    /// The target's value for an archived one, or why the row is not the archive's tenant's.
    fn new_value<'a>(&'a mut self, kind: IdColumn, old: &'a [u8]) -> Result<&'a [u8], String> {
        match kind {
            IdColumn::Tenant if old == self.tenant.0.as_bytes() => Ok(self.tenant.1.as_bytes()),
            IdColumn::Tenant => Err(format!("{} is not the archive's tenant ({})", shown(old), self.tenant.0)),
            IdColumn::Slug if old == self.slug.0.as_bytes() => Ok(self.slug.1.as_bytes()),
            IdColumn::Slug => Err(format!("{} is not the archive's tenant's slug ({})", shown(old), self.slug.0)),
            IdColumn::CompanyKey => {
                if self.companies.contains_key(old) {
                    return Err(format!("company {} comes twice", shown(old)));
                }
                let new = if self.new_company_ids { Uuid::new_v4().to_string().into_bytes() } else { old.to_vec() };
                Ok(self.companies.entry(old.to_vec()).or_insert(new))
            }
            IdColumn::Company if old == b"\\N" => Ok(old),
            IdColumn::Company => match self.companies.get(old) {
                Some(new) => Ok(new),
                None => Err(format!("{} is not a company of the archive's tenant", shown(old))),
            },
        }
    }
}

/// A value from the archive in an error message: as text, and not a megabyte of it.
fn shown(value: &[u8]) -> String {
    const MAX: usize = 64;
    let text = String::from_utf8_lossy(&value[..value.len().min(MAX)]);
    if value.len() > MAX {
        format!("{text:?}…")
    } else {
        format!("{text:?}")
    }
}

/// Checks and rewrites one table's COPY text, chunk by chunk; a row split across chunks
/// waits in `partial` for its end. Errors name the row's line in the data file.
pub struct RowRewriter<'a> {
    remap: &'a mut Remap,
    columns: usize,
    ids: Vec<IdField>,
    partial: Vec<u8>,
    rows: u64,
}

impl<'a> RowRewriter<'a> {
    /// `columns`: how many fields each row has; `ids`: the fields to check and rewrite.
    pub fn new(remap: &'a mut Remap, columns: usize, ids: Vec<IdField>) -> Self {
        RowRewriter { remap, columns, ids, partial: Vec::new(), rows: 0 }
    }

    /// Rows checked so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends the rewritten complete rows of `chunk` (and of what was pending) to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(end + 1);
            rest = tail;
            if self.partial.is_empty() {
                self.rewrite_row(&line[..end], out)?;
            } else {
                let mut row = std::mem::take(&mut self.partial);
                row.extend_from_slice(&line[..end]);
                self.rewrite_row(&row, out)?;
            }
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// Every row of COPY text ends with a newline: anything left over is a cut-off row.
    /// Returns the number of rows.
    pub fn finish(self) -> anyhow::Result<u64> {
        if !self.partial.is_empty() {
            bail!("line {}: the data ends in the middle of a row", self.rows + 1);
        }
        Ok(self.rows)
    }

    fn rewrite_row(&mut self, row: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
        self.rows += 1;
        let line = self.rows;
        ensure!(!row.contains(&b'\r'), "line {line}: a raw carriage return (COPY would read it as the end of a row)");
        let mut fields = 0;
        for (position, field) in row.split(|&b| b == b'\t').enumerate() {
            if position > 0 {
                out.push(b'\t');
            }
            fields += 1;
            match self.ids.iter().find(|c| c.position == position) {
                Some(column) => {
                    let value = self.remap.new_value(column.kind, field);
                    out.extend_from_slice(value.map_err(|why| anyhow!("line {line}, column {}: {why}", column.name))?);
                }
                None => out.extend_from_slice(field),
            }
        }
        ensure!(fields == self.columns, "line {line}: {fields} fields where the table has {} columns", self.columns);
        out.push(b'\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "11111111-1111-1111-1111-111111111111";
    const NEW: &str = "22222222-2222-2222-2222-222222222222";
    const COMPANY: &str = "33333333-3333-3333-3333-333333333333";
    const OTHER: &str = "44444444-4444-4444-4444-444444444444";

    fn id(position: usize, kind: IdColumn) -> IdField {
        IdField { position, name: format!("c{position}"), kind }
    }

    fn rewrite(chunks: &[&str], ids: Vec<IdField>, remap: &mut Remap) -> anyhow::Result<String> {
        let columns = chunks.concat().lines().next().map_or(0, |row| row.split('\t').count());
        let mut rewriter = RowRewriter::new(remap, columns, ids);
        let mut out = Vec::new();
        for chunk in chunks {
            rewriter.push(chunk.as_bytes(), &mut out)?;
        }
        rewriter.finish()?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn moved() -> Remap {
        Remap::new((OLD.parse().unwrap(), "old-slug"), (NEW.parse().unwrap(), "new-slug"))
    }

    fn kept() -> Remap {
        Remap::new((OLD.parse().unwrap(), "old-slug"), (OLD.parse().unwrap(), "old-slug"))
    }

    #[test]
    fn rewrites_the_tenant_and_slug_and_keeps_escaped_values() {
        let row = format!("{OLD}\told-slug\tA \\t tab\\nand newline\\r\n");
        let out = rewrite(&[&row], vec![id(0, IdColumn::Tenant), id(1, IdColumn::Slug)], &mut moved()).unwrap();
        assert_eq!(out, format!("{NEW}\tnew-slug\tA \\t tab\\nand newline\\r\n"));
    }

    #[test]
    fn a_row_cut_across_chunks_is_rewritten_whole() {
        let rows = format!("{OLD}\tx\n{OLD}\ty\n");
        let (a, b) = rows.split_at(50);
        let out = rewrite(&[a, b], vec![id(0, IdColumn::Tenant)], &mut moved()).unwrap();
        assert_eq!(out, format!("{NEW}\tx\n{NEW}\ty\n"));
    }

    #[test]
    fn a_company_gets_one_new_id_everywhere_and_null_stays_null() {
        let mut remap = moved();
        let first = rewrite(&[&format!("{COMPANY}\t{OLD}\n")], vec![id(0, IdColumn::CompanyKey)], &mut remap).unwrap();
        let again =
            rewrite(&[&format!("{OLD}\t{COMPANY}\n{OLD}\t\\N\n")], vec![id(1, IdColumn::Company)], &mut remap).unwrap();
        let new_company = first.split('\t').next().unwrap();
        assert_ne!(new_company, COMPANY);
        assert_eq!(again, format!("{OLD}\t{new_company}\n{OLD}\t\\N\n"));
    }

    #[test]
    fn kept_ids_pass_through_unchanged() {
        let mut remap = kept();
        let rows = format!("{COMPANY}\t{OLD}\n");
        assert_eq!(
            rewrite(&[&rows], vec![id(0, IdColumn::CompanyKey), id(1, IdColumn::Tenant)], &mut remap).unwrap(),
            rows
        );
        let rows = format!("{OLD}\t{COMPANY}\n");
        assert_eq!(rewrite(&[&rows], vec![id(1, IdColumn::Company)], &mut remap).unwrap(), rows);
    }

    #[test]
    fn refuses_another_tenants_row_naming_its_line_and_column() {
        let rows = format!("{OLD}\tx\n{OTHER}\ty\n");
        let error = rewrite(&[&rows], vec![id(0, IdColumn::Tenant)], &mut kept()).unwrap_err().to_string();
        assert_eq!(error, format!("line 2, column c0: \"{OTHER}\" is not the archive's tenant ({OLD})"));
        // NULL is nobody's: a platform-wide row (a default tenant role, a platform event)
        let error = rewrite(&["\\N\tx\n"], vec![id(0, IdColumn::Tenant)], &mut kept()).unwrap_err().to_string();
        assert!(error.contains("is not the archive's tenant"), "{error}");
        // another spelling of the right id is refused, not interpreted
        for spelling in
            [format!("\\x31{}\tx\n", &OLD[1..]), format!("{{{OLD}}}\tx\n"), format!("{}\tx\n", OLD.replace('-', ""))]
        {
            assert!(rewrite(&[&spelling], vec![id(0, IdColumn::Tenant)], &mut kept()).is_err(), "{spelling}");
        }
    }

    #[test]
    fn refuses_a_company_of_someone_else_and_a_company_twice() {
        let mut remap = kept();
        rewrite(&[&format!("{COMPANY}\n")], vec![id(0, IdColumn::CompanyKey)], &mut remap).unwrap();
        let error = rewrite(&[&format!("{OLD}\t{OTHER}\n")], vec![id(1, IdColumn::Company)], &mut remap).unwrap_err();
        assert!(error.to_string().contains("is not a company of the archive's tenant"), "{error}");
        let error = rewrite(&[&format!("{COMPANY}\n")], vec![id(0, IdColumn::CompanyKey)], &mut remap).unwrap_err();
        assert!(error.to_string().contains("comes twice"), "{error}");
    }

    #[test]
    fn refuses_rows_copy_would_read_otherwise() {
        let tenant = || vec![id(0, IdColumn::Tenant)];
        // a raw carriage return: a second row to the server, hidden in a field here
        let hidden = format!("{OLD}\tx\r{OTHER}\ty\n");
        assert!(rewrite(&[&hidden], tenant(), &mut kept()).unwrap_err().to_string().contains("carriage return"));
        // the end-of-data marker, and rows with fields missing or added
        let marker = format!("{OLD}\tx\n\\.\n");
        assert!(rewrite(&[&marker], tenant(), &mut kept()).unwrap_err().to_string().starts_with("line 2"));
        let short = format!("{OLD}\tx\n{OLD}\n");
        assert!(rewrite(&[&short], tenant(), &mut kept()).unwrap_err().to_string().contains("1 fields"));
        let cut = format!("{OLD}\tx");
        assert!(rewrite(&[&cut], tenant(), &mut kept()).unwrap_err().to_string().contains("middle of a row"));
    }
}
