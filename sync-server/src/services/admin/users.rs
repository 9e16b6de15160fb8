//! People's accounts, for administrators: add one (with a temporary password to hand over),
//! change role, sites and status, reset the password (a new temporary one), set up or remove
//! the second factor (TOTP, with a QR code for the authenticator app). An administrator cannot
//! disable themselves or take away their own admin role (nobody would be left to undo it).
//! Every change ends the user's sessions as `accounts` says, and is audited (never the password
//! or the TOTP secret).

use super::{Actor, AdminError, invalid, record};
use crate::services::accounts::{self, Role, User};
use crate::services::tokens::new_temporary_password;
use outpost_core::SiteId;
use outpost_server_store::Store;
use outpost_server_store::accounts::UserChange;
use serde::{Deserialize, Serialize};

/// A user as the administration page lists them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct UserEntry {
    pub username: String,
    pub role: Role,
    /// The sites listed for the user (admins see every site whatever is listed).
    pub sites: Vec<String>,
    pub totp: bool,
    pub disabled: bool,
    pub password_temporary: bool,
    pub created_ms: i64,
    pub last_login_ms: Option<i64>,
}

/// A user to add, or the whole editable state of one.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct UserForm {
    pub username: String,
    pub role: Role,
    /// Site ids.
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub disabled: bool,
}

/// A user just added or given a new password: the temporary password, shown once.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TemporaryPassword {
    pub username: String,
    pub password: String,
}

/// A second factor just set up: the secret, the `otpauth://` link and its QR code (SVG).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TotpSetup {
    pub username: String,
    pub secret: String,
    pub link: String,
    pub qr_svg: String,
}

fn entry(user: &User) -> UserEntry {
    UserEntry {
        username: user.username.clone(),
        role: user.role,
        sites: if user.role == Role::Admin {
            Vec::new()
        } else {
            user.sites.iter().map(|s| s.id.to_string()).collect()
        },
        totp: user.totp,
        disabled: user.disabled,
        password_temporary: user.password_temporary,
        created_ms: user.created_ms,
        last_login_ms: user.last_login_ms,
    }
}

async fn site_ids(store: &Store, ids: &[String]) -> Result<Vec<SiteId>, AdminError> {
    let sites = store.list_sites().await?;
    let mut out = Vec::new();
    for id in ids {
        let site = sites
            .iter()
            .find(|s| s.id.to_string() == *id)
            .ok_or_else(|| AdminError::Invalid(vec![invalid("sites", "unknown_site", format!("no site {id:?}"))]))?;
        if !out.contains(&site.id) {
            out.push(site.id);
        }
    }
    Ok(out)
}

/// Every user (administrators).
pub async fn list(store: &Store, actor: &Actor) -> Result<Vec<UserEntry>, AdminError> {
    actor.organisation_wide("managing accounts")?;
    Ok(accounts::list_users(store).await?.iter().map(entry).collect())
}

/// Adds a user with a temporary password (returned once; asked to be changed at the first
/// login). Field staff and coordinators need at least one site; retired sites take no staff.
pub async fn add(store: &Store, actor: &Actor, form: &UserForm, now_ms: u64) -> Result<TemporaryPassword, AdminError> {
    actor.organisation_wide("managing accounts")?;
    let username = accounts::normalise_username(&form.username)?;
    let sites = site_ids(store, &form.sites).await?;
    if form.role != Role::Admin && sites.is_empty() {
        return Err(AdminError::Invalid(vec![invalid(
            "sites",
            "required",
            "a user other than an admin works at one site at least",
        )]));
    }
    let retired: Vec<SiteId> = store.list_sites().await?.into_iter().filter(|s| s.retired).map(|s| s.id).collect();
    if sites.iter().any(|s| retired.contains(s)) {
        return Err(AdminError::Conflict("a retired site takes no new staff".into()));
    }
    if accounts::find_user(store, &username).await?.is_some() {
        return Err(AdminError::Conflict(format!("a user named {username:?} already exists")));
    }
    let detail = format!("{} at {} site(s), temporary password", form.role.as_str(), sites.len());
    record(store, actor, "user.add", username.clone(), detail).await?;
    let password = new_temporary_password();
    accounts::create_user_at(store, &username, &password, form.role, sites, true, now_ms).await?;
    Ok(TemporaryPassword { username, password })
}

