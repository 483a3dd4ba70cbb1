//! The administrators' console at `/console/`: the static files `console/` builds (npm, esbuild)
//! into `console/dist`, read from TENANCY_CONSOLE_DIR (unset: no console). A path under
//! `/console/` that is not a file gets `index.html`, so the page's own routes
//! (`/console/tenants/…`) survive a reload; a missing asset under `/console/assets/` is a 404.
use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::Router;
use std::path::Path;
use std::sync::Arc;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The page fetches nothing but its own files and this server's API: no font, icon or script
/// from elsewhere (MUI writes its styles inline, hence `'unsafe-inline'` for styles only).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router(dir: Option<&Path>) -> Router<Arc<AppState>> {
    let Some(dir) = dir else { return Router::new() };
    let page = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    Router::new()
        .nest_service("/console/assets", ServeDir::new(dir.join("assets")))
        .nest_service("/console", page)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
}
