//! Web sessions for the dashboard: login (password, then TOTP when set up), logout and the
//! current session.
//!
//! The session cookie is `HttpOnly; Secure; SameSite=Strict`; every request that changes
//! something must also carry the session's CSRF token in `X-CSRF-Token`. Failed logins are
//! limited per address and per account, and every login, failure and logout is audited.

use crate::AppState;
use crate::http::audit;
use crate::http::client::{ClientAddr, limit_key};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, SESSION_COOKIE, WebSession};
use crate::services::accounts::{self, User};
use crate::time::now_ms;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use outpost_core::wire::ErrorBody;
use outpost_server_store::audit::AuditEvent;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

#[derive(Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The 6-digit code of the authenticator app, for accounts with a second factor.
    #[serde(default)]
    #[ts(optional)]
    pub totp: Option<String>,
}

/// A logged-in user and the token to send back on changes.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SessionInfo {
    pub user: User,
    /// Send it as `X-CSRF-Token` on every request that changes something.
    pub csrf_token: String,
}

fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn session_cookie(value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

/// Logs in: password, then the second factor when the account has one.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "sessions", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = SessionInfo),
        (status = 401, description = "`login_failed` (the message does not say which part was wrong), `totp_required`", body = ErrorBody),
        (status = 422, description = "`invalid_field`: name or password too long", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
        (status = 503, description = "`busy`: too many password checks at once, with `Retry-After`", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<(CookieJar, Json<SessionInfo>), ApiError> {
    let address = client;
    // Limits count an IPv6 client by its /64.
    let limited = limit_key(address);
    let account = printable(&request.username.trim().to_lowercase(), 64);
    if request.username.chars().count() > 64 || request.password.chars().count() > accounts::MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid_field("the user name or password is too long"));
    }
    // Counted as failed before the password is checked (and given back on success), in the same
    // step as the limit check: parallel attempts cannot all pass the limit.
    let now = Instant::now();
    let by_address = state.login_failures.attempt(&limited, now, "logins from this address")?;
    let by_account = match state.account_failures.attempt(&account, now, "logins for this account") {
        Ok(at) => at,
        Err(refusal) => {
            state.login_failures.forgive(&limited, by_address);
            return Err(refusal);
        }
    };
    let forgive = || {
        state.login_failures.forgive(&limited, by_address);
        state.account_failures.forgive(&account, by_account);
    };
    let stored = match accounts::find_user(&state.store, &account).await {
        Ok(stored) => stored,
        Err(e) => {
            forgive();
            return Err(e.into());
        }
    };
    let hash = stored.as_ref().map_or_else(|| accounts::decoy_hash().to_string(), |s| s.password_hash.clone());
    let password = request.password.clone();
    let password_ok =
        match state.password_checks.check(move |memory| accounts::verify_password_in(memory, &hash, &password)).await {
            Ok(ok) => ok,
            Err(busy) => {
                forgive(); // not checked: not a failure
                return Err(busy);
            }
        };
    // What was typed as the name of an account that does not exist may be a password typed in
    // the wrong field: it is recorded only as a keyed tag (repeated attempts share it).
    let audited =
        if stored.is_some() { account.clone() } else { format!("unknown:{}", state.store.key().name_tag(&account)) };
    let failed = |reason: &'static str| {
        let state = state.clone();
        let account = account.clone();
        let audited = audited.clone();
        async move {
            let event = AuditEvent::new(&format!("user:{audited}"), "login.failed", audited.clone(), reason)
                .from_address(address.to_string());
            audit::noted(&state, event).await;
            // The failure that reaches a limit locks logins out: recorded once, when it happens.
            let now = Instant::now();
            if state.account_failures.just_reached_limit(&account, now) {
                let event = AuditEvent::new(&format!("user:{audited}"), "login.lockout", audited.clone(), "account")
                    .from_address(address.to_string());
                audit::noted(&state, event).await;
            }
            if state.login_failures.just_reached_limit(&limited, now) {
                let event = AuditEvent::new("anonymous", "login.lockout", address.to_string(), "address")
                    .from_address(address.to_string());
                audit::noted(&state, event).await;
            }
        }
    };
    let Some(stored) = stored.filter(|s| password_ok && !s.user.disabled) else {
        failed("wrong user name or password, or account disabled").await;
        return Err(ApiError::unauthorized("login_failed", "wrong user name or password"));
    };
    if let Some(secret) = stored.totp_secret.as_deref().and_then(accounts::totp_secret_bytes) {
        let Some(code) = request.totp.as_deref().filter(|c| !c.trim().is_empty()) else {
            return Err(ApiError::unauthorized("totp_required", "enter the 6-digit code from your authenticator app"));
        };
        let fresh = match accounts::totp_match(&secret, code, now_ms()) {
            Some(step) if (step as i64) > stored.totp_last_step => {
                let id = stored.user.id.parse().map_err(ApiError::internal)?;
                state.store.use_totp_step(id, step).await?
            }
            _ => false,
        };
        if !fresh {
            failed("wrong or reused second-factor code").await;
            return Err(ApiError::unauthorized(
                "totp_required",
                "that code is wrong or was already used; enter the current code",
            ));
        }
    }
    forgive();
    let (token, csrf) =
        accounts::create_session(&state.store, &stored.user.id, Some(address.to_string()), now_ms()).await?;
    state.account_failures.clear(&account);
    let event = AuditEvent::new(
        &format!("user:{}", stored.user.username),
        "login",
        stored.user.username.clone(),
        stored.user.role.as_str(),
    )
    .from_address(address.to_string());
    audit::noted(&state, event).await;
    let cookie = session_cookie(token, (accounts::SESSION_MAX_MS / 1000) as i64);
    Ok((jar.add(cookie), Json(SessionInfo { user: stored.user, csrf_token: csrf })))
}

