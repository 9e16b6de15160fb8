//! The dashboard's files, served under `/dashboard/` with a CSP that allows only its own
//! scripts, styles and images. An unknown path under it serves `index.html` (the page routes
//! itself); `..` never leaves the directory.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of the dashboard's pages.
pub const DASHBOARD_CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn dashboard_files<S: Clone + Send + Sync + 'static>(dir: &std::path::Path) -> Router<S> {
    let index = dir.join("index.html");
    let files = ServeDir::new(dir).fallback(ServeFile::new(index));
    Router::new().fallback_service(files).layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    ))
}
