// Embeds every policies/*.sql file, in name order, so the binary carries what it applies;
// and rebuilds when a migration is added (refinery embeds them, but cargo does not watch them).
use std::{env, fs, path::Path};

fn main() {
    // Read when the script runs, not when it is compiled: a build directory copied from another
    // checkout must embed this checkout's files.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed={}", Path::new(&manifest_dir).join("../migrations").display());
    let dir = Path::new(&manifest_dir).join("../policies");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("policies/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let entries: String = files
        .iter()
        .map(|p| {
            println!("cargo:rerun-if-changed={}", p.display());
            let name = p.file_name().unwrap().to_string_lossy();
            format!("({name:?}, include_str!({:?})),\n", p.canonicalize().unwrap())
        })
        .collect();
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("policies.rs");
    fs::write(out, format!("pub const POLICIES: &[(&str, &str)] = &[\n{entries}];\n")).unwrap();
}
