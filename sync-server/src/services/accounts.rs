//! Accounts of people (the dashboard's coordinators and admins, and the workers whose tablets
//! are enrolled for them): roles, sites, Argon2id password hashes, sessions and an optional TOTP
//! second factor (RFC 6238, by `totp-rs`). The rows are the store's; the rules are here.
//!
//! Only hashes of passwords and session tokens are stored. A session ends after
//! [`SESSION_IDLE_MS`] without use or [`SESSION_MAX_MS`] after login, whichever comes first, and
//! every session of a user ends when their password, role or status changes.

use crate::services::tokens::{hash_token, new_token};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use outpost_core::SiteId;
use outpost_core::wire::SiteRef;
use outpost_server_store::accounts::{NewSession, NewUser, UserChange, UserRow};
use outpost_server_store::{DbError, Store};
use serde::Serialize;
use thiserror::Error;
use totp_rs::{Algorithm as TotpAlgorithm, Builder, Secret, Totp};

/// A session ends after this long without a request.
pub const SESSION_IDLE_MS: u64 = 30 * 60 * 1000;
/// A session ends this long after login whatever happens.
pub const SESSION_MAX_MS: u64 = 12 * 3600 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (hashing is costly; this bounds it).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// What a person may do. The matrix is in `docs/security.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema, ts_rs::TS)]
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

/// A user as the API and CLI show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    /// The sites the user sees: their own, or every site of the organisation for admins.
    pub sites: Vec<SiteRef>,
    /// Whether a second factor is set up.
    pub totp: bool,
    /// The password is a temporary one an administrator gave out: the dashboard asks for a new
    /// one before anything else.
    pub password_temporary: bool,
    #[serde(skip)]
    pub disabled: bool,
    #[serde(skip)]
    pub created_ms: i64,
    #[serde(skip)]
    pub last_login_ms: Option<i64>,
}

impl User {
    pub fn site_ids(&self) -> Vec<SiteId> {
        self.sites.iter().map(|s| s.id).collect()
    }

    /// Whether the user may see records of `site`.
    pub fn sees(&self, site: Option<SiteId>) -> bool {
        self.role == Role::Admin || site.is_some_and(|s| self.sites.iter().any(|mine| mine.id == s))
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

/// Hashes a password (PHC string with its salt and parameters). Takes tens of milliseconds:
/// [`hash_password_blocking`] runs it off the async threads.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Invalid(format!("cannot hash the password: {e}")))
}

async fn hash_password_blocking(password: &str) -> Result<String, AccountError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Invalid(format!("hashing failed: {e}")))?
}

/// Whether `password` matches `hash`. A malformed hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Argon2's working memory, kept between checks: a login's check reuses it instead of
/// allocating 19 MiB (memory the allocator may never give back under a flood of logins).
#[derive(Default)]
pub struct PasswordMemory {
    blocks: Vec<argon2::Block>,
}

impl std::fmt::Debug for PasswordMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordMemory({} blocks)", self.blocks.len())
    }
}

