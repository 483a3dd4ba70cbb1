//! PostgREST's own spec (`test/spec/Feature/**` in the PostgREST repository) as data: the cases
//! in `tests/postgrest-spec/cases/<Module>.toml`, the fixtures they need in
//! `tests/postgrest-spec/fixtures/`, the cases we answer differently today in
//! `tests/postgrest-spec/known_differences.toml`. `tests/tests/postgrest_spec.rs` runs them.
pub mod case;
pub mod expect;
pub mod run;
pub mod verdict;

use std::path::PathBuf;

/// `tests/postgrest-spec/`.
pub fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("postgrest-spec")
}
