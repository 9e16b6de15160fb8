//! Accounts of people (the dashboard's coordinators and admins, and the workers whose tablets
//! are enrolled for them): roles, sites, Argon2id password hashes, sessions and an optional TOTP
//! second factor.
//!
//! Only hashes of passwords and session tokens are stored. A session ends after
//! [`SESSION_IDLE_MS`] without use or [`SESSION_MAX_MS`] after login, whichever comes first, and
//! every session of a user ends when their password, role or status changes.

use crate::db::sql::{Dialect, SqlValue, Statement};
use crate::db::{DbError, Storage};
use crate::tokens::{hash_token, new_token};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use serde::Serialize;
use thiserror::Error;

/// A session ends after this long without a request.
pub const SESSION_IDLE_MS: u64 = 30 * 60 * 1000;
/// A session ends this long after login whatever happens.
pub const SESSION_MAX_MS: u64 = 12 * 3600 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (hashing is costly; this bounds it).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// What a person may do. The matrix is in `docs/security.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    OutreachWorker,
    RoomStaff,
    Coordinator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::OutreachWorker, Role::RoomStaff, Role::Coordinator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::OutreachWorker => "outreach_worker",
            Role::RoomStaff => "room_staff",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Coordinators and admins use the dashboard; workers use tablets.
    pub fn uses_dashboard(self) -> bool {
        matches!(self, Role::Coordinator | Role::Admin)
    }
}

/// A site a user works at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserSite {
    pub id: String,
    pub name: String,
}

/// A user as the API and CLI show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    /// The sites the user sees: their own, or every site of the organisation for admins.
    pub sites: Vec<UserSite>,
    /// Whether a second factor is set up.
    pub totp: bool,
    #[serde(skip)]
    pub disabled: bool,
    #[serde(skip)]
    pub created_ms: i64,
}

impl User {
    pub fn site_ids(&self) -> Vec<String> {
        self.sites.iter().map(|s| s.id.clone()).collect()
    }
}

/// Why an account operation was refused.
#[derive(Debug, Error)]
pub enum AccountError {
    #[error("user names are 3 to 64 characters: lower-case letters, digits, '.', '_' or '-'")]
    InvalidUsername,
    #[error("{0}")]
    WeakPassword(String),
    #[error("unknown role {0:?}: use outreach_worker, room_staff, coordinator or admin")]
    UnknownRole(String),
    #[error("no site named {0:?} (see `outpost-server site list`)")]
    UnknownSite(String),
    #[error("a user named {0:?} already exists")]
    Exists(String),
    #[error("no user named {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Checks and normalises a user name (case does not matter).
pub fn normalise_username(name: &str) -> Result<String, AccountError> {
    let name = name.trim().to_lowercase();
    let ok = (3..=64).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(name) } else { Err(AccountError::InvalidUsername) }
}

