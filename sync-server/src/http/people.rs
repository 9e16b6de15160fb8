//! The dashboard's duplicate review (`/api/v1/dashboard/admin/duplicates`, `.../merges`):
//! likely pairs of client records, merging two into one person, undoing a merge and judging a
//! pair to be two people. Each change answers with the review as it stands after it; the
//! service (`services::admin::people`) checks the scope and audits.

use crate::AppState;
use crate::http::admin::actor;
use crate::http::client::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, Coordinator};
use crate::http::openapi::SessionRefusals;
use crate::services::admin::people::{self, DismissRequest, DuplicateReview, MergeRequest};
use axum::Json;
use axum::extract::{Path, State};
use outpost_core::wire::ErrorBody;
use std::sync::Arc;

/// Likely duplicate client records among those of the user's sites (every site for admins),
/// strongest first, and the newest merges in force.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/duplicates", tag = "admin", security(("session" = [])),
    responses((status = 200, body = DuplicateReview), SessionRefusals))]
pub async fn review(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
) -> Result<Json<DuplicateReview>, ApiError> {
    Ok(Json(people::review(&state.store, &actor(&session, client)).await?))
}

/// Merges one client record into another: one person from now on, on every tablet at its next
/// sync and in every report. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/merges", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = MergeRequest,
    responses((status = 200, description = "The review after the merge", body = DuplicateReview),
        (status = 403, description = "`forbidden`: a record of a site that is not the user's", body = ErrorBody),
        (status = 404, description = "`not_found`: no such client record", body = ErrorBody),
        (status = 409, description = "`clash`: one person already, or a record merged into another already", body = ErrorBody),
        (status = 422, description = "`invalid_field`: an id that is not one, or the same record twice", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn merge(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(request): ApiJson<MergeRequest>,
) -> Result<Json<DuplicateReview>, ApiError> {
    let actor = actor(&session, client);
    people::merge(&state.store, &actor, &request).await?;
    Ok(Json(people::review(&state.store, &actor).await?))
}

/// Takes a merge back: the two records are two again everywhere. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/merges/{id}/undo", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The merge's id")),
    responses((status = 200, description = "The review after the undo", body = DuplicateReview),
        (status = 403, description = "`forbidden`: a record of a site that is not the user's", body = ErrorBody),
        (status = 404, description = "`not_found`: no such merge", body = ErrorBody),
        (status = 409, description = "`clash`: undone already", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn undo(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
) -> Result<Json<DuplicateReview>, ApiError> {
    let actor = actor(&session, client);
    people::undo(&state.store, &actor, &id).await?;
    Ok(Json(people::review(&state.store, &actor).await?))
}

/// Judges two records to be two people: the review no longer offers the pair. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/duplicates/dismiss", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = DismissRequest,
    responses((status = 200, description = "The review after it", body = DuplicateReview),
        (status = 403, description = "`forbidden`: a record of a site that is not the user's", body = ErrorBody),
        (status = 404, description = "`not_found`: no such client record", body = ErrorBody),
        (status = 422, description = "`invalid_field`: an id that is not one, or the same record twice", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn dismiss(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(request): ApiJson<DismissRequest>,
) -> Result<Json<DuplicateReview>, ApiError> {
    let actor = actor(&session, client);
    people::dismiss(&state.store, &actor, &request).await?;
    Ok(Json(people::review(&state.store, &actor).await?))
}
