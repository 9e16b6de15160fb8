//! Writing the audit log from handlers, in two strengths: [`required`] for what must never happen
//! unrecorded (exports, reports with small-cell suppression off, changes to forms and conflicts):
//! written first, and the request is refused with `503 audit_unavailable` when it cannot be; and
//! [`noted`] for events that already happened (logins, enrolments, refusals, lockouts), whose
//! entry is logged loudly if it cannot be written.

use crate::AppState;
use crate::http::error::ApiError;
use crate::services::accounts::Session;
use crate::time::now_ms;
use axum::http::StatusCode;
use outpost_server_store::audit::AuditEvent;
use std::net::IpAddr;

/// An event done by a logged-in user from `client`.
pub fn by_user(session: &Session, client: IpAddr, action: &str, target: String, detail: String) -> AuditEvent {
    AuditEvent::new(&format!("user:{}", session.user.username), action, target, detail).from_address(client.to_string())
}

/// Writes `event` or refuses the request: nothing is done that the log does not hold.
pub async fn required(state: &AppState, event: AuditEvent) -> Result<(), ApiError> {
    let action = event.action.clone();
    state.store.append_audit(event, now_ms()).await.map_err(|e| {
        tracing::error!(error = %e, action, "could not write an audit entry: the request is refused");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unavailable",
            "this action is recorded in the audit log, which cannot be written now: nothing was done; try again later",
        )
    })
}

/// Writes `event`, logging loudly when it cannot be written (what it records happened anyway).
pub async fn noted(state: &AppState, event: AuditEvent) {
    let action = event.action.clone();
    if let Err(e) = state.store.append_audit(event, now_ms()).await {
        tracing::error!(error = %e, action, "could not write an audit entry");
    }
}
