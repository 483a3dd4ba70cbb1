//! The `tenancy` command's modules: its commands, the linter, and the tenant archive.
pub mod citus;
pub mod commands;
pub mod connection;
pub mod lint;
pub mod progress;
pub mod tenant_archive;
pub mod tenant_remap;
pub mod tenant_tables;