/// Changes a user's role, sites and status (enabled or disabled) to those of `form`.
pub async fn change(store: &Store, actor: &Actor, form: &UserForm, now_ms: u64) -> Result<UserEntry, AdminError> {
    actor.organisation_wide("managing accounts")?;
    let current = accounts::find_user(store, &form.username)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no user named {:?}", form.username.trim())))?
        .user;
    let me = actor.name == format!("user:{}", current.username);
    if me && (form.disabled || form.role != Role::Admin) {
        return Err(AdminError::Forbidden("you cannot disable yourself or give up your own admin role".into()));
    }
    let wanted = site_ids(store, &form.sites).await?;
    let listed: Vec<SiteId> = if current.role == Role::Admin {
        store.find_user(&current.username).await?.map(|r| r.sites.iter().map(|s| s.id).collect()).unwrap_or_default()
    } else {
        current.site_ids()
    };
    let added: Vec<SiteId> = wanted.iter().filter(|s| !listed.contains(s)).copied().collect();
    let removed: Vec<SiteId> = listed.iter().filter(|s| !wanted.contains(s)).copied().collect();
    let mut steps = Vec::new();
    if form.role != current.role {
        steps.push((
            format!("role: {} → {}", current.role.as_str(), form.role.as_str()),
            UserChange::Role(form.role.as_str().into()),
        ));
    }
    for site in &added {
        steps.push((format!("site added: {site}"), UserChange::AddSite(*site)));
    }
    for site in &removed {
        steps.push((format!("site removed: {site}"), UserChange::RemoveSite(*site)));
    }
    match (current.disabled, form.disabled) {
        (false, true) => {
            steps.push(("disabled (sessions ended, tablets revoked)".into(), UserChange::Disable { now_ms }))
        }
        (true, false) => steps.push(("enabled".into(), UserChange::Enable)),
        _ => {}
    }
    if steps.is_empty() {
        return Ok(entry(&current));
    }
    let detail = steps.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>().join("; ");
    record(store, actor, "user.change", current.username.clone(), detail).await?;
    let mut user = current;
    for (_, step) in steps {
        user = accounts::change_user(store, &user.username, step).await?;
    }
    Ok(entry(&user))
}

/// Gives a user a new temporary password (returned once); their sessions end.
pub async fn reset_password(store: &Store, actor: &Actor, username: &str) -> Result<TemporaryPassword, AdminError> {
    actor.organisation_wide("managing accounts")?;
    let user = accounts::find_user(store, username)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no user named {:?}", username.trim())))?
        .user;
    record(store, actor, "user.password", user.username.clone(), "temporary password given out".into()).await?;
    let password = accounts::reset_password(store, &user.username).await?;
    Ok(TemporaryPassword { username: user.username, password })
}

/// Sets up a new second factor for a user (the old one stops working) and returns what their
/// authenticator app needs.
pub async fn setup_totp(store: &Store, actor: &Actor, username: &str) -> Result<TotpSetup, AdminError> {
    actor.organisation_wide("managing accounts")?;
    let name = accounts::normalise_username(username)?;
    if accounts::find_user(store, &name).await?.is_none() {
        return Err(AdminError::NotFound(format!("no user named {name:?}")));
    }
    record(store, actor, "user.totp", name.clone(), "second factor set up".into()).await?;
    let secret = accounts::enable_totp(store, &name).await?;
    let link = accounts::totp_link(&name, &secret);
    let qr_svg = super::tablets::qr_svg(&link)?;
    Ok(TotpSetup { username: name, secret, link, qr_svg })
}

/// Removes a user's second factor (a lost phone); they log in with their password alone until
/// a new one is set up.
pub async fn remove_totp(store: &Store, actor: &Actor, username: &str) -> Result<UserEntry, AdminError> {
    actor.organisation_wide("managing accounts")?;
    let name = accounts::normalise_username(username)?;
    let user = accounts::find_user(store, &name)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no user named {name:?}")))?;
    if !user.user.totp {
        return Ok(entry(&user.user));
    }
    record(store, actor, "user.totp.remove", name.clone(), "second factor removed".into()).await?;
    Ok(entry(&accounts::change_user(store, &name, UserChange::RemoveTotp).await?))
}
