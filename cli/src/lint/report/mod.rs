//! Renderers of a lint report, apart from the linter (as squawk's reporter): text for people,
//! JSON for scripts, SARIF for code-scanning tools.
pub mod json;
pub mod sarif;
pub mod text;
