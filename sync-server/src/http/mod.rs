//! HTTP: the router and its OpenAPI document (generated from the handlers, so the two cannot
//! drift), extractors that turn every bad request into a specific error, and the handlers, which
//! parse, call a service or the store, and answer. No SQL here.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod client;
pub mod dashboard;
pub mod dhis2;
pub mod drain;
pub mod encoding;
pub mod error;
pub mod extract;
pub mod files;
pub mod forms;
pub mod limits;
pub mod openapi;
pub mod people;
pub mod sync;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use error::ApiError;
use std::sync::Arc;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The API's routes with their OpenAPI document.
pub fn api_router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(sync::health))
        .routes(routes!(openapi::serve))
        .routes(routes!(sync::enroll))
        .routes(routes!(sync::push))
        .routes(routes!(sync::pull))
        .routes(routes!(sync::restore))
        .routes(routes!(auth::login))
        .routes(routes!(auth::me))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::change_password))
        .routes(routes!(dashboard::sites))
        .routes(routes!(dashboard::indicators))
        .routes(routes!(dashboard::indicator_sets))
        .routes(routes!(dashboard::indicator_set))
        .routes(routes!(dashboard::trends))
        .routes(routes!(dashboard::surveys))
        .routes(routes!(dashboard::stock))
        .routes(routes!(dashboard::devices))
        .routes(routes!(dashboard::list_conflicts))
        .routes(routes!(dashboard::resolve_conflict))
        .routes(routes!(dashboard::export))
        .routes(routes!(dashboard::audit_log))
        .routes(routes!(forms::list))
        .routes(routes!(forms::check))
        .routes(routes!(forms::publish))
        .routes(routes!(forms::retire))
        .routes(routes!(forms::preview))
        .routes(routes!(admin::get_organisation, admin::change_organisation))
        .routes(routes!(admin::get_packages, admin::set_packages))
        .routes(routes!(admin::list_sites, admin::add_site))
        .routes(routes!(admin::change_site))
        .routes(routes!(admin::get_catalogue))
        .routes(routes!(admin::add_commodity))
        .routes(routes!(admin::change_commodity))
        .routes(routes!(admin::set_threshold))
        .routes(routes!(admin::add_kit))
        .routes(routes!(admin::change_kit))
        .routes(routes!(admin::revoke_device))
        .routes(routes!(admin::rename_device))
        .routes(routes!(admin::list_codes, admin::create_code))
        .routes(routes!(admin::cancel_code))
        .routes(routes!(admin::list_users, admin::add_user))
        .routes(routes!(admin::change_user))
        .routes(routes!(admin::reset_password))
        .routes(routes!(admin::setup_totp))
        .routes(routes!(admin::remove_totp))
        .routes(routes!(admin::erase_client))
        .routes(routes!(dhis2::settings))
        .routes(routes!(dhis2::set_connection))
        .routes(routes!(dhis2::save_mapping))
        .routes(routes!(dhis2::preview))
        .routes(routes!(dhis2::export))
        .routes(routes!(dhis2::send))
        .routes(routes!(people::review))
        .routes(routes!(people::merge))
        .routes(routes!(people::undo))
        .routes(routes!(people::dismiss))
}

/// The OpenAPI document of every route, as served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// Every operation the document lists, as (method, path), e.g. `("post", "/api/v1/enroll")`.
pub fn routes() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in document().paths.paths {
        let value = serde_json::to_value(&item).unwrap_or_default();
        for method in ["get", "put", "post", "delete", "patch", "head", "options", "trace"] {
            if value.get(method).is_some() {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

/// Builds the router over shared state.
pub fn app(state: Arc<AppState>) -> Router {
    let body_limit = state.settings.max_body_bytes;
    let timeout = Duration::from_secs(state.settings.request_timeout_secs);
    let (api, document) = api_router().split_for_parts();
    let document = Arc::new(openapi::Document(openapi::finish(document).to_json().unwrap_or_default()));
    api.route("/", axum::routing::get(|| async { axum::response::Redirect::to("/dashboard/") }))
        .route(outpost_core::wire::ENROL_LINK_PATH, axum::routing::get(files::enrol_page))
        .nest_service("/dashboard", files::dashboard_files(&state.settings.dashboard_dir))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::Extension(document))
        .layer(DefaultBodyLimit::max(body_limit))
        // Pushes and pulls beyond the server's capacity queue briefly, then get `503` with
        // `Retry-After` (see `limits::SyncGate`).
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::sync_back_pressure))
        // A reply sent before the body was read stays readable: the rest of the body is read first.
        .layer(axum::middleware::from_fn_with_state(body_limit, drain::drain_unread_body))
        // Inside the header layers, so a 408 carries the same headers as every reply.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        // On every response: nothing is cached (replies hold client data), sniffed, framed, or
        // leaked through the referrer.
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        // Compressed bodies both ways (see `encoding`): the decoder wraps the drain and the body
        // limit, so both count decompressed bytes; unknown codings are refused before it.
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(encoding::ACCEPTED_REQUEST_ENCODINGS),
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(axum::middleware::from_fn(encoding::refuse_unknown_encoding))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json")
}

async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not accept that method")
        .into_response()
}