/// [`verify_password`] with Argon2's working memory taken from (and grown in) `memory`. Hashes
/// asking for more than 64 MiB match nothing (ours use 19 MiB).
pub fn verify_password_in(memory: &mut PasswordMemory, hash: &str, password: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Ok(params), Ok(algorithm)) = (Params::try_from(&parsed), Algorithm::try_from(parsed.algorithm)) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let needed = params.block_count();
    if needed > 64 * 1024 {
        return false;
    }
    if memory.blocks.len() < needed {
        memory.blocks.resize(needed, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory.blocks[..needed]).is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// A hash of a random password, verified against when a login names an unknown user so that
/// the answer takes as long as for a known one.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

// --- TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) ---

/// Seconds per TOTP step.
const TOTP_STEP_SECS: u64 = 30;

fn totp(secret: &[u8]) -> Option<Totp> {
    // One step either side of now is accepted; `check` says which step matched, so that it can
    // be marked used.
    Builder::new()
        .with_algorithm(TotpAlgorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(TOTP_STEP_SECS)
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .build()
        .ok()
}

/// A new random second-factor secret (160 bits), base32 without padding (as authenticator apps
/// expect).
pub fn new_totp_secret() -> String {
    Secret::new_stack(rand::random::<[u8; 20]>()).to_base32()
}

/// The raw bytes of a base32 secret, if it is one.
pub fn totp_secret_bytes(encoded: &str) -> Option<Vec<u8>> {
    let cleaned: String =
        encoded.chars().filter(|c| !c.is_whitespace() && *c != '=').collect::<String>().to_uppercase();
    Secret::try_from_base32(cleaned).ok().map(|s| s.as_bytes().to_vec()).filter(|b| !b.is_empty())
}

/// The step a code matches, within one step of `now_ms` either way, if any (compared in
/// constant time by `totp-rs`).
pub fn totp_match(secret: &[u8], code: &str, now_ms: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret)?.check(code, now_ms / 1000)
}

/// The code of `secret` at `now_ms` (what an authenticator app shows).
pub fn totp_now(secret: &[u8], now_ms: u64) -> Option<String> {
    totp(secret).map(|t| t.generate(now_ms / 1000).to_string())
}

/// The `otpauth://` link an authenticator app reads (as text or a QR code).
pub fn totp_link(username: &str, secret: &str) -> String {
    format!("otpauth://totp/Outpost:{username}?secret={secret}&issuer=Outpost")
}

// --- Users ---

/// A stored account with its secrets, for login.
pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
}

async fn stored(store: &Store, row: UserRow) -> Result<StoredUser, DbError> {
    let role = Role::parse(&row.role).ok_or_else(|| DbError::Corrupt(format!("unknown role {:?}", row.role)))?;
    let sites = if role == Role::Admin {
        store.list_sites().await?.into_iter().map(|s| SiteRef { id: s.id, name: s.name }).collect()
    } else {
        row.sites
    };
    Ok(StoredUser {
        user: User {
            id: row.id.to_string(),
            username: row.username,
            role,
            sites,
            totp: row.totp_secret.is_some(),
            password_temporary: row.password_temporary,
            disabled: row.disabled_ms.is_some(),
            created_ms: row.created_ms,
            last_login_ms: row.last_login_ms,
        },
        password_hash: row.password_hash,
        totp_secret: row.totp_secret,
        totp_last_step: row.totp_last_step,
    })
}

/// Looks a user up by name (any case).
pub async fn find_user(store: &Store, username: &str) -> Result<Option<StoredUser>, DbError> {
    match store.find_user(&username.trim().to_lowercase()).await? {
        Some(row) => Ok(Some(stored(store, row).await?)),
        None => Ok(None),
    }
}

async fn existing(store: &Store, username: &str) -> Result<(uuid::Uuid, StoredUser), AccountError> {
    let name = normalise_username(username)?;
    let user = find_user(store, &name).await?.ok_or(AccountError::NotFound(name))?;
    let id = user.user.id.parse().map_err(|_| DbError::Corrupt(format!("unreadable user id {:?}", user.user.id)))?;
    Ok((id, user))
}

async fn site_id(store: &Store, name: &str) -> Result<SiteId, AccountError> {
    store.site_by_name(name).await?.map(|s| s.id).ok_or_else(|| AccountError::UnknownSite(name.to_string()))
}

/// Every user, by name.
pub async fn list_users(store: &Store) -> Result<Vec<User>, DbError> {
    let mut out = Vec::new();
    for row in store.list_users().await? {
        out.push(stored(store, row).await?.user);
    }
    Ok(out)
}

/// Creates a user working at `sites` (names).
pub async fn create_user(
    store: &Store,
    username: &str,
    password: &str,
    role: Role,
    sites: &[String],
    now_ms: u64,
) -> Result<User, AccountError> {
    let mut ids = Vec::new();
    for name in sites {
        ids.push(site_id(store, name).await?);
    }
    create_user_at(store, username, password, role, ids, false, now_ms).await
}

