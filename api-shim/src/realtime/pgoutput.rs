//! The row messages of PostgreSQL's `pgoutput` plugin (protocol 1, text values) that
//! `pgwire-replication` hands over raw: Relation and Type describe, Insert / Update / Delete
//! carry tuples. Begin, Commit and logical messages the crate decodes itself.
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub type_oid: u32,
    /// Part of the replica identity (the primary key by default).
    pub key: bool,
}

#[derive(Debug, Clone)]
pub struct Relation {
    pub schema: String,
    pub table: String,
    pub columns: Vec<Column>,
}

/// A column's value: NULL, its text, or an unchanged TOASTed value the message leaves out.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Unchanged,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Insert,
    Update,
    Delete,
}

#[derive(Debug, Clone)]
pub struct RowChange {
    pub relation: std::sync::Arc<Relation>,
    pub kind: Kind,
    /// Insert and Update: the new row.
    pub new: Option<Vec<Cell>>,
    /// Delete (and an Update that changed the key): the old key, or the old row under
    /// `REPLICA IDENTITY FULL`.
    pub old: Option<Vec<Cell>>,
}

/// What it knows so far: relations by id, and the names of types that are not built in.
#[derive(Default)]
pub struct Decoder {
    relations: HashMap<u32, std::sync::Arc<Relation>>,
    pub type_names: HashMap<u32, String>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("pgoutput: message ends early".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn string(&mut self) -> Result<String, String> {
        let end = self.0.iter().position(|b| *b == 0).ok_or("pgoutput: unterminated string")?;
        let s = String::from_utf8_lossy(&self.0[..end]).into_owned();
        self.0 = &self.0[end + 1..];
        Ok(s)
    }
    fn tuple(&mut self) -> Result<Vec<Cell>, String> {
        let n = self.u16()?;
        (0..n)
            .map(|_| match self.u8()? {
                b'n' => Ok(Cell::Null),
                b'u' => Ok(Cell::Unchanged),
                b't' => {
                    let len = self.u32()? as usize;
                    Ok(Cell::Text(String::from_utf8_lossy(self.take(len)?).into_owned()))
                }
                other => Err(format!("pgoutput: unexpected tuple value kind {other}")),
            })
            .collect()
    }
}

impl Decoder {
    pub fn with_types(type_names: HashMap<u32, String>) -> Decoder {
        Decoder { relations: HashMap::new(), type_names }
    }

    /// One XLogData payload: a row change, or None for what only describes (or is ignored).
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<RowChange>, String> {
        let mut r = Reader(data);
        match r.u8()? {
            b'R' => {
                let id = r.u32()?;
                let schema = r.string()?;
                let table = r.string()?;
                let _replica_identity = r.u8()?;
                let n = r.u16()?;
                let columns = (0..n)
                    .map(|_| {
                        let flags = r.u8()?;
                        let name = r.string()?;
                        let type_oid = r.u32()?;
                        let _typmod = r.u32()?;
                        Ok(Column { name, type_oid, key: flags & 1 == 1 })
                    })
                    .collect::<Result<_, String>>()?;
                self.relations.insert(id, std::sync::Arc::new(Relation { schema, table, columns }));
                Ok(None)
            }
            b'Y' => {
                let oid = r.u32()?;
                let _schema = r.string()?;
                let name = r.string()?;
                self.type_names.insert(oid, name);
                Ok(None)
            }
            tag @ (b'I' | b'U' | b'D') => {
                let relation =
                    self.relations.get(&r.u32()?).cloned().ok_or("pgoutput: change of an unknown relation")?;
                let (mut new, mut old) = (None, None);
                while !r.0.is_empty() {
                    match r.u8()? {
                        b'N' => new = Some(r.tuple()?),
                        b'K' | b'O' => old = Some(r.tuple()?),
                        other => return Err(format!("pgoutput: unexpected tuple tag {other}")),
                    }
                }
                let kind = match tag {
                    b'I' => Kind::Insert,
                    b'U' => Kind::Update,
                    _ => Kind::Delete,
                };
                Ok(Some(RowChange { relation, kind, new, old }))
            }
            // Origin, Truncate (not published), and anything newer: nothing to deliver.
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation() -> Vec<u8> {
        let mut m = vec![b'R'];
        m.extend(7u32.to_be_bytes());
        m.extend(b"chat\0messages\0d");
        m.extend(2u16.to_be_bytes());
        for (flags, name, oid) in [(1u8, "id", 20u32), (0, "body", 25)] {
            m.push(flags);
            m.extend(name.as_bytes());
            m.push(0);
            m.extend(oid.to_be_bytes());
            m.extend((-1i32).to_be_bytes());
        }
        m
    }

    #[test]
    fn relations_then_rows_decode_into_changes() {
        let mut d = Decoder::default();
        assert!(d.decode(&relation()).unwrap().is_none());
        let mut insert = vec![b'I'];
        insert.extend(7u32.to_be_bytes());
        insert.push(b'N');
        insert.extend(2u16.to_be_bytes());
        insert.push(b't');
        insert.extend(2u32.to_be_bytes());
        insert.extend(b"42");
        insert.push(b'n');
        let change = d.decode(&insert).unwrap().unwrap();
        assert_eq!((change.kind, change.relation.table.as_str()), (Kind::Insert, "messages"));
        assert_eq!(change.new.unwrap(), vec![Cell::Text("42".into()), Cell::Null]);
        assert!(change.relation.columns[0].key);
        let mut unknown = insert.clone();
        unknown[4] = 8;
        assert!(d.decode(&unknown).is_err(), "a relation never described");
        assert!(d.decode(&insert[..9]).is_err(), "a truncated message");
    }
}
