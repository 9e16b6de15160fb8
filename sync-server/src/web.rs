//! Web sessions for the dashboard: login (password, then TOTP when set up), logout, the
//! session cookie, CSRF checks and the role checks every dashboard handler starts with.
//!
//! The session cookie is `HttpOnly; Secure; SameSite=Strict`; every request that changes
//! something must also carry the session's CSRF token in `X-CSRF-Token`. Failed logins are
//! limited per address and per account, and every login, failure and logout is audited.

use crate::AppState;
use crate::accounts::{self, Role, SessionCheck, User};
use crate::api::ApiJson;
use crate::db::{AuditEvent, Storage};
use crate::error::ApiError;
use crate::time::now_ms;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "outpost_session";
/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub totp: Option<String>,
}

/// A logged-in user and the token to send back on changes.
#[derive(Serialize)]
pub struct SessionInfo {
    pub user: User,
    pub csrf_token: String,
}

fn rate_limited(wait: std::time::Duration, what: &str) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many failed logins {what}: try again in {seconds} seconds"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

async fn audit<S: Storage>(state: &AppState<S>, event: AuditEvent) {
    if let Err(e) = state.storage.append_audit(event, now_ms()).await {
        tracing::error!(error = %e, "could not write an audit entry");
    }
}

/// `POST /api/v1/auth/login`.
pub async fn login<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Response {
    let address = peer.ip();
    let account = printable(&request.username.trim().to_lowercase(), 64);
    let now = Instant::now();
    if let Some(wait) = state.login_failures.retry_after(&address, now) {
        return rate_limited(wait, "from this address");
    }
    if let Some(wait) = state.account_failures.retry_after(&account, now) {
        return rate_limited(wait, "for this account");
    }
    if request.username.chars().count() > 64 || request.password.chars().count() > accounts::MAX_PASSWORD_CHARS {
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "the user name or password is too long",
        )
        .into_response();
    }
    let stored = match accounts::find_user(&state.storage, &account).await {
        Ok(stored) => stored,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let hash = stored.as_ref().map_or_else(|| accounts::decoy_hash().to_string(), |s| s.password_hash.clone());
    let password = request.password.clone();
    let password_ok =
        tokio::task::spawn_blocking(move || accounts::verify_password(&hash, &password)).await.unwrap_or(false);
    let failed = |reason: &'static str| {
        let state = state.clone();
        let account = account.clone();
        async move {
            state.login_failures.failed(&address, Instant::now());
            state.account_failures.failed(&account, Instant::now());
            let event = AuditEvent {
                address: Some(address.to_string()),
                ..AuditEvent::new(&format!("user:{account}"), "login.failed", account.clone(), reason)
            };
            audit(&state, event).await;
        }
    };
    let Some(stored) = stored.filter(|s| password_ok && !s.user.disabled) else {
        failed("wrong user name or password, or account disabled").await;
        return ApiError::unauthorized("login_failed", "wrong user name or password").into_response();
    };
    if let Some(secret) = stored.totp_secret.as_deref().and_then(accounts::base32_decode) {
        let Some(code) = request.totp.as_deref().filter(|c| !c.trim().is_empty()) else {
            return ApiError::unauthorized("totp_required", "enter the 6-digit code from your authenticator app")
                .into_response();
        };
        let step = accounts::totp_match(&secret, code, crate::time::now_ms());
        let fresh = match step {
            Some(step) if (step as i64) > stored.totp_last_step => {
                match accounts::use_totp_step(&state.storage, &stored.user.id, step).await {
                    Ok(fresh) => fresh,
                    Err(e) => return ApiError::from(e).into_response(),
                }
            }
            _ => false,
        };
        if !fresh {
            failed("wrong or reused second-factor code").await;
            return ApiError::unauthorized(
                "totp_required",
                "that code is wrong or was already used; enter the current code",
            )
            .into_response();
        }
    }
    let (token, csrf) =
        match accounts::create_session(&state.storage, &stored.user.id, Some(address.to_string()), now_ms()).await {
            Ok(pair) => pair,
            Err(e) => return ApiError::from(e).into_response(),
        };
    state.account_failures.clear(&account);
    let event = AuditEvent {
        address: Some(address.to_string()),
        ..AuditEvent::new(
            &format!("user:{}", stored.user.username),
            "login",
            stored.user.username.clone(),
            stored.user.role.as_str(),
        )
    };
    audit(&state, event).await;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        accounts::SESSION_MAX_MS / 1000
    );
    let mut response = Json(SessionInfo { user: stored.user, csrf_token: csrf }).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /api/v1/auth/me`.
pub async fn me(session: WebSession) -> Json<SessionInfo> {
    Json(SessionInfo { user: session.0.user, csrf_token: session.0.csrf_token })
}

/// `POST /api/v1/auth/logout`.
pub async fn logout<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: WebSession,
) -> Result<Response, ApiError> {
    accounts::end_session(&state.storage, &session.0.token_hash).await?;
    let name = session.0.user.username.clone();
    audit(
        &state,
        AuditEvent {
            address: Some(peer.ip().to_string()),
            ..AuditEvent::new(&format!("user:{name}"), "logout", name, "")
        },
    )
    .await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

fn same_secret(a: &str, b: &str) -> bool {
    // Constant time in the length of the shorter input: no early exit on the first difference.
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A request from a logged-in person. Requests that change something must carry the session's
/// CSRF token.
pub struct WebSession(pub accounts::Session);

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for WebSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<S>>) -> Result<Self, Self::Rejection> {
        let token = session_cookie(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("not_logged_in", "log in to use the dashboard"))?;
        let session = match accounts::check_session(&state.storage, &token, now_ms()).await? {
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
            if !same_secret(sent, &session.csrf_token) {
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
pub struct Coordinator(pub accounts::Session);

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for Coordinator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<S>>) -> Result<Self, Self::Rejection> {
        let WebSession(session) = WebSession::from_request_parts(parts, state).await?;
        if !session.user.role.uses_dashboard() {
            return Err(forbidden("the dashboard is for coordinators and admins"));
        }
        Ok(Coordinator(session))
    }
}

/// An admin.
pub struct Admin(pub accounts::Session);

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<S>>) -> Result<Self, Self::Rejection> {
        let WebSession(session) = WebSession::from_request_parts(parts, state).await?;
        if session.user.role != Role::Admin {
            return Err(forbidden("only admins may see this"));
        }
        Ok(Admin(session))
    }
}

/// `403 forbidden` with a message.
pub fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; outpost_session=abc ; b=2"));
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        headers.insert(header::COOKIE, HeaderValue::from_static("outpost_session="));
        assert_eq!(session_cookie(&headers), None);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