/// Creates a user working at `sites` (ids); a `temporary` password must be changed at the first
/// login.
pub async fn create_user_at(
    store: &Store,
    username: &str,
    password: &str,
    role: Role,
    site_ids: Vec<SiteId>,
    temporary: bool,
    now_ms: u64,
) -> Result<User, AccountError> {
    let username = normalise_username(username)?;
    check_password(&username, password)?;
    if store.find_user(&username).await?.is_some() {
        return Err(AccountError::Exists(username));
    }
    let known: Vec<SiteId> = store.list_sites().await?.into_iter().map(|s| s.id).collect();
    if let Some(unknown) = site_ids.iter().find(|s| !known.contains(s)) {
        return Err(AccountError::UnknownSite(unknown.to_string()));
    }
    let password_hash = hash_password_blocking(password).await?;
    let user = NewUser {
        username: username.clone(),
        role: role.as_str().into(),
        password_hash,
        sites: site_ids,
        now_ms,
        password_temporary: temporary,
    };
    match store.insert_user(user).await {
        Ok(_) => {}
        // Two admins adding the same name at once: the unique index decides.
        Err(DbError::Unique(_)) => return Err(AccountError::Exists(username)),
        Err(e) => return Err(e.into()),
    }
    Ok(existing(store, &username).await?.1.user)
}

async fn change(store: &Store, username: &str, change: UserChange) -> Result<User, AccountError> {
    let (id, _) = existing(store, username).await?;
    store.change_user(id, change).await?;
    Ok(existing(store, username).await?.1.user)
}

/// Disables an account: it cannot log in, its sessions end, and its tablets stop syncing
/// (their tokens are revoked).
pub async fn disable_user(store: &Store, username: &str, now_ms: u64) -> Result<User, AccountError> {
    change(store, username, UserChange::Disable { now_ms }).await
}

/// Changes a user's role; their sessions end.
pub async fn set_role(store: &Store, username: &str, role: Role) -> Result<User, AccountError> {
    change(store, username, UserChange::Role(role.as_str().into())).await
}

/// Sets a new password; every session of the user ends.
pub async fn set_password(store: &Store, username: &str, password: &str) -> Result<(), AccountError> {
    let (id, user) = existing(store, username).await?;
    check_password(&user.user.username, password)?;
    let hash = hash_password_blocking(password).await?;
    store.change_user(id, UserChange::PasswordHash(hash)).await?;
    Ok(())
}

/// Gives a user a new random temporary password (returned, to be handed over once); every
/// session of the user ends, and the next login asks for a password of their own.
pub async fn reset_password(store: &Store, username: &str) -> Result<String, AccountError> {
    let (id, _) = existing(store, username).await?;
    let password = crate::services::tokens::new_temporary_password();
    let hash = hash_password_blocking(&password).await?;
    store.change_user(id, UserChange::TemporaryPassword(hash)).await?;
    Ok(password)
}

/// Changes a user's status, sites or second factor; `change` as the store takes it.
pub async fn change_user(store: &Store, username: &str, what: UserChange) -> Result<User, AccountError> {
    change(store, username, what).await
}

/// Adds a site to a user.
pub async fn add_site(store: &Store, username: &str, site: &str) -> Result<User, AccountError> {
    let site = site_id(store, site).await?;
    change(store, username, UserChange::AddSite(site)).await
}

/// Removes a site from a user. Tablets enrolled for the user lose the site too: they stop
/// receiving its records and may no longer send any.
pub async fn remove_site(store: &Store, username: &str, site: &str) -> Result<User, AccountError> {
    let site = site_id(store, site).await?;
    change(store, username, UserChange::RemoveSite(site)).await
}

/// Sets up a new TOTP secret for a user and returns it (base32); their sessions end.
pub async fn enable_totp(store: &Store, username: &str) -> Result<String, AccountError> {
    let secret = new_totp_secret();
    change(store, username, UserChange::TotpSecret(secret.clone())).await?;
    Ok(secret)
}

/// The worker a tablet will be tied to: an active user who works at `site` (or an admin).
pub async fn worker_for_site(store: &Store, username: &str, site: &str) -> Result<uuid::Uuid, AccountError> {
    let (id, stored) = existing(store, username).await?;
    if stored.user.disabled {
        return Err(AccountError::Invalid(format!("the user {username:?} is disabled")));
    }
    if stored.user.role != Role::Admin && !stored.user.sites.iter().any(|s| s.name == site) {
        return Err(AccountError::Invalid(format!(
            "the user {username:?} does not work at {site:?}; add the site first (`user add-site`)"
        )));
    }
    Ok(id)
}

