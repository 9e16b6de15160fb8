//! The dashboard's forms API (`/api/v1/dashboard/forms*`): the published forms, checking an
//! uploaded XLSForm workbook (every problem with its sheet, row and column; nothing stored),
//! previewing a form's behaviour with core's one check, publishing (the next version of its id,
//! audited) and retiring a version (audited). Coordinators and admins; changes are CSRF-checked
//! by the session extractor.

use crate::AppState;
use crate::http::audit;
use crate::http::client::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, Coordinator};
use crate::http::openapi::SessionRefusals;
use crate::services::forms::{self, Checked, PublishError, WorkbookError};
use crate::services::reports::filters::{first, only, query_pairs};
use crate::time::now_ms;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use outpost_core::forms::{CompiledForm, Form, FormError, FormState, expr};
use outpost_core::records::PublishedForm;
use outpost_core::wire::ErrorBody;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Every version of every form of the organisation, by form id and version.
#[utoipa::path(get, path = "/api/v1/dashboard/forms", tag = "forms", security(("session" = [])),
    responses((status = 200, body = Vec<PublishedForm>), SessionRefusals))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Coordinator(_session): Coordinator,
) -> Result<Json<Vec<PublishedForm>>, ApiError> {
    let org = state.store.the_org().await?;
    Ok(Json(state.store.forms(org).await?.into_iter().map(|(_, f)| f).collect()))
}

/// What an uploaded workbook gave.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct FormCheck {
    /// The form as tablets would receive it, when it has no errors.
    pub form: Option<Form>,
    /// Every problem that keeps it from being published (empty when `form` is set).
    pub errors: Vec<FormError>,
    /// What was skipped or ignored (published forms may have warnings).
    pub warnings: Vec<FormError>,
}

/// The `name` query parameter (the uploaded file's name), the only one these routes take.
fn file_name(raw: Option<&str>) -> Result<String, ApiError> {
    let pairs = query_pairs(raw)?;
    only(&pairs, &["name"])?;
    match first(&pairs, "name") {
        Some(name) if name.chars().count() > 200 => Err(ApiError::invalid_query("the file name is too long")),
        Some(name) if !name.trim().is_empty() => Ok(name.to_string()),
        _ => Ok("form.xlsx".into()),
    }
}

fn workbook_refusal(e: WorkbookError) -> ApiError {
    match e {
        WorkbookError::TooLarge | WorkbookError::TooLargeUnpacked => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "form_too_large", e.to_string())
        }
        _ => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_a_workbook", e.to_string()),
    }
}

/// Reads a workbook off the request's thread (a large one takes a while to unpack and parse).
async fn check_bytes(body: Bytes, name: String) -> Result<Checked, ApiError> {
    if body.is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_a_workbook", "the upload is empty"));
    }
    tokio::task::spawn_blocking(move || forms::check_upload(&body, &name))
        .await
        .map_err(ApiError::internal)?
        .map_err(workbook_refusal)
}

/// Checks an XLSForm workbook (the request body: the `.xlsx` or `.xls` file's bytes; `name`
/// query parameter: its file name, which names a form whose settings give no id). Stores nothing.
#[utoipa::path(post, path = "/api/v1/dashboard/forms/check", tag = "forms", security(("session" = [])),
    params(("name" = Option<String>, Query, description = "The file's name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = FormCheck),
        (status = 413, description = "`form_too_large` (file or unpacked size)", body = ErrorBody),
        (status = 422, description = "`not_a_workbook`", body = ErrorBody), SessionRefusals))]
pub async fn check(
    Coordinator(_session): Coordinator,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Json<FormCheck>, ApiError> {
    Ok(Json(match check_bytes(body, file_name(raw.as_deref())?).await? {
        Checked::Ready(imported) => {
            FormCheck { form: Some(imported.form.def), errors: Vec::new(), warnings: imported.warnings }
        }
        Checked::Refused(errors) => FormCheck { form: None, errors, warnings: Vec::new() },
    }))
}

/// A published version.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Published {
    pub form_id: String,
    pub version: u32,
}

