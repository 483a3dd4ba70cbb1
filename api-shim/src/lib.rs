//! The REST layer: a request is parsed (`query_grammar`, `prefer`), planned against the
//! schema cache (`plan`), turned into one SQL statement (`sql_builder`) and run in one
//! transaction (`tx`); PostgreSQL builds the JSON.
pub mod accept;
pub mod app;
pub mod auth;
pub mod body;
pub mod config;
pub mod console;
pub mod db_error;
pub mod error;
pub mod fuzzy;
pub mod handlers;
pub mod health;
pub mod housekeeping;
pub mod jwt;
pub mod keep_alive;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod operators;
pub mod plan;
pub mod plan_types;
pub mod prefer;
pub mod query_grammar;
pub mod rate_limit;
pub mod realtime;
pub mod reload;
pub mod request;
pub mod request_id;
pub mod response;
pub mod routing;
pub mod schema_cache;
pub mod server_status;
pub mod sign_in;
pub mod sql_builder;
pub mod state;
pub mod tx;
