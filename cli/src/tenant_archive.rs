//! The tenant archive: one tar file holding `manifest.json` first, then one file per table in
//! the text format of `COPY ... TO STDOUT`, parents first. The manifest comes first so that an
//! import can refuse (versions, migrations, an existing tenant) before it reads any data.
use anyhow::{bail, ensure, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

pub const FORMAT: &str = "tenancy-tenant-archive";
pub const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
/// A manifest is a few kilobytes; the cap keeps a corrupt archive from asking for gigabytes.
const MANIFEST_MAX_BYTES: u64 = 16 << 20;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i32,
    pub name: String,
    pub checksum: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TenantRef {
    pub id: Uuid,
    pub slug: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TableEntry {
    pub schema: String,
    pub name: String,
    /// The columns of the data file, in order (generated columns and `events.id` left out).
    pub columns: Vec<String>,
    /// The entry's path in the tar file.
    pub file: String,
    pub rows: u64,
    pub sha256: String,
}

impl TableEntry {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub exported_at: String,
    pub extension_version: String,
    pub migrations: Vec<Migration>,
    pub tenant: TenantRef,
    /// Login roles bound to the tenant. Roles are cluster-wide, so an import never binds
    /// them: it lists them for the operator to bind again.
    pub role_bindings: Vec<String>,
    pub tables: Vec<TableEntry>,
}

/// The name of a table's data file, numbered so that `tar tf` lists them in load order.
pub fn data_file_name(position: usize, schema: &str, name: &str) -> String {
    format!("data/{position:03}-{schema}.{name}.copy")
}

/// Writes the manifest, then each table's spooled data file, into a new tar file.
pub fn write(out: impl Write, manifest: &Manifest, data_dir: &Path) -> anyhow::Result<()> {
    let mut tar = tar::Builder::new(out);
    let json = serde_json::to_vec_pretty(manifest)?;
    append(&mut tar, MANIFEST, json.len() as u64, json.as_slice())?;
    for table in &manifest.tables {
        let file = File::open(data_dir.join(&table.file))?;
        let len = file.metadata()?.len();
        append(&mut tar, &table.file, len, file)?;
    }
    tar.into_inner()?.flush()?;
    Ok(())
}

fn append(tar: &mut tar::Builder<impl Write>, path: &str, len: u64, data: impl Read) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(len);
    header.set_mode(0o600);
    header.set_mtime(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()));
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, data)
}

/// Reads the manifest (the archive's first entry) and checks its format.
pub fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let mut archive = open(path)?;
    let mut entries = archive.entries()?;
    let json = manifest_bytes(&mut entries).with_context(|| format!("{} is not a tenant archive", path.display()))?;
    let manifest: Manifest = serde_json::from_slice(&json).context("unreadable manifest.json")?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        bail!(
            "{} is {} version {}; this tenancy reads {FORMAT} version {FORMAT_VERSION}",
            path.display(),
            manifest.format,
            manifest.format_version
        );
    }
    Ok(manifest)
}

fn open(path: &Path) -> anyhow::Result<tar::Archive<BufReader<File>>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(tar::Archive::new(BufReader::new(file)))
}

fn manifest_bytes(entries: &mut tar::Entries<'_, BufReader<File>>) -> anyhow::Result<Vec<u8>> {
    let mut entry = entries.next().context("the archive is empty")??;
    ensure!(entry.path()?.as_os_str() == MANIFEST, "its first entry is not {MANIFEST}");
    let mut json = Vec::new();
    (&mut entry).take(MANIFEST_MAX_BYTES).read_to_end(&mut json)?;
    Ok(json)
}

/// Calls `load` with each table's data, in the manifest's order, and checks each file's row
/// count and sha256 once `load` has read it to the end: the caller must not commit what it
/// loaded before this function has returned `Ok`.
pub async fn for_each_table<F>(path: &Path, manifest: &Manifest, mut load: F) -> anyhow::Result<()>
where
    F: AsyncFnMut(&TableEntry, &mut VerifyingReader<'_>) -> anyhow::Result<()>,
{
    let mut archive = open(path)?;
    let mut entries = archive.entries()?;
    // The archive was opened again: it must still hold the manifest that was checked.
    let json = manifest_bytes(&mut entries)?;
    let reread: Manifest = serde_json::from_slice(&json)?;
    let files = |m: &Manifest| m.tables.iter().map(|t| (t.file.clone(), t.sha256.clone())).collect::<Vec<_>>();
    ensure!(files(&reread) == files(manifest), "the archive changed while it was being imported");
    for table in &manifest.tables {
        let mut entry =
            entries.next().with_context(|| format!("the archive ends before {} (truncated?)", table.file))??;
        let path = entry.path()?.to_string_lossy().into_owned();
        ensure!(path == table.file, "expected {} in the archive, found {path}", table.file);
        let mut data = VerifyingReader::new(&mut entry);
        load(table, &mut data).await.with_context(|| format!("loading {}", table.qualified()))?;
        data.verify(table)?;
    }
    if let Some(extra) = entries.next() {
        bail!("unexpected entry after the last table: {}", extra?.path()?.display());
    }
    Ok(())
}

/// Reads through to the inner reader, hashing and counting rows (lines) as it goes.
pub struct VerifyingReader<'a> {
    inner: &'a mut dyn Read,
    digest: Sha256,
    rows: u64,
}

impl<'a> VerifyingReader<'a> {
    fn new(inner: &'a mut dyn Read) -> Self {
        VerifyingReader { inner, digest: Sha256::new(), rows: 0 }
    }

    fn verify(mut self, table: &TableEntry) -> anyhow::Result<()> {
        // Whatever the loader left unread still counts, so nothing can hide behind it.
        io::copy(&mut self, &mut io::sink())?;
        let sha256 = format!("{:x}", self.digest.finalize());
        ensure!(
            sha256 == table.sha256 && self.rows == table.rows,
            "checksum mismatch in {}: {} rows, sha256 {sha256}; the manifest says {} rows, sha256 {}",
            table.file,
            self.rows,
            table.rows,
            table.sha256
        );
        Ok(())
    }
}

impl Read for VerifyingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        self.rows += count_rows(&buf[..n]);
        Ok(n)
    }
}

/// Rows in a piece of COPY text: every row ends with a newline, and newlines inside values
/// are escaped (`\n`), so this counts rows exactly.
pub fn count_rows(chunk: &[u8]) -> u64 {
    chunk.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Hashes and counts the rows of what is written through it (the export's spool files).
pub struct HashingWriter<W> {
    inner: W,
    digest: Sha256,
    pub rows: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, digest: Sha256::new(), rows: 0 }
    }

    pub fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.digest.update(chunk);
        self.rows += count_rows(chunk);
        self.inner.write_all(chunk)
    }

    /// Flushes, and returns the rows and the hex sha256.
    pub fn finish(mut self) -> io::Result<(u64, String)> {
        self.inner.flush()?;
        Ok((self.rows, format!("{:x}", self.digest.finalize())))
    }
}