/// Publishes an XLSForm workbook (as `check` takes it) as the next version of its form id;
/// tablets receive it at their next sync. Refused whole when it has any error. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/forms/publish", tag = "forms", security(("session" = [])),
    params(("name" = Option<String>, Query, description = "The file's name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, body = Published),
        (status = 413, description = "`form_too_large`", body = ErrorBody),
        (status = 422, description = "`not_a_workbook`, `invalid_form` (details name sheet, row and column), `invalid_form_id`", body = ErrorBody),
        SessionRefusals))]
pub async fn publish(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Json<Published>, ApiError> {
    let name = file_name(raw.as_deref())?;
    let form = match check_bytes(body, name.clone()).await? {
        Checked::Ready(imported) => imported.form,
        Checked::Refused(errors) => {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            let mut refusal = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_form",
                format!("the form has {} problem(s); the first: {first}", errors.len()),
            );
            refusal.details = errors
                .iter()
                .enumerate()
                .map(|(index, e)| outpost_core::wire::ErrorDetail {
                    index,
                    op_seq: None,
                    field: Some(format!("{}!{}:{}", e.sheet, e.row, e.column)),
                    code: "invalid_form".into(),
                    message: e.to_string(),
                })
                .collect();
            return Err(refusal);
        }
    };
    audit::required(&state, audit::by_user(&session, client, "form.publish", form.def.id.clone(), name)).await?;
    let version = match forms::publish(&state.store, &form, now_ms()).await {
        Ok(version) => version,
        Err(e @ PublishError::BadId(_)) => {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_form_id", e.to_string()));
        }
        Err(PublishError::Store(e)) => return Err(e.into()),
    };
    Ok(Json(Published { form_id: form.def.id.clone(), version }))
}

/// Retires a version: tablets stop offering it at their next sync; answers to it are still
/// accepted and reported. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/forms/{form_id}/{version}/retire", tag = "forms", security(("session" = [])),
    params(("form_id" = String, Path, description = "The form's id"), ("version" = u32, Path, description = "The version")),
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, body = Published), (status = 404, body = ErrorBody),
        (status = 409, description = "`conflict`: retired already", body = ErrorBody), SessionRefusals))]
pub async fn retire(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path((form_id, version)): Path<(String, String)>,
) -> Result<Json<Published>, ApiError> {
    let version: u32 =
        version.parse().map_err(|_| ApiError::invalid_query(format!("{version:?} is not a version number")))?;
    if form_id.len() > 64 {
        return Err(ApiError::not_found("no such form"));
    }
    let target = format!("{form_id}/{version}");
    audit::required(&state, audit::by_user(&session, client, "form.retire", target, String::new())).await?;
    if !state.store.retire_form(&form_id, version, now_ms()).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("{form_id} version {version} is retired already"),
        ));
    }
    Ok(Json(Published { form_id, version }))
}

/// A preview's question: these answers to this form, read in `language`.
#[derive(Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub form: Form,
    #[ts(type = "Record<string, JsonValue>")]
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// A language code (`ru`) or one of the form's language keys.
    pub language: String,
    /// `YYYY-MM-DD` for `today()`; the server's date when absent.
    #[serde(default)]
    pub today: Option<String>,
}

/// What answers mean for a form (the check tablets and the server make): which questions show,
/// the calculations, the choices offered, every problem. For the dashboard's preview of a form
/// before it is published; nothing is stored.
#[utoipa::path(post, path = "/api/v1/dashboard/forms/preview", tag = "forms", security(("session" = [])),
    request_body = PreviewRequest,
    responses((status = 200, body = FormState),
        (status = 422, description = "`invalid_form` (the definition does not compile), `invalid_body`", body = ErrorBody),
        SessionRefusals))]
pub async fn preview(
    Coordinator(_session): Coordinator,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<FormState>, ApiError> {
    let today = match request.today.as_deref() {
        Some(day) => expr::parse_date(day)
            .ok_or_else(|| ApiError::invalid_field(format!("today: {day:?} is not a date (YYYY-MM-DD)")))?,
        None => expr::parse_date(&crate::time::date_of(now_ms())).unwrap_or(0),
    };
    let form = CompiledForm::compile(request.form).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_form", format!("the form does not compile: {first}"))
    })?;
    Ok(Json(form.check(&request.answers, today, &request.language)))
}
