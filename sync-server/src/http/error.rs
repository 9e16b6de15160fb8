//! API errors: every failure becomes a status code and a JSON body with a machine-readable
//! `code` and a human `message`. Internal details are logged, never sent.

use crate::services::accounts::AccountError;
use crate::services::reports::FilterError;
use crate::services::sync::SCOPE_CODES;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use outpost_core::wire::{ErrorBody, ErrorDetail};
use outpost_server_store::DbError;

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<ErrorDetail>,
    /// Seconds to wait before trying again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Vec::new(), retry_after: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid_field(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_query", message)
    }

    /// `429 rate_limited` with `Retry-After`.
    pub fn rate_limited(wait: std::time::Duration, message: impl Into<String>) -> Self {
        let seconds = wait.as_secs().max(1);
        Self { retry_after: Some(seconds), ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message) }
    }

    /// A batch refused as a whole because of the listed operations: 403 when one is outside
    /// the device's scope, 422 otherwise.
    pub fn batch(details: Vec<ErrorDetail>) -> Self {
        let scope = details.iter().any(|d| SCOPE_CODES.contains(&d.code.as_str()) || d.code == "site_mismatch");
        let status = if scope { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY };
        let message =
            format!("{} operation(s) in the batch were refused; nothing in the batch was applied", details.len());
        Self { status, code: "invalid_batch", message, details, retry_after: None }
    }

    /// Something failed inside the server. The cause is logged, the client sees a generic text.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed; the request can be retried")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let body = ErrorBody { code: self.code.to_string(), message: self.message, details: self.details };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Batch(details) => ApiError::batch(details),
            DbError::CodeInvalid => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "enrollment_code_invalid",
                "this enrolment code is unknown, already used or expired; ask a coordinator for a new one",
            ),
            DbError::NotFound(what) => ApiError::not_found(what),
            DbError::Conflict(what) | DbError::Unique(what) => ApiError::new(StatusCode::CONFLICT, "conflict", what),
            DbError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_busy",
                "the server's database is busy; retry shortly",
            ),
            DbError::Full => {
                tracing::error!("the database's disk is full: requests that write are refused");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage_full",
                    "the server's disk is full; nothing was stored, retry later",
                )
            }
            DbError::Unwritable(cause) => {
                tracing::error!(%cause, "the database cannot be written: requests that write are refused");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unwritable",
                    "the server cannot write to its disk (read-only or failing); nothing was stored, retry later",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        match e {
            FilterError::Invalid(message) => ApiError::invalid_query(message),
            FilterError::Forbidden => ApiError::forbidden(e.to_string()),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Db(db) => db.into(),
            AccountError::NotFound(_) => ApiError::not_found(e.to_string()),
            AccountError::Exists(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            other => ApiError::invalid_field(other.to_string()),
        }
    }
}
