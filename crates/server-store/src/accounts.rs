//! People's accounts as stored: users with their role, password hash and second-factor secret,
//! the sites they work at, and their dashboard sessions (only hashes of session tokens). The
//! rules (who may do what, password strength, hashing, codes) are the server's; this module
//! only reads and writes rows, each change in one transaction.

use crate::error::DbError;
use crate::sql::{RowExt, Statement};
use crate::{Store, params};
use outpost_core::wire::SiteRef;
use outpost_core::{OrgId, SiteId};
use uuid::Uuid;

/// A user as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    /// `outreach_worker`, `room_staff`, `coordinator` or `admin`.
    pub role: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
    /// The sites listed for the user (admins see every site whatever is listed).
    pub sites: Vec<SiteRef>,
    pub last_login_ms: Option<i64>,
    /// The password is a temporary one an administrator gave out.
    pub password_temporary: bool,
}

/// A new user.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub sites: Vec<SiteId>,
    pub now_ms: u64,
    /// A temporary password given out by an administrator, to be changed at the first login.
    pub password_temporary: bool,
}

/// A session as stored, with its user.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub username: String,
    pub csrf_token: String,
    pub expires_ms: u64,
    pub last_seen_ms: u64,
    pub user_disabled: bool,
}

/// A session to open.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: Uuid,
    pub csrf_token: String,
    pub now_ms: u64,
    pub expires_ms: u64,
    pub address: Option<String>,
    /// Sessions idle since before this are removed as this one starts.
    pub idle_before_ms: u64,
}

/// A change to a user; every one but a site added ends the user's sessions.
#[derive(Clone, Debug)]
pub enum UserChange {
    /// No more logins, sessions end, the user's tablets are revoked.
    Disable {
        now_ms: u64,
    },
    /// Able to log in again (their tablets stay revoked: enrol them anew).
    Enable,
    Role(String),
    /// A password the user chose.
    PasswordHash(String),
    /// A temporary password an administrator gave out: to be changed at the next login.
    TemporaryPassword(String),
    /// A new second-factor secret (base32), its last used step reset.
    TotpSecret(String),
    /// No second factor any more.
    RemoveTotp,
    AddSite(SiteId),
    /// Also removes the site from the tablets enrolled for the user.
    RemoveSite(SiteId),
}

const USER_COLUMNS: &str = "id, username, role, password_hash, totp_secret, totp_last_step, created_ms, disabled_ms, \
     last_login_ms, password_temporary";

