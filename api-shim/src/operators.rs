//! PostgREST's filter operators, in one table that the grammar reads names from, the planner
//! classifies by and the SQL builder writes: a new operator is one row here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    Ilike,
    Match,
    Imatch,
    In,
    Is,
    IsDistinct,
    Cs,
    Cd,
    Ov,
    Sl,
    Sr,
    Nxr,
    Nxl,
    Adj,
    Fts,
    Plfts,
    Phfts,
    Wfts,
}

/// What an operator does in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `expr <sql> value`; `quantifiable`: also `expr <sql> ANY|ALL(array)` (`eq(any).{1,2}`).
    Compare { sql: &'static str, quantifiable: bool },
    /// A pattern on the text of the value (`LIKE`, `~`), quantifiable too; `like`/`ilike`
    /// values may write `*` for `%`, which is awkward in URLs.
    Pattern { sql: &'static str, star_wildcard: bool },
    /// `in.(a,b)`.
    InList,
    /// `is.null|not_null|true|false|unknown`.
    IsTest,
    /// Full-text search with the function that reads the query (`fts(english).`).
    Search { tsquery: &'static str },
}

use Kind::*;
use Operator::*;

const TABLE: [(Operator, &str, Kind); 25] = [
    (Eq, "eq", Compare { sql: "=", quantifiable: true }),
    (Neq, "neq", Compare { sql: "<>", quantifiable: true }),
    (Gt, "gt", Compare { sql: ">", quantifiable: true }),
    (Gte, "gte", Compare { sql: ">=", quantifiable: true }),
    (Lt, "lt", Compare { sql: "<", quantifiable: true }),
    (Lte, "lte", Compare { sql: "<=", quantifiable: true }),
    (Like, "like", Pattern { sql: "LIKE", star_wildcard: true }),
    (Ilike, "ilike", Pattern { sql: "ILIKE", star_wildcard: true }),
    (Match, "match", Pattern { sql: "~", star_wildcard: false }),
    (Imatch, "imatch", Pattern { sql: "~*", star_wildcard: false }),
    (In, "in", InList),
    (Is, "is", IsTest),
    (IsDistinct, "isdistinct", Compare { sql: "IS DISTINCT FROM", quantifiable: false }),
    (Cs, "cs", Compare { sql: "@>", quantifiable: false }),
    (Cd, "cd", Compare { sql: "<@", quantifiable: false }),
    (Ov, "ov", Compare { sql: "&&", quantifiable: false }),
    (Sl, "sl", Compare { sql: "<<", quantifiable: false }),
    (Sr, "sr", Compare { sql: ">>", quantifiable: false }),
    (Nxr, "nxr", Compare { sql: "&<", quantifiable: false }),
    (Nxl, "nxl", Compare { sql: "&>", quantifiable: false }),
    (Adj, "adj", Compare { sql: "-|-", quantifiable: false }),
    (Fts, "fts", Search { tsquery: "to_tsquery" }),
    (Plfts, "plfts", Search { tsquery: "plainto_tsquery" }),
    (Phfts, "phfts", Search { tsquery: "phraseto_tsquery" }),
    (Wfts, "wfts", Search { tsquery: "websearch_to_tsquery" }),
];

impl Operator {
    /// PostgREST's operator names are lower case and case-sensitive.
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE.iter().find(|(_, n, _)| *n == name).map(|(op, _, _)| *op)
    }

    pub fn name(self) -> &'static str {
        TABLE.iter().find(|(op, _, _)| *op == self).map(|(_, n, _)| *n).expect("every operator has a row")
    }

    pub fn kind(self) -> Kind {
        TABLE.iter().find(|(op, _, _)| *op == self).map(|(_, _, k)| *k).expect("every operator has a row")
    }

    /// The SQL operator of a comparison or pattern (`expr <op> value`); none for `in`, `is`
    /// and text search, which have their own shapes.
    pub fn binary_sql(self) -> Option<&'static str> {
        match self.kind() {
            Compare { sql, .. } | Pattern { sql, .. } => Some(sql),
            _ => None,
        }
    }

    /// Compares with `ANY`/`ALL` of an array: `eq(any).{1,2}`.
    pub fn takes_quantifier(self) -> bool {
        matches!(self.kind(), Compare { quantifiable: true, .. } | Pattern { .. })
    }

    pub fn is_text_search(self) -> bool {
        matches!(self.kind(), Search { .. })
    }

    /// Pattern operators work on text, whatever the column's type.
    pub fn is_pattern(self) -> bool {
        matches!(self.kind(), Pattern { .. })
    }

    /// `like`/`ilike`: `*` in the value stands for `%`.
    pub fn star_wildcard(self) -> bool {
        matches!(self.kind(), Pattern { star_wildcard: true, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_has_one_row_and_its_name_reads_back() {
        for (op, name, _) in TABLE {
            assert_eq!(Operator::from_name(name), Some(op));
            assert_eq!(op.name(), name);
            assert_eq!(TABLE.iter().filter(|(o, _, _)| *o == op).count(), 1, "{name}");
        }
        assert_eq!(Operator::from_name("EQ"), None, "names are case-sensitive");
    }

    #[test]
    fn classes() {
        assert!(Eq.takes_quantifier() && Like.takes_quantifier() && !Cs.takes_quantifier() && !In.takes_quantifier());
        assert_eq!(Ilike.binary_sql(), Some("ILIKE"));
        assert_eq!(Fts.binary_sql(), None);
        assert!(Like.star_wildcard() && !Match.star_wildcard() && Match.is_pattern());
    }
}