/// Checks a new password.
pub fn check_password(username: &str, password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword(format!("passwords need at least {MIN_PASSWORD_CHARS} characters")));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword(format!("passwords are at most {MAX_PASSWORD_CHARS} characters")));
    }
    if password.to_lowercase().contains(username) {
        return Err(AccountError::WeakPassword("the password must not contain the user name".into()));
    }
    if password.chars().collect::<std::collections::HashSet<_>>().len() < 4 {
        return Err(AccountError::WeakPassword("the password repeats too few different characters".into()));
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    // OWASP's first Argon2id choice: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (PHC string with its salt and parameters). Takes tens of milliseconds: call
/// it from a blocking task.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Invalid(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches `hash`. A malformed hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, verified against when a login names an unknown user so that
/// the answer takes as long as for a known one.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

// --- TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) ---

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 without padding, as authenticator apps expect.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(BASE32[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32 (spaces and case ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32.iter().position(|&b| b as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            out.push(((buffer >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The 6-digit code of `secret` for time step `step`.
pub fn totp_code(secret: &[u8], step: u64) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else { return 0 };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    value % 1_000_000
}

/// The step a code matches, within one step of `now_ms` either way, if any.
pub fn totp_match(secret: &[u8], code: &str, now_ms: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let now_step = now_ms / 30_000;
    [now_step.saturating_sub(1), now_step, now_step + 1].into_iter().find(|&step| totp_code(secret, step) == wanted)
}

// --- Storage ---

async fn single_org<S: Storage>(storage: &S) -> Result<String, AccountError> {
    let d = storage.dialect();
    let rows = storage.query(Statement::new(format!("SELECT {} FROM orgs", d.text("id")), vec![])).await?;
    match rows.as_slice() {
        [row] => Ok(row[0].to_text()),
        _ => Err(AccountError::Invalid(format!(
            "this server has {} organisations; accounts need exactly one",
            rows.len()
        ))),
    }
}

async fn site_by_name<S: Storage>(storage: &S, name: &str) -> Result<UserSite, AccountError> {
    let d = storage.dialect();
    let rows = storage
        .query(Statement::new(
            format!("SELECT {}, name FROM sites WHERE name = {}", d.text("id"), d.p(1)),
            vec![name.into()],
        ))
        .await?;
    rows.first()
        .map(|r| UserSite { id: r[0].to_text(), name: r[1].to_text() })
        .ok_or_else(|| AccountError::UnknownSite(name.to_string()))
}

/// A stored account with its secrets, for login.
pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
}

fn user_columns(d: Dialect) -> String {
    format!("{}, username, role, password_hash, totp_secret, totp_last_step, disabled_ms, created_ms", d.text("id"))
}

async fn sites_of<S: Storage>(storage: &S, user_id: &str, role: Role) -> Result<Vec<UserSite>, DbError> {
    let d = storage.dialect();
    let statement = if role == Role::Admin {
        Statement::new(format!("SELECT {}, name FROM sites ORDER BY name", d.text("id")), vec![])
    } else {
        Statement::new(
            format!(
                "SELECT {}, s.name FROM user_sites us JOIN sites s ON s.id = us.site_id WHERE us.user_id = {} ORDER BY s.name",
                d.text("s.id"),
                d.p_uuid(1)
            ),
            vec![user_id.into()],
        )
    };
    Ok(storage
        .query(statement)
        .await?
        .into_iter()
        .map(|r| UserSite { id: r[0].to_text(), name: r[1].to_text() })
        .collect())
}

async fn load_users<S: Storage>(storage: &S, filter: Option<&str>) -> Result<Vec<StoredUser>, DbError> {
    let d = storage.dialect();
    let statement = match filter {
        Some(name) => Statement::new(
            format!("SELECT {} FROM users WHERE username = {}", user_columns(d), d.p(1)),
            vec![name.into()],
        ),
        None => Statement::new(format!("SELECT {} FROM users ORDER BY username", user_columns(d)), vec![]),
    };
    let mut out = Vec::new();
    for r in storage.query(statement).await? {
        let role = Role::parse(&r[2].to_text()).ok_or_else(|| DbError::Corrupt(format!("unknown role {:?}", r[2])))?;
        let id = r[0].to_text();
        let sites = sites_of(storage, &id, role).await?;
        out.push(StoredUser {
            user: User {
                id,
                username: r[1].to_text(),
                role,
                sites,
                totp: r[4] != SqlValue::Null,
                disabled: r[6] != SqlValue::Null,
                created_ms: r[7].as_i64().unwrap_or(0),
            },
            password_hash: r[3].to_text(),
            totp_secret: r[4].as_str().map(str::to_string),
            totp_last_step: r[5].as_i64().unwrap_or(0),
        });
    }
    Ok(out)
}

/// Looks a user up by name (any case).
pub async fn find_user<S: Storage>(storage: &S, username: &str) -> Result<Option<StoredUser>, DbError> {
    let name = username.trim().to_lowercase();
    Ok(load_users(storage, Some(&name)).await?.into_iter().next())
}

async fn existing<S: Storage>(storage: &S, username: &str) -> Result<StoredUser, AccountError> {
    let name = normalise_username(username)?;
    find_user(storage, &name).await?.ok_or(AccountError::NotFound(name))
}

/// Every user, by name.
pub async fn list_users<S: Storage>(storage: &S) -> Result<Vec<User>, DbError> {
    Ok(load_users(storage, None).await?.into_iter().map(|u| u.user).collect())
}

/// Creates a user working at `sites` (names).
pub async fn create_user<S: Storage>(
    storage: &S,
    username: &str,
    password: &str,
    role: Role,
    sites: &[String],
    now_ms: u64,
) -> Result<User, AccountError> {
    let username = normalise_username(username)?;
    check_password(&username, password)?;
    if find_user(storage, &username).await?.is_some() {
        return Err(AccountError::Exists(username));
    }
    let org = single_org(storage).await?;
    let mut site_ids = Vec::new();
    for name in sites {
        site_ids.push(site_by_name(storage, name).await?.id);
    }
    let hash = {
        let password = password.to_string();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AccountError::Invalid(format!("hashing failed: {e}")))??
    };
    let d = storage.dialect();
    let id = uuid::Uuid::now_v7().to_string();
    let mut statements = vec![Statement::new(
        format!(
            "INSERT INTO users (id, org_id, username, password_hash, role, created_ms) VALUES ({}, {}, {}, {}, {}, {})",
            d.p_uuid(1),
            d.p_uuid(2),
            d.p(3),
            d.p(4),
            d.p(5),
            d.p(6)
        ),
        vec![id.clone().into(), org.into(), username.clone().into(), hash.into(), role.as_str().into(), now_ms.into()],
    )];
    for site in site_ids {
        statements.push(add_site_statement(d, &id, &site));
    }
    match storage.execute(statements).await {
        Ok(_) => {}
        // Two admins adding the same name at once: the unique index decides.
        Err(DbError::Backend(e)) if e.to_lowercase().contains("unique") => return Err(AccountError::Exists(username)),
        Err(e) => return Err(e.into()),
    }
    Ok(existing(storage, &username).await?.user)
}

fn add_site_statement(d: Dialect, user_id: &str, site_id: &str) -> Statement {
    let conflict = "ON CONFLICT DO NOTHING";
    Statement::new(
        format!("INSERT INTO user_sites (user_id, site_id) VALUES ({}, {}) {conflict}", d.p_uuid(1), d.p_uuid(2)),
        vec![user_id.into(), site_id.into()],
    )
}

fn end_sessions_statement(d: Dialect, user_id: &str) -> Statement {
    Statement::new(format!("DELETE FROM sessions WHERE user_id = {}", d.p_uuid(1)), vec![user_id.into()])
}

/// Disables an account: it cannot log in, its sessions end, and its tablets stop syncing
/// (their tokens are revoked).
pub async fn disable_user<S: Storage>(storage: &S, username: &str, now_ms: u64) -> Result<User, AccountError> {
    let stored = existing(storage, username).await?;
    let d = storage.dialect();
    let id = stored.user.id.clone();
    storage
        .execute(vec![
            Statement::new(
                format!("UPDATE users SET disabled_ms = {} WHERE id = {} AND disabled_ms IS NULL", d.p(1), d.p_uuid(2)),
                vec![now_ms.into(), id.clone().into()],
            ),
            Statement::new(
                format!(
                    "UPDATE devices SET revoked_ms = {} WHERE user_id = {} AND revoked_ms IS NULL",
                    d.p(1),
                    d.p_uuid(2)
                ),
                vec![now_ms.into(), id.clone().into()],
            ),
            end_sessions_statement(d, &id),
        ])
        .await?;
    Ok(existing(storage, username).await?.user)
}

/// Changes a user's role; their sessions end.
pub async fn set_role<S: Storage>(storage: &S, username: &str, role: Role) -> Result<User, AccountError> {
    let stored = existing(storage, username).await?;
    let d = storage.dialect();
    storage
        .execute(vec![
            Statement::new(
                format!("UPDATE users SET role = {} WHERE id = {}", d.p(1), d.p_uuid(2)),
                vec![role.as_str().into(), stored.user.id.clone().into()],
            ),
            end_sessions_statement(d, &stored.user.id),
        ])
        .await?;
    Ok(existing(storage, username).await?.user)
}

/// Sets a new password; every session of the user ends.
pub async fn set_password<S: Storage>(storage: &S, username: &str, password: &str) -> Result<(), AccountError> {
    let stored = existing(storage, username).await?;
    check_password(&stored.user.username, password)?;
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Invalid(format!("hashing failed: {e}")))??;
    let d = storage.dialect();
    storage
        .execute(vec![
            Statement::new(
                format!("UPDATE users SET password_hash = {} WHERE id = {}", d.p(1), d.p_uuid(2)),
                vec![hash.into(), stored.user.id.clone().into()],
            ),
            end_sessions_statement(d, &stored.user.id),
        ])
        .await?;
    Ok(())
}

/// Adds a site to a user.
pub async fn add_site<S: Storage>(storage: &S, username: &str, site: &str) -> Result<User, AccountError> {
    let stored = existing(storage, username).await?;
    let site = site_by_name(storage, site).await?;
    storage.execute(vec![add_site_statement(storage.dialect(), &stored.user.id, &site.id)]).await?;
    Ok(existing(storage, username).await?.user)
}

/// Removes a site from a user. Tablets enrolled for the user lose the site too: they stop
/// receiving its records and may no longer send any.
pub async fn remove_site<S: Storage>(storage: &S, username: &str, site: &str) -> Result<User, AccountError> {
    let stored = existing(storage, username).await?;
    let site = site_by_name(storage, site).await?;
    let d = storage.dialect();
    storage
        .execute(vec![
            Statement::new(
                format!("DELETE FROM user_sites WHERE user_id = {} AND site_id = {}", d.p_uuid(1), d.p_uuid(2)),
                vec![stored.user.id.clone().into(), site.id.clone().into()],
            ),
            Statement::new(
                format!(
                    "DELETE FROM device_sites WHERE site_id = {} AND device_id IN (SELECT id FROM devices WHERE user_id = {})",
                    d.p_uuid(1),
                    d.p_uuid(2)
                ),
                vec![site.id.into(), stored.user.id.clone().into()],
            ),
        ])
        .await?;
    Ok(existing(storage, username).await?.user)
}

/// Sets up a new TOTP secret for a user and returns it (base32); their sessions end.
pub async fn enable_totp<S: Storage>(storage: &S, username: &str) -> Result<String, AccountError> {
    let stored = existing(storage, username).await?;
    let secret = base32_encode(&rand::random::<[u8; 20]>());
    let d = storage.dialect();
    storage
        .execute(vec![
            Statement::new(
                format!("UPDATE users SET totp_secret = {}, totp_last_step = 0 WHERE id = {}", d.p(1), d.p_uuid(2)),
                vec![secret.clone().into(), stored.user.id.clone().into()],
            ),
            end_sessions_statement(d, &stored.user.id),
        ])
        .await?;
    Ok(secret)
}

/// Records that a TOTP step was used, unless it (or a later one) already was. Returns whether
/// the step was still unused, so a code works once.
pub async fn use_totp_step<S: Storage>(storage: &S, user_id: &str, step: u64) -> Result<bool, DbError> {
    let d = storage.dialect();
    let changed = storage
        .execute(vec![Statement::new(
            format!(
                "UPDATE users SET totp_last_step = {} WHERE id = {} AND totp_last_step < {}",
                d.p(1),
                d.p_uuid(2),
                d.p(1)
            ),
            vec![step.into(), user_id.into()],
        )])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) == 1)
}

/// A logged-in session.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub token_hash: String,
}

/// The outcome of looking a session cookie up.
#[derive(Clone, Debug)]
pub enum SessionCheck {
    Valid(Session),
    Expired,
    Unknown,
}

/// Opens a session for a user; returns the token for the cookie and the CSRF token.
pub async fn create_session<S: Storage>(
    storage: &S,
    user_id: &str,
    address: Option<String>,
    now_ms: u64,
) -> Result<(String, String), DbError> {
    let token = new_token();
    let csrf = new_token();
    let d = storage.dialect();
    storage
        .execute(vec![
            // Sessions that ended are removed as new ones start.
            Statement::new(
                format!("DELETE FROM sessions WHERE expires_ms < {} OR last_seen_ms < {}", d.p(1), d.p(2)),
                vec![now_ms.into(), now_ms.saturating_sub(SESSION_IDLE_MS).into()],
            ),
            Statement::new(
                format!(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_ms, last_seen_ms, expires_ms, address)
                     VALUES ({}, {}, {}, {}, {}, {}, {})",
                    d.p(1),
                    d.p_uuid(2),
                    d.p(3),
                    d.p(4),
                    d.p(4),
                    d.p(5),
                    d.p(6)
                ),
                vec![
                    hash_token(&token).into(),
                    user_id.into(),
                    csrf.clone().into(),
                    now_ms.into(),
                    now_ms.saturating_add(SESSION_MAX_MS).into(),
                    address.into(),
                ],
            ),
        ])
        .await?;
    Ok((token, csrf))
}