async fn load_users(store: &Store, username: Option<&str>) -> Result<Vec<UserRow>, DbError> {
    let users = match username {
        Some(name) => Statement::query(format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?"), params![name]),
        None => Statement::query(format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"), vec![]),
    };
    let sites = Statement::query(
        "SELECT us.user_id, s.id, s.name FROM user_sites us JOIN sites s ON s.id = us.site_id ORDER BY s.name",
        vec![],
    );
    let out = store.query_all(vec![users, sites]).await?;
    let mut users = out[0]
        .iter()
        .map(|r| {
            Ok(UserRow {
                id: r.col(0)?,
                username: r.col(1)?,
                role: r.col(2)?,
                password_hash: r.col(3)?,
                totp_secret: r.col::<Option<String>>(4)?.map(|stored| opened(store, stored)).transpose()?,
                totp_last_step: r.col(5)?,
                created_ms: r.col(6)?,
                disabled_ms: r.col(7)?,
                sites: Vec::new(),
                last_login_ms: r.col(8)?,
                password_temporary: r.col(9)?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    for r in &out[1] {
        let user: Uuid = r.col(0)?;
        if let Some(u) = users.iter_mut().find(|u| u.id == user) {
            u.sites.push(SiteRef { id: r.col(1)?, name: r.col(2)? });
        }
    }
    Ok(users)
}

/// A second-factor secret as stored: sealed with the server key (or, in a database not yet
/// opened with a key, in clear).
fn opened(store: &Store, stored: String) -> Result<String, DbError> {
    if crate::keys::is_sealed(&stored) { Ok(store.key().unseal(&stored)?.to_string()) } else { Ok(stored) }
}

fn end_sessions(user: Uuid) -> Statement {
    Statement::exec("DELETE FROM sessions WHERE user_id = ?", params![user])
}

fn add_site_statement(user: Uuid, site: SiteId) -> Statement {
    Statement::exec(
        "INSERT INTO user_sites (user_id, site_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        params![user, site],
    )
}

impl Store {
    /// A user by name (already normalised).
    pub async fn find_user(&self, username: &str) -> Result<Option<UserRow>, DbError> {
        Ok(load_users(self, Some(username)).await?.into_iter().next())
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<UserRow>, DbError> {
        load_users(self, None).await
    }

    /// A site by its name.
    pub async fn site_by_name(&self, name: &str) -> Result<Option<SiteRef>, DbError> {
        let rows = self.query(Statement::query("SELECT id, name FROM sites WHERE name = ?", params![name])).await?;
        rows.first().map(|r| Ok(SiteRef { id: r.col(0)?, name: r.col(1)? })).transpose()
    }

    /// The organisation, when the server holds exactly one.
    pub async fn single_org(&self) -> Result<OrgId, DbError> {
        let rows = self.query(Statement::query("SELECT id FROM orgs", vec![])).await?;
        match rows.as_slice() {
            [row] => row.col(0),
            _ => Err(DbError::Conflict(crate::records::org_count_problem(rows.len(), "accounts"))),
        }
    }

    /// Creates a user; `Unique` when the name is taken (two admins adding it at once included).
    pub async fn insert_user(&self, user: NewUser) -> Result<Uuid, DbError> {
        let org = self.single_org().await?;
        let id = Uuid::now_v7();
        let mut statements = vec![Statement::exec(
            "INSERT INTO users (id, org_id, username, password_hash, role, created_ms, password_temporary)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            params![id, org, user.username, user.password_hash, user.role, user.now_ms, user.password_temporary],
        )];
        statements.extend(user.sites.into_iter().map(|site| add_site_statement(id, site)));
        self.execute(statements).await?;
        Ok(id)
    }

    /// Changes a user in one transaction.
    pub async fn change_user(&self, user: Uuid, change: UserChange) -> Result<(), DbError> {
        let statements = match change {
            UserChange::Disable { now_ms } => vec![
                Statement::exec(
                    "UPDATE users SET disabled_ms = ? WHERE id = ? AND disabled_ms IS NULL",
                    params![now_ms, user],
                ),
                Statement::exec(
                    "UPDATE devices SET revoked_ms = ? WHERE user_id = ? AND revoked_ms IS NULL",
                    params![now_ms, user],
                ),
                end_sessions(user),
            ],
            UserChange::Enable => {
                vec![Statement::exec("UPDATE users SET disabled_ms = NULL WHERE id = ?", params![user])]
            }
            UserChange::Role(role) => {
                vec![Statement::exec("UPDATE users SET role = ? WHERE id = ?", params![role, user]), end_sessions(user)]
            }
            UserChange::PasswordHash(hash) => vec![
                Statement::exec(
                    "UPDATE users SET password_hash = ?, password_temporary = ? WHERE id = ?",
                    params![hash, false, user],
                ),
                end_sessions(user),
            ],
            UserChange::TemporaryPassword(hash) => vec![
                Statement::exec(
                    "UPDATE users SET password_hash = ?, password_temporary = ? WHERE id = ?",
                    params![hash, true, user],
                ),
                end_sessions(user),
            ],
            UserChange::RemoveTotp => vec![
                Statement::exec("UPDATE users SET totp_secret = NULL, totp_last_step = 0 WHERE id = ?", params![user]),
                end_sessions(user),
            ],
            UserChange::TotpSecret(secret) => vec![
                Statement::exec(
                    "UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE id = ?",
                    params![self.key().seal(&secret), user],
                ),
                end_sessions(user),
            ],
            UserChange::AddSite(site) => vec![add_site_statement(user, site)],
            UserChange::RemoveSite(site) => vec![
                Statement::exec("DELETE FROM user_sites WHERE user_id = ? AND site_id = ?", params![user, site]),
                Statement::exec(
                    "DELETE FROM device_sites WHERE site_id = ? AND device_id IN (SELECT id FROM devices WHERE user_id = ?)",
                    params![site, user],
                ),
            ],
        };
        self.execute(statements).await?;
        Ok(())
    }

    /// Records that a TOTP step was used, unless it (or a later one) already was. Returns whether
    /// the step was still unused, so a code works once.
    pub async fn use_totp_step(&self, user: Uuid, step: u64) -> Result<bool, DbError> {
        let changed = self
            .execute(vec![Statement::exec(
                "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
                params![step, user, step],
            )])
            .await?;
        Ok(changed.first() == Some(&1))
    }

    /// Opens a session; sessions that ended are removed as new ones start.
    pub async fn create_session(&self, session: NewSession) -> Result<(), DbError> {
        self.execute(vec![
            Statement::exec(
                "DELETE FROM sessions WHERE expires_ms < ? OR last_seen_ms < ?",
                params![session.now_ms, session.idle_before_ms],
            ),
            Statement::exec(
                "UPDATE users SET last_login_ms = ? WHERE id = ?",
                params![session.now_ms, session.user_id],
            ),
            Statement::exec(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_ms, last_seen_ms, expires_ms, address)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![
                    session.token_hash,
                    session.user_id,
                    session.csrf_token,
                    session.now_ms,
                    session.now_ms,
                    session.expires_ms,
                    session.address
                ],
            ),
        ])
        .await?;
        Ok(())
    }

    /// A session by its token's hash.
    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRow>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT u.username, s.csrf_token, s.expires_ms, s.last_seen_ms, u.disabled_ms FROM sessions s
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
                params![token_hash],
            ))
            .await?;
        rows.first()
            .map(|r| {
                Ok(SessionRow {
                    username: r.col(0)?,
                    csrf_token: r.col(1)?,
                    expires_ms: r.col(2)?,
                    last_seen_ms: r.col(3)?,
                    user_disabled: !r[4].is_null(),
                })
            })
            .transpose()
    }

    /// Keeps a session alive.
    pub async fn touch_session(&self, token_hash: &str, now_ms: u64) -> Result<(), DbError> {
        self.execute(vec![Statement::exec(
            "UPDATE sessions SET last_seen_ms = ? WHERE token_hash = ?",
            params![now_ms, token_hash],
        )])
        .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), DbError> {
        self.execute(vec![Statement::exec("DELETE FROM sessions WHERE token_hash = ?", params![token_hash])]).await?;
        Ok(())
    }
}