// --- Sessions ---

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
pub async fn create_session(
    store: &Store,
    user_id: &str,
    address: Option<String>,
    now_ms: u64,
) -> Result<(String, String), DbError> {
    let token = new_token();
    let csrf = new_token();
    let user_id = user_id.parse().map_err(|_| DbError::Corrupt(format!("unreadable user id {user_id:?}")))?;
    store
        .create_session(NewSession {
            token_hash: hash_token(&token),
            user_id,
            csrf_token: csrf.clone(),
            now_ms,
            expires_ms: now_ms.saturating_add(SESSION_MAX_MS),
            address,
            idle_before_ms: now_ms.saturating_sub(SESSION_IDLE_MS),
        })
        .await?;
    Ok((token, csrf))
}

/// Checks a session token and keeps the session alive (touched at most once a minute: a page
/// of requests does not become a page of writes).
pub async fn check_session(store: &Store, token: &str, now_ms: u64) -> Result<SessionCheck, DbError> {
    let token_hash = hash_token(token);
    let Some(session) = store.find_session(&token_hash).await? else { return Ok(SessionCheck::Unknown) };
    if session.user_disabled {
        store.end_session(&token_hash).await?;
        return Ok(SessionCheck::Unknown);
    }
    if now_ms >= session.expires_ms || now_ms.saturating_sub(session.last_seen_ms) >= SESSION_IDLE_MS {
        store.end_session(&token_hash).await?;
        return Ok(SessionCheck::Expired);
    }
    if now_ms.saturating_sub(session.last_seen_ms) > 60_000 {
        store.touch_session(&token_hash, now_ms).await?;
    }
    let Some(stored) = find_user(store, &session.username).await? else { return Ok(SessionCheck::Unknown) };
    Ok(SessionCheck::Valid(Session { user: stored.user, csrf_token: session.csrf_token, token_hash }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_matches_the_rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", last 6 digits.
        let secret = b"12345678901234567890";
        let at = |seconds: u64| totp(secret).map(|t| t.generate(seconds).to_string());
        assert_eq!(at(59).as_deref(), Some("287082"));
        assert_eq!(at(1_111_111_109).as_deref(), Some("081804"));
        assert_eq!(at(1_234_567_890).as_deref(), Some("005924"));
        assert_eq!(at(2_000_000_000).as_deref(), Some("279037"));
        assert_eq!(totp_match(secret, "081804", 1_111_111_109_000), Some(1_111_111_109 / 30));
        // 1 111 111 109 s is one second before a step boundary.
        assert_eq!(totp_match(secret, "081804", 1_111_111_109_000 + 1_000), Some(1_111_111_109 / 30), "one step late");
        assert_eq!(totp_match(secret, "081804", 1_111_111_109_000 + 31_000), None, "two steps late");
        assert_eq!(totp_match(secret, "81804", 1_111_111_109_000), None, "six digits");
    }

    #[test]
    fn secrets_are_base32_and_round_trip() {
        let secret = new_totp_secret();
        assert_eq!(secret.len(), 32, "20 bytes in base32 without padding");
        assert!(secret.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
        assert_eq!(totp_secret_bytes(&secret).map(|b| b.len()), Some(20));
        assert_eq!(totp_secret_bytes("mzxw 6ytb oi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(totp_secret_bytes("1"), None);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
        // The same answers with working memory kept between checks (the login path).
        let mut memory = PasswordMemory::default();
        for _ in 0..2 {
            assert!(verify_password_in(&mut memory, &hash, "correct horse battery"));
            assert!(!verify_password_in(&mut memory, &hash, "correct horse battery!"));
        }
        assert!(!verify_password_in(&mut memory, "not a hash", "x"));
        let huge = hash.replace("m=19456", "m=2097152");
        assert!(!verify_password_in(&mut memory, &huge, "correct horse battery"), "no 2 GiB hash is computed");
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