/// Checks a session token and keeps the session alive.
pub async fn check_session<S: Storage>(storage: &S, token: &str, now_ms: u64) -> Result<SessionCheck, DbError> {
    let d = storage.dialect();
    let token_hash = hash_token(token);
    let rows = storage
        .query(Statement::new(
            format!(
                "SELECT u.username, s.csrf_token, s.expires_ms, s.last_seen_ms, u.disabled_ms FROM sessions s
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = {}",
                d.p(1)
            ),
            vec![token_hash.clone().into()],
        ))
        .await?;
    let Some(row) = rows.first() else { return Ok(SessionCheck::Unknown) };
    let expires = row[2].as_i64().unwrap_or(0) as u64;
    let last_seen = row[3].as_i64().unwrap_or(0) as u64;
    let end = || {
        Statement::new(format!("DELETE FROM sessions WHERE token_hash = {}", d.p(1)), vec![token_hash.clone().into()])
    };
    if row[4] != SqlValue::Null {
        storage.execute(vec![end()]).await?;
        return Ok(SessionCheck::Unknown);
    }
    if now_ms >= expires || now_ms.saturating_sub(last_seen) >= SESSION_IDLE_MS {
        storage.execute(vec![end()]).await?;
        return Ok(SessionCheck::Expired);
    }
    // Touch at most once a minute: a page of requests does not become a page of writes.
    if now_ms.saturating_sub(last_seen) > 60_000 {
        storage
            .execute(vec![Statement::new(
                format!("UPDATE sessions SET last_seen_ms = {} WHERE token_hash = {}", d.p(1), d.p(2)),
                vec![now_ms.into(), token_hash.clone().into()],
            )])
            .await?;
    }
    let Some(stored) = find_user(storage, &row[0].to_text()).await? else { return Ok(SessionCheck::Unknown) };
    Ok(SessionCheck::Valid(Session { user: stored.user, csrf_token: row[1].to_text(), token_hash }))
}

