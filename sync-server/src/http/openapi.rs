//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! types they take and return, so it lists exactly the router's routes. `outpost-server openapi`
//! prints it; `docs/openapi.json` is that output (a test keeps the two equal).

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use outpost_core::Collection;
use outpost_core::schema::Mutability;
use outpost_core::wire::ErrorBody;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};

/// What every route behind a device token may answer before its handler runs.
#[derive(utoipa::IntoResponses)]
pub enum DeviceRefusals {
    #[response(status = 401, description = "`missing_token`, `invalid_token`, `token_expired`, `device_revoked`")]
    Unauthorized(ErrorBody),
}

/// What every dashboard route that reads may answer before its handler runs.
#[derive(utoipa::IntoResponses)]
pub enum SessionRefusals {
    #[response(status = 401, description = "`not_logged_in`, `session_expired`")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "`forbidden`: a role or a site the user does not have")]
    Forbidden(ErrorBody),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Outpost sync server",
        description = "Offline-first field data collection for harm reduction services: device enrolment, \
                       push and pull of merged records (docs/protocol.md), and the coordinators' dashboard \
                       (docs/dashboard-api.md). Every error is an ErrorBody with a stable `code`.",
        license(name = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "sync", description = "What tablets call: enrolment, push, pull."),
        (name = "sessions", description = "Dashboard logins (cookie + CSRF token)."),
        (name = "dashboard", description = "Coordinators' reports, review and exports, scoped to their sites."),
        (name = "forms", description = "The programme's forms (XLSForm): check, preview, publish, retire."),
        (name = "admin", description = "Running the programme: sites, catalogue, kits, tablets, enrolment codes (audited)."),
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("device_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::http::extract::SESSION_COOKIE,
                "Set by POST /api/v1/auth/login (HttpOnly, Secure, SameSite=Strict).",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The session's csrf_token, on every request that changes something.",
            ))),
        );
    }
}

/// The last touches on the merged document: the collections a push may name, from the core.
pub fn finish(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let writable: Vec<&str> =
        Collection::ALL.iter().filter(|c| c.mutability() != Mutability::Reference).map(|c| c.name()).collect();
    if let Some(RefOr::T(Schema::Object(op))) = document.components.as_mut().and_then(|c| c.schemas.get_mut("Op"))
        && let Some(RefOr::T(Schema::Object(collection))) = op.properties.get_mut("collection")
    {
        collection.enum_values = Some(writable.into_iter().map(Into::into).collect());
    }
    document
}

/// The document as JSON text, for `outpost-server openapi` and `docs/openapi.json`.
pub fn json() -> String {
    finish(super::api_router().into_openapi()).to_pretty_json().unwrap_or_default()
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "sync",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server", content_type = "application/json")))]
pub async fn serve(Extension(document): Extension<Arc<Document>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document.0.clone()).into_response()
}

/// The served document, as JSON text made once at start.
#[derive(Clone, Debug)]
pub struct Document(pub String);
