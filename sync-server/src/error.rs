//! API errors: every failure becomes a status code and a JSON body with a machine-readable
//! `code` and a human `message`. Internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use outpost_core::wire::{ErrorBody, ErrorDetail};

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Vec::new() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// A batch refused as a whole because of the listed operations.
    pub fn batch(status: StatusCode, details: Vec<ErrorDetail>) -> Self {
        let message =
            format!("{} operation(s) in the batch were refused; nothing in the batch was applied", details.len());
        Self { status, code: "invalid_batch", message, details }
    }

    /// Something failed inside the server. The cause is logged, the client sees a generic text.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed; the request can be retried")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { code: self.code.to_string(), message: self.message, details: self.details };
        (self.status, Json(body)).into_response()
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match e {
            DbError::Batch(details) => {
                let status = if details.iter().any(|d| d.code == "site_mismatch") {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                ApiError::batch(status, details)
            }
            DbError::CodeInvalid => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "enrollment_code_invalid",
                "this enrolment code is unknown, already used or expired; ask a coordinator for a new one",
            ),
            DbError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, "not_found", what),
            DbError::Conflict(what) => ApiError::new(StatusCode::CONFLICT, "conflict", what),
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