/// Ends a session.
pub async fn end_session<S: Storage>(storage: &S, token_hash: &str) -> Result<(), DbError> {
    let d = storage.dialect();
    storage
        .execute(vec![Statement::new(
            format!("DELETE FROM sessions WHERE token_hash = {}", d.p(1)),
            vec![token_hash.into()],
        )])
        .await?;
    Ok(())
}

/// Ties an enrolment code to the worker the tablet is for.
pub async fn assign_code<S: Storage>(storage: &S, code_hash: &str, username: &str) -> Result<User, AccountError> {
    let stored = existing(storage, username).await?;
    let d = storage.dialect();
    storage
        .execute(vec![Statement::new(
            format!("UPDATE enrollment_codes SET user_id = {} WHERE code_hash = {}", d.p_uuid(1), d.p(2)),
            vec![stored.user.id.clone().into(), code_hash.into()],
        )])
        .await?;
    Ok(stored.user)
}

/// Accounts in a full export (`outpost-server export`): users with their password hashes and
/// second-factor secrets, their sites, and which worker each tablet and code belongs to.
/// Sessions are not exported: after a move everyone logs in again.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct AccountsDump {
    pub users: Vec<UserDumpRow>,
    /// (user id, site id)
    pub user_sites: Vec<(String, String)>,
    /// (device id, user id)
    pub device_users: Vec<(String, String)>,
    /// (enrolment code hash, user id)
    pub code_users: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct UserDumpRow {
    pub id: String,
    pub org_id: String,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
}

