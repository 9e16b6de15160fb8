//! Extractors that turn every bad request into a specific [`ApiError`]: JSON bodies, the device
//! behind a token, and the person behind a session (with the CSRF check on changes and the role
//! checks every dashboard handler starts with).

use crate::AppState;
use crate::http::error::ApiError;
use crate::services::accounts::{self, Role, Session, SessionCheck};
use crate::services::tokens::hash_token;
use crate::time::now_ms;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum_extra::extract::CookieJar;
use outpost_core::wire::{MIN_PROTOCOL_VERSION, PROTOCOL_HEADER, PROTOCOL_VERSION};
use outpost_server_store::sync::{DeviceAuth, TokenCheck};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "outpost_session";
/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// JSON body extractor whose every rejection is a specific [`ApiError`].
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
        });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| json_rejection(JsonRejection::BytesRejection(e)))?;
        // The fast decoder first; on failure, axum's decoder, whose message names the path of
        // the bad value ("ops[3].stamp: ...").
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(ApiJson(value)),
            Err(_) => match Json::<T>::from_bytes(&bytes) {
                Ok(Json(value)) => Ok(ApiJson(value)),
                // serde_json reports some wrong types as syntax ("expected value" for a number
                // where a name is expected): a body that is well-formed JSON is never "malformed".
                Err(JsonRejection::JsonSyntaxError(e))
                    if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() =>
                {
                    let text = e.body_text();
                    let detail = text.split_once(": ").map_or(text.as_str(), |(_, rest)| rest);
                    Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        format!("a value of the wrong type: {detail}"),
                    ))
                }
                Err(rejection) => Err(json_rejection(rejection)),
            },
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", text),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("malformed_json", text),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than the server accepts; send smaller batches",
        ),
        other => ApiError::bad_request("unreadable_body", other.body_text()),
    }
}

/// Checks the protocol version a device speaks.
pub fn check_protocol(version: Option<u32>) -> Result<(), ApiError> {
    match version {
        None => Err(ApiError::bad_request("missing_protocol", format!("send the {PROTOCOL_HEADER} header"))),
        Some(v) if v < MIN_PROTOCOL_VERSION => Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            format!(
                "this app speaks protocol {v}; the server needs {MIN_PROTOCOL_VERSION} or newer: please update the app"
            ),
        )),
        Some(v) if v > PROTOCOL_VERSION => Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "server_too_old",
            format!(
                "this app speaks protocol {v}; the server only knows up to {PROTOCOL_VERSION}: the server needs an update"
            ),
        )),
        Some(_) => Ok(()),
    }
}

fn header_protocol(headers: &HeaderMap) -> Result<Option<u32>, ApiError> {
    headers
        .get(PROTOCOL_HEADER)
        .map(|v| {
            v.to_str().ok().and_then(|s| s.trim().parse().ok()).ok_or_else(|| {
                ApiError::bad_request("invalid_protocol", format!("the {PROTOCOL_HEADER} header must be a number"))
            })
        })
        .transpose()
}

/// An authenticated device speaking a supported protocol.
pub struct Device(pub DeviceAuth);

impl FromRequestParts<Arc<AppState>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        check_protocol(header_protocol(&parts.headers)?)?;
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing_token", "send the device token as Authorization: Bearer <token>")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| {
                ApiError::unauthorized("invalid_token", "the Authorization header must be Bearer <token>")
            })?;
        // What the device says it holds unsent (a number; anything else is ignored).
        let unsent = parts
            .headers
            .get(outpost_core::wire::UNSENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|n| *n <= 100_000_000);
        match state.store.authenticate(&hash_token(token), now_ms(), state.settings.token_ttl_ms(), unsent).await? {
            TokenCheck::Valid(device) => Ok(Device(device)),
            TokenCheck::Unknown => Err(ApiError::unauthorized("invalid_token", "this device token is not known")),
            TokenCheck::Expired => Err(ApiError::unauthorized(
                "token_expired",
                "this device has not synced for too long and its token expired; enrol it again",
            )),
            TokenCheck::Revoked => Err(ApiError::unauthorized(
                "device_revoked",
                "this device was revoked by a coordinator; its local data must be wiped",
            )),
        }
    }
}

/// The session cookie's value, if it has a plausible one.
fn session_token(jar: &CookieJar) -> Option<String> {
    jar.get(SESSION_COOKIE).map(|c| c.value().trim().to_string()).filter(|v| !v.is_empty() && v.len() <= 256)
}

/// Whether the CSRF token sent matches the session's (compared in constant time).
fn csrf_matches(sent: &str, expected: &str) -> bool {
    sent.len() == expected.len() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

/// A request from a logged-in person. Requests that change something must carry the session's
/// CSRF token.
pub struct WebSession(pub Session);

impl FromRequestParts<Arc<AppState>> for WebSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = session_token(&jar)
            .ok_or_else(|| ApiError::unauthorized("not_logged_in", "log in to use the dashboard"))?;
        let session = match accounts::check_session(&state.store, &token, now_ms()).await? {
            SessionCheck::Valid(session) => session,
            SessionCheck::Expired => {
                return Err(ApiError::unauthorized("session_expired", "your session ended; log in again"));
            }
            SessionCheck::Unknown => {
                return Err(ApiError::unauthorized("not_logged_in", "log in to use the dashboard"));
            }
        };
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !csrf_matches(sent, &session.csrf_token) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "this request lacks the page's security token; reload the page and try again",
                ));
            }
        }
        Ok(WebSession(session))
    }
}

/// A coordinator or an admin.
pub struct Coordinator(pub Session);

/// A user with a temporary password may only change it (`POST /api/v1/auth/password`).
fn password_change_required() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "password_change_required",
        "your password is a temporary one: choose your own first",
    )
}

impl FromRequestParts<Arc<AppState>> for Coordinator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let WebSession(session) = WebSession::from_request_parts(parts, state).await?;
        if !session.user.role.uses_dashboard() {
            return Err(ApiError::forbidden("the dashboard is for coordinators and admins"));
        }
        if session.user.password_temporary {
            return Err(password_change_required());
        }
        Ok(Coordinator(session))
    }
}

/// An admin.
pub struct Admin(pub Session);

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let WebSession(session) = WebSession::from_request_parts(parts, state).await?;
        if session.user.role != Role::Admin {
            return Err(ApiError::forbidden("only admins may see this"));
        }
        if session.user.password_temporary {
            return Err(password_change_required());
        }
        Ok(Admin(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; outpost_session=abc ; b=2"));
        assert_eq!(session_token(&CookieJar::from_headers(&headers)).as_deref(), Some("abc"));
        headers.insert(header::COOKIE, HeaderValue::from_static("outpost_session="));
        assert_eq!(session_token(&CookieJar::from_headers(&headers)), None);
        assert!(csrf_matches("abc", "abc"));
        assert!(!csrf_matches("abc", "abd"));
        assert!(!csrf_matches("abc", "ab"));
    }
}
