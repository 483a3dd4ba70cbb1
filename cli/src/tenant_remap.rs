//! Giving an imported tenant a new id (and slug): the COPY text is rewritten on its way into
//! the database, field by field, so no table is ever held in memory or copied twice.
//!
//! In COPY's text format a row is one line and fields are separated by tabs; tabs, newlines
//! and backslashes inside values are escaped, so splitting on raw bytes is exact. Ids are
//! written as PostgreSQL prints uuids (lowercase, hyphenated), which is how they were read.
use anyhow::{bail, ensure};
use std::collections::HashMap;
use uuid::Uuid;

/// What a rewritten column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdColumn {
    /// The tenant's id (`tenant_id`, or `tenants.id`).
    Tenant,
    /// A company's id (`companies.id`, or a foreign key to it): companies ids are unique
    /// across tenants, so a tenant imported beside its original needs new ones.
    Company,
    /// `tenants.slug`, unique too.
    Slug,
}

/// The new identity of the imported tenant, and the company ids handed out so far.
pub struct Remap {
    old_tenant: String,
    new_tenant: String,
    new_slug: String,
    new_companies: HashMap<String, String>,
}

impl Remap {
    /// `new_slug` must already be a valid slug (a DNS label needs no COPY escaping).
    pub fn new(old_tenant: Uuid, new_tenant: Uuid, new_slug: &str) -> Self {
        Remap {
            old_tenant: old_tenant.to_string(),
            new_tenant: new_tenant.to_string(),
            new_slug: new_slug.to_string(),
            new_companies: HashMap::new(),
        }
    }

    fn new_value(&mut self, column: IdColumn, old: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(match column {
            IdColumn::Tenant => {
                ensure!(old == self.old_tenant.as_bytes(), "a row of another tenant: {}", String::from_utf8_lossy(old));
                self.new_tenant.clone().into_bytes()
            }
            IdColumn::Company if old == b"\\N" => old.to_vec(),
            IdColumn::Company => {
                let old = std::str::from_utf8(old)?.to_string();
                self.new_companies.entry(old).or_insert_with(|| Uuid::new_v4().to_string()).clone().into_bytes()
            }
            IdColumn::Slug => self.new_slug.clone().into_bytes(),
        })
    }
}

/// Rewrites the id columns of one table's COPY text, chunk by chunk; a row split across
/// chunks waits in `partial` for its end.
pub struct RowRewriter<'a> {
    remap: &'a mut Remap,
    columns: Vec<(usize, IdColumn)>,
    partial: Vec<u8>,
}

impl<'a> RowRewriter<'a> {
    /// `columns`: the position of each rewritten column in the table's rows.
    pub fn new(remap: &'a mut Remap, columns: Vec<(usize, IdColumn)>) -> Self {
        RowRewriter { remap, columns, partial: Vec::new() }
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
    pub fn finish(self) -> anyhow::Result<()> {
        if !self.partial.is_empty() {
            bail!("the data ends in the middle of a row");
        }
        Ok(())
    }

    fn rewrite_row(&mut self, row: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
        for (position, field) in row.split(|&b| b == b'\t').enumerate() {
            if position > 0 {
                out.push(b'\t');
            }
            match self.columns.iter().find(|(p, _)| *p == position) {
                Some(&(_, column)) => out.extend_from_slice(&self.remap.new_value(column, field)?),
                None => out.extend_from_slice(field),
            }
        }
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

    fn rewrite(chunks: &[&str], columns: Vec<(usize, IdColumn)>, remap: &mut Remap) -> anyhow::Result<String> {
        let mut rewriter = RowRewriter::new(remap, columns);
        let mut out = Vec::new();
        for chunk in chunks {
            rewriter.push(chunk.as_bytes(), &mut out)?;
        }
        rewriter.finish()?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn remap() -> Remap {
        Remap::new(OLD.parse().unwrap(), NEW.parse().unwrap(), "new-slug")
    }

    #[test]
    fn rewrites_the_tenant_and_slug_and_keeps_escaped_values() {
        let row = format!("{OLD}\told-slug\tA \\t tab\\nand newline\n");
        let out = rewrite(&[&row], vec![(0, IdColumn::Tenant), (1, IdColumn::Slug)], &mut remap()).unwrap();
        assert_eq!(out, format!("{NEW}\tnew-slug\tA \\t tab\\nand newline\n"));
    }

    #[test]
    fn a_row_cut_across_chunks_is_rewritten_whole() {
        let rows = format!("{OLD}\tx\n{OLD}\ty\n");
        let (a, b) = rows.split_at(50);
        let out = rewrite(&[a, b], vec![(0, IdColumn::Tenant)], &mut remap()).unwrap();
        assert_eq!(out, format!("{NEW}\tx\n{NEW}\ty\n"));
    }

    #[test]
    fn a_company_gets_one_new_id_everywhere_and_null_stays_null() {
        let mut remap = remap();
        let first = rewrite(&[&format!("{COMPANY}\t{OLD}\n")], vec![(0, IdColumn::Company)], &mut remap).unwrap();
        let again =
            rewrite(&[&format!("{OLD}\t{COMPANY}\n\\N\t\\N\n")], vec![(1, IdColumn::Company)], &mut remap).unwrap();
        let new_company = first.split('\t').next().unwrap();
        assert_ne!(new_company, COMPANY);
        assert_eq!(again, format!("{OLD}\t{new_company}\n\\N\t\\N\n"));
    }

    #[test]
    fn refuses_another_tenants_row_and_a_cut_off_row() {
        let other = "44444444-4444-4444-4444-444444444444\tx\n";
        assert!(rewrite(&[other], vec![(0, IdColumn::Tenant)], &mut remap()).is_err());
        assert!(rewrite(&[&format!("{OLD}\tx")], vec![(0, IdColumn::Tenant)], &mut remap()).is_err());
    }
}