/// Reads every account for an export.
pub async fn export_accounts<S: Storage>(storage: &S) -> Result<AccountsDump, DbError> {
    let d = storage.dialect();
    let q = |sql: String| storage.query(Statement::new(sql, vec![]));
    let users = q(format!(
        "SELECT {}, {}, username, password_hash, role, totp_secret, totp_last_step, created_ms, disabled_ms FROM users ORDER BY username",
        d.text("id"),
        d.text("org_id")
    ))
    .await?
    .into_iter()
    .map(|r| UserDumpRow {
        id: r[0].to_text(),
        org_id: r[1].to_text(),
        username: r[2].to_text(),
        password_hash: r[3].to_text(),
        role: r[4].to_text(),
        totp_secret: r[5].as_str().map(str::to_string),
        totp_last_step: r[6].as_i64().unwrap_or(0),
        created_ms: r[7].as_i64().unwrap_or(0),
        disabled_ms: r[8].as_i64(),
    })
    .collect();
    let pairs = |rows: Vec<crate::db::sql::Row>| rows.into_iter().map(|r| (r[0].to_text(), r[1].to_text())).collect();
    let user_sites =
        pairs(q(format!("SELECT {}, {} FROM user_sites ORDER BY 1, 2", d.text("user_id"), d.text("site_id"))).await?);
    let device_users = pairs(
        q(format!("SELECT {}, {} FROM devices WHERE user_id IS NOT NULL ORDER BY 1", d.text("id"), d.text("user_id")))
            .await?,
    );
    let code_users = pairs(
        q(format!(
            "SELECT code_hash, {} FROM enrollment_codes WHERE user_id IS NOT NULL ORDER BY 1",
            d.text("user_id")
        ))
        .await?,
    );
    Ok(AccountsDump { users, user_sites, device_users, code_users })
}