/// The logged-in user and the session's CSRF token.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "sessions", security(("session" = [])),
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, description = "`not_logged_in`, `session_expired`", body = ErrorBody),
    )
)]
pub async fn me(session: WebSession) -> Json<SessionInfo> {
    Json(SessionInfo { user: session.0.user, csrf_token: session.0.csrf_token })
}

/// Ends the session.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "sessions", security(("session" = []), ("csrf" = [])),
    responses(
        (status = 204, description = "Logged out; the cookie is cleared"),
        (status = 401, description = "`not_logged_in`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    session: WebSession,
) -> Result<Response, ApiError> {
    state.store.end_session(&session.0.token_hash).await?;
    let name = session.0.user.username.clone();
    audit::noted(&state, AuditEvent::new(&format!("user:{name}"), "logout", name, "").from_address(client.to_string()))
        .await;
    Ok((jar.add(session_cookie(String::new(), 0)), StatusCode::NO_CONTENT).into_response())
}

/// A new password in place of the current one.
#[derive(Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the logged-in user's password (the way out of a temporary one). Every session of the
/// user ends, this one too: log in again with the new password. A wrong current password counts
/// as a failed login for the account.
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "sessions", security(("session" = []), ("csrf" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; every session of the user ended and the cookie is cleared"),
        (status = 401, description = "`not_logged_in`, `session_expired`", body = ErrorBody),
        (status = 403, description = "`wrong_password`: the current password is wrong; `csrf_failed`", body = ErrorBody),
        (status = 422, description = "`invalid_field`: the new password breaks a rule (length, the user name in it, the same as before)", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
        (status = 503, description = "`busy`, with `Retry-After`", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    session: WebSession,
    ApiJson(request): ApiJson<PasswordChange>,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let session = session.0;
    let user = &session.user;
    if request.current_password.chars().count() > accounts::MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid_field("the current password is too long"));
    }
    accounts::check_password(&user.username, &request.new_password)?;
    if request.new_password == request.current_password {
        return Err(ApiError::invalid_field("the new password must differ from the current one"));
    }
    let now = Instant::now();
    let attempt = state.account_failures.attempt(&user.username, now, "password checks for this account")?;
    let stored = accounts::find_user(&state.store, &user.username)
        .await?
        .ok_or_else(|| ApiError::unauthorized("not_logged_in", "log in to use the dashboard"))?;
    let (hash, current) = (stored.password_hash.clone(), request.current_password.clone());
    let right =
        match state.password_checks.check(move |memory| accounts::verify_password_in(memory, &hash, &current)).await {
            Ok(ok) => ok,
            Err(busy) => {
                state.account_failures.forgive(&user.username, attempt);
                return Err(busy);
            }
        };
    if !right {
        let event = audit::by_user(&session, client, "password.failed", user.username.clone(), String::new());
        audit::noted(&state, event).await;
        return Err(ApiError::new(StatusCode::FORBIDDEN, "wrong_password", "the current password is wrong"));
    }
    state.account_failures.forgive(&user.username, attempt);
    let detail = "changed by the user; sessions ended".to_string();
    audit::required(&state, audit::by_user(&session, client, "user.password", user.username.clone(), detail)).await?;
    accounts::set_password(&state.store, &user.username, &request.new_password).await?;
    Ok((StatusCode::NO_CONTENT, jar.add(session_cookie(String::new(), 0))))
}