/// The statements that load exported accounts; run inside the import's transaction, after the
/// sites, devices and codes they refer to.
pub fn import_statements(d: Dialect, dump: &AccountsDump) -> Vec<Statement> {
    let mut out = Vec::new();
    for u in &dump.users {
        out.push(Statement::new(
            format!(
                "INSERT INTO users (id, org_id, username, password_hash, role, totp_secret, totp_last_step, created_ms, disabled_ms)
                 VALUES ({}, {}, {}, {}, {}, {}, {}, {}, CAST({} AS BIGINT))",
                d.p_uuid(1),
                d.p_uuid(2),
                d.p(3),
                d.p(4),
                d.p(5),
                d.p(6),
                d.p(7),
                d.p(8),
                // A NULL is bound as text; the cast gives PostgreSQL the column's type.
                d.p(9)
            ),
            vec![
                u.id.clone().into(),
                u.org_id.clone().into(),
                u.username.clone().into(),
                u.password_hash.clone().into(),
                u.role.clone().into(),
                u.totp_secret.clone().into(),
                u.totp_last_step.into(),
                u.created_ms.into(),
                u.disabled_ms.into(),
            ],
        ));
    }
    for (user, site) in &dump.user_sites {
        out.push(add_site_statement(d, user, site));
    }
    for (device, user) in &dump.device_users {
        out.push(Statement::new(
            format!("UPDATE devices SET user_id = {} WHERE id = {}", d.p_uuid(1), d.p_uuid(2)),
            vec![user.clone().into(), device.clone().into()],
        ));
    }
    for (code, user) in &dump.code_users {
        out.push(Statement::new(
            format!("UPDATE enrollment_codes SET user_id = {} WHERE code_hash = {}", d.p_uuid(1), d.p(2)),
            vec![user.clone().into(), code.clone().into()],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_matches_the_rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", last 6 digits.
        let secret = b"12345678901234567890";
        assert_eq!(totp_code(secret, 59 / 30), 287_082);
        assert_eq!(totp_code(secret, 1_111_111_109 / 30), 81_804);
        assert_eq!(totp_code(secret, 1_234_567_890 / 30), 5_924);
        assert_eq!(totp_code(secret, 2_000_000_000 / 30), 279_037);
        assert_eq!(totp_match(secret, "081804", 1_111_111_109_000), Some(1_111_111_109 / 30));
        // 1 111 111 109 s is one second before a step boundary.
        assert_eq!(totp_match(secret, "081804", 1_111_111_109_000 + 1_000), Some(1_111_111_109 / 30), "one step late");
        assert_eq!(totp_match(secret, "081804", 1_111_111_109_000 + 31_000), None, "two steps late");
        assert_eq!(totp_match(secret, "81804", 1_111_111_109_000), None, "six digits");
    }

    #[test]
    fn base32_round_trips() {
        let bytes: [u8; 20] = rand::random();
        assert_eq!(base32_decode(&base32_encode(&bytes)).as_deref(), Some(&bytes[..]));
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw 6ytb oi"), Some(b"foobar".to_vec()));
        assert_eq!(base32_decode("1"), None);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert_eq!(normalise_username(" Olena.K ").ok().as_deref(), Some("olena.k"));
        assert!(normalise_username("a").is_err());
        assert!(normalise_username("robert'); DROP TABLE users;--").is_err());
        assert!(check_password("olena", "short").is_err());
        assert!(check_password("olena", "olena-2026-xyz").is_err());
        assert!(check_password("olena", "aaaaaaaaaaaa").is_err());
        assert!(check_password("olena", "river-stone-42").is_ok());
    }
}
