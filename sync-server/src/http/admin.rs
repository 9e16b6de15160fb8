//! The dashboard's administration pages (`/api/v1/dashboard/admin/*`): sites, the catalogue and
//! kits, tablets and enrolment codes, user accounts. Each handler turns the session into an [`Actor`] (admins
//! administer the organisation, coordinators their own sites) and calls the same service as
//! the `outpost-server` commands; the service checks the scope, audits, and changes.

use crate::AppState;
use crate::http::client::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, Coordinator};
use crate::http::openapi::SessionRefusals;
use crate::services::accounts::{Role, Session};
use crate::services::admin::catalogue::{self, CommodityEntry, KitEntry};
use crate::services::admin::org::{self, Organisation, OrganisationForm};
use crate::services::admin::packages::{self, PackagesForm, PackagesOut};
use crate::services::admin::sites::{self, SiteForm};
use crate::services::admin::users::{self, TemporaryPassword, TotpSetup, UserEntry, UserForm};
use crate::services::admin::{Actor, AdminError, Scope, erasure, tablets};
use crate::time::now_ms;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use outpost_core::records::{Commodity, KeyGroup, KitTemplate};
use outpost_core::wire::{ErrorBody, ErrorDetail};
use outpost_core::{DeviceId, SiteId};
use outpost_server_store::sync::OpenCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(errors) => {
                let message = AdminError::Invalid(errors.clone()).to_string();
                let details = errors
                    .into_iter()
                    .map(|f| ErrorDetail {
                        index: 0,
                        op_seq: None,
                        field: Some(f.field),
                        code: f.code.into(),
                        message: f.message,
                    })
                    .collect();
                ApiError { details, ..ApiError::invalid_field(message) }
            }
            AdminError::Forbidden(why) => ApiError::forbidden(why),
            AdminError::NotFound(what) => ApiError::not_found(what),
            AdminError::Conflict(what) => ApiError::new(StatusCode::CONFLICT, "clash", what),
            AdminError::AuditUnavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "this change is recorded in the audit log, which cannot be written now: nothing was done; try again later",
            ),
            AdminError::Upstream(why) => ApiError::new(StatusCode::BAD_GATEWAY, "upstream", why),
            AdminError::Db(db) => db.into(),
        }
    }
}

/// The actor of a session: admins administer the organisation, coordinators their sites.
pub(crate) fn actor(session: &Session, client: std::net::IpAddr) -> Actor {
    let scope =
        if session.user.role == Role::Admin { Scope::Organisation } else { Scope::Sites(session.user.site_ids()) };
    Actor { name: format!("user:{}", session.user.username), address: Some(client.to_string()), scope }
}

fn parse_site(id: &str) -> Result<SiteId, ApiError> {
    id.parse::<uuid::Uuid>().map(SiteId).map_err(|_| ApiError::not_found(format!("no site {id:?}")))
}

/// A site with everything its page edits.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AdminSite {
    id: String,
    name: String,
    pwid_estimate: Option<i64>,
    population_estimates: BTreeMap<KeyGroup, u32>,
    retired: bool,
    active_devices: i64,
}

/// A site just saved.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SavedSite {
    id: String,
    name: String,
}

/// The sites the user administers (every site for admins), retired ones included.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/sites", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Vec<AdminSite>), SessionRefusals))]
pub async fn list_sites(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
) -> Result<Json<Vec<AdminSite>>, ApiError> {
    let actor = actor(&session, client);
    let sites = state.store.list_sites().await?;
    Ok(Json(
        sites
            .into_iter()
            .filter(|s| actor.manages(s.id))
            .map(|s| AdminSite {
                id: s.id.to_string(),
                name: s.name,
                pwid_estimate: s.pwid_estimate,
                population_estimates: s.population_estimates,
                retired: s.retired,
                active_devices: s.active_devices,
            })
            .collect(),
    ))
}

/// Adds a site (admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/sites", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = SiteForm,
    responses((status = 200, body = SavedSite),
        (status = 422, description = "`invalid_field`, each problem in `details`", body = ErrorBody),
        (status = 409, description = "`clash`: a site of that name exists", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn add_site(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(form): ApiJson<SiteForm>,
) -> Result<Json<SavedSite>, ApiError> {
    let site = sites::add(&state.store, &actor(&session, client), &form, now_ms()).await?;
    Ok(Json(SavedSite { id: site.id.to_string(), name: site.name }))
}

/// Changes a site: admins everything, coordinators the estimates of their own sites. Audited
/// with the values before and after.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/sites/{id}", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The site's id")), request_body = SiteForm,
    responses((status = 200, body = SavedSite), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_field`, each problem in `details`", body = ErrorBody),
        (status = 409, description = "`clash`: a site of that name exists", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn change_site(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<SiteForm>,
) -> Result<Json<SavedSite>, ApiError> {
    let site = sites::change(&state.store, &actor(&session, client), parse_site(&id)?, &form, now_ms()).await?;
    Ok(Json(SavedSite { id: site.id.to_string(), name: site.name }))
}

/// The catalogue and kits, retired entries included, in display order.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Catalogue {
    commodities: Vec<CommodityEntry>,
    kits: Vec<KitEntry>,
}

/// The commodity catalogue and kit templates.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/catalogue", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Catalogue), SessionRefusals))]
pub async fn get_catalogue(
    State(state): State<Arc<AppState>>,
    Coordinator(_session): Coordinator,
) -> Result<Json<Catalogue>, ApiError> {
    Ok(Json(Catalogue {
        commodities: catalogue::commodities(&state.store).await?,
        kits: catalogue::kits(&state.store).await?,
    }))
}

/// Adds a commodity (admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/commodities", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = Commodity,
    responses((status = 200, body = CommodityEntry),
        (status = 422, description = "`invalid_field`, each problem in `details`", body = ErrorBody),
        (status = 409, description = "`clash`: the code or name is taken", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn add_commodity(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(commodity): ApiJson<Commodity>,
) -> Result<Json<CommodityEntry>, ApiError> {
    Ok(Json(catalogue::add_commodity(&state.store, &actor(&session, client), commodity, now_ms()).await?))
}

/// Changes a commodity (admins): names, unit, order, retired; never its code. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/commodities/{id}", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The entry's id")), request_body = Commodity,
    responses((status = 200, body = CommodityEntry), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_field` (`immutable` for a changed code), each problem in `details`", body = ErrorBody),
        (status = 409, description = "`clash`: the name is taken", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn change_commodity(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
    ApiJson(commodity): ApiJson<Commodity>,
) -> Result<Json<CommodityEntry>, ApiError> {
    Ok(Json(catalogue::change_commodity(&state.store, &actor(&session, client), &id, commodity, now_ms()).await?))
}

/// A site's own low-stock threshold for a commodity; `null` returns to the catalogue's.
#[derive(Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ThresholdForm {
    pub site: String,
    pub threshold: Option<u32>,
}

/// Sets a site's low-stock threshold for a commodity (the site's coordinators, admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/commodities/{id}/threshold", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The entry's id")), request_body = ThresholdForm,
    responses((status = 200, body = CommodityEntry), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_field`", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn set_threshold(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<ThresholdForm>,
) -> Result<Json<CommodityEntry>, ApiError> {
    let site = parse_site(&form.site)?;
    let actor = actor(&session, client);
    Ok(Json(catalogue::set_threshold(&state.store, &actor, &id, site, form.threshold, now_ms()).await?))
}

/// Adds a kit template (admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/kits", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = KitTemplate,
    responses((status = 200, body = KitEntry),
        (status = 422, description = "`invalid_field` (`unknown_commodity`, `retired_commodity`, `duplicate`...), each in `details`", body = ErrorBody),
        (status = 409, description = "`clash`: the code or name is taken", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn add_kit(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(kit): ApiJson<KitTemplate>,
) -> Result<Json<KitEntry>, ApiError> {
    Ok(Json(catalogue::add_kit(&state.store, &actor(&session, client), kit, now_ms()).await?))
}

/// Changes a kit template (admins): everything but its code. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/kits/{id}", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The kit's id")), request_body = KitTemplate,
    responses((status = 200, body = KitEntry), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_field`, each problem in `details`", body = ErrorBody),
        (status = 409, description = "`clash`: the name is taken", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn change_kit(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
    ApiJson(kit): ApiJson<KitTemplate>,
) -> Result<Json<KitEntry>, ApiError> {
    Ok(Json(catalogue::change_kit(&state.store, &actor(&session, client), &id, kit, now_ms()).await?))
}

fn parse_device(id: &str) -> Result<DeviceId, ApiError> {
    id.parse::<uuid::Uuid>().map(DeviceId).map_err(|_| ApiError::not_found(format!("no tablet {id:?}")))
}

/// A tablet after a change.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TabletChanged {
    id: String,
    name: String,
    revoked: bool,
}

/// Revokes a tablet of the user's sites: its next contact is refused `device_revoked` and the
/// app wipes its data. Audited; revoking twice changes nothing.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/devices/{id}/revoke", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The tablet's id")),
    responses((status = 200, body = TabletChanged), (status = 404, body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn revoke_device(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
) -> Result<Json<TabletChanged>, ApiError> {
    let device = tablets::revoke(&state.store, &actor(&session, client), parse_device(&id)?, now_ms()).await?;
    Ok(Json(TabletChanged { id: device.id.to_string(), name: device.name, revoked: true }))
}

/// A tablet's new name.
#[derive(Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct RenameForm {
    pub name: String,
}

/// Renames a tablet of the user's sites. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/devices/{id}/rename", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The tablet's id")), request_body = RenameForm,
    responses((status = 200, body = TabletChanged), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_field`", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn rename_device(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<RenameForm>,
) -> Result<Json<TabletChanged>, ApiError> {
    let device = tablets::rename(&state.store, &actor(&session, client), parse_device(&id)?, &form.name).await?;
    Ok(Json(TabletChanged { id: device.id.to_string(), revoked: device.revoked_ms.is_some(), name: device.name }))
}

/// An enrolment code not used yet.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct OpenCodeOut {
    id: String,
    site_id: String,
    site: String,
    created_ms: i64,
    expires_ms: i64,
    worker: Option<String>,
}

impl From<OpenCode> for OpenCodeOut {
    fn from(c: OpenCode) -> Self {
        OpenCodeOut {
            id: c.id,
            site_id: c.site.id.to_string(),
            site: c.site.name,
            created_ms: c.created_ms,
            expires_ms: c.expires_ms,
            worker: c.worker,
        }
    }
}

/// The enrolment codes of the user's sites not used yet and not expired, newest first.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/enrolment-codes", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Vec<OpenCodeOut>), SessionRefusals))]
pub async fn list_codes(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
) -> Result<Json<Vec<OpenCodeOut>>, ApiError> {
    let codes = tablets::open_codes(&state.store, &actor(&session, client), now_ms()).await?;
    Ok(Json(codes.into_iter().map(OpenCodeOut::from).collect()))
}

/// A code to create.
#[derive(Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct CodeForm {
    pub site: String,
    /// The worker the tablet is for (a user name).
    #[serde(default)]
    pub worker: Option<String>,
    /// 1 to 720.
    pub valid_hours: u64,
}

/// A code just created: shown once, with the server's address, the enrolment link and its QR
/// code (SVG) for the printable card.
#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct NewCodeOut {
    code: String,
    site: String,
    expires_ms: u64,
    /// The server's address as printed (absent when the request named none).
    server: Option<String>,
    /// The enrolment link the QR code holds (absent without the server's address).
    link: Option<String>,
    qr_svg: String,
}

/// The address tablets reach the server at: the configured public address, else the one the
/// coordinator's browser used (its `Origin`, which browsers send with every POST); none from a
/// client that sends neither (the code then comes without a link).
fn server_address(state: &AppState, headers: &HeaderMap) -> Option<String> {
    state
        .settings
        .public_url
        .clone()
        .or_else(|| headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string))
}

/// Creates a one-time enrolment code for a site of the user's (optionally for a worker at it).
/// Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/enrolment-codes", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = CodeForm,
    responses((status = 200, body = NewCodeOut), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_field`: hours out of range, a worker not at the site, an address tablets refuse", body = ErrorBody),
        (status = 409, description = "`clash`: the site is retired", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn create_code(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    headers: HeaderMap,
    ApiJson(form): ApiJson<CodeForm>,
) -> Result<Json<NewCodeOut>, ApiError> {
    let server = server_address(&state, &headers);
    let actor = actor(&session, client);
    let site = parse_site(&form.site)?;
    let worker = form.worker.as_deref().map(str::trim).filter(|w| !w.is_empty());
    let created =
        tablets::create_code(&state.store, &actor, site, worker, form.valid_hours, server.as_deref(), now_ms()).await?;
    Ok(Json(NewCodeOut {
        server: created.server,
        link: created.link,
        code: created.code,
        site: created.site.name,
        expires_ms: created.expires_ms,
        qr_svg: created.qr_svg,
    }))
}

/// Cancels an open code of the user's sites. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/enrolment-codes/{id}/cancel", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("id" = String, Path, description = "The code's id (not the code)")),
    responses((status = 200, body = OpenCodeOut), (status = 404, body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn cancel_code(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
) -> Result<Json<OpenCodeOut>, ApiError> {
    let c = tablets::cancel_code(&state.store, &actor(&session, client), &id, now_ms()).await?;
    Ok(Json(c.into()))
}

/// A client to erase: their code (read as the programme's scheme writes it) and why.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub code: String,
    pub reason: String,
}

/// What an erasure removed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ErasureOut {
    /// Client records (one person may have been registered more than once).
    pub clients: usize,
    /// Every record removed, the clients included.
    pub records: usize,
}

/// Erases a client on their request: every record about them, from the server now and from
/// every tablet at its next sync (admins). Audited with the reason and record ids, never the
/// code.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/clients/erase", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = ErasureRequest,
    responses((status = 200, body = ErasureOut),
        (status = 404, description = "`not_found`: no client has that code", body = ErrorBody),
        (status = 422, description = "`invalid_field`: the code or the reason, in `details`", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn erase_client(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(request): ApiJson<ErasureRequest>,
) -> Result<Json<ErasureOut>, ApiError> {
    let done = erasure::erase_client(&state.store, &actor(&session, client), &request.code, &request.reason).await?;
    Ok(Json(ErasureOut { clients: done.clients, records: done.records }))
}

/// Every user (admins).
#[utoipa::path(get, path = "/api/v1/dashboard/admin/users", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Vec<UserEntry>), SessionRefusals))]
pub async fn list_users(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
) -> Result<Json<Vec<UserEntry>>, ApiError> {
    Ok(Json(users::list(&state.store, &actor(&session, client)).await?))
}

/// Adds a user with a temporary password, shown once (admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/users", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = UserForm,
    responses((status = 200, body = TemporaryPassword),
        (status = 422, description = "`invalid_field`: a bad user name, an unknown site, no site for field staff", body = ErrorBody),
        (status = 409, description = "`clash`: the name is taken, or a site is retired", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn add_user(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(form): ApiJson<UserForm>,
) -> Result<Json<TemporaryPassword>, ApiError> {
    Ok(Json(users::add(&state.store, &actor(&session, client), &form, now_ms()).await?))
}

/// Changes a user's role, sites and status (admins; not their own role or status). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/users/{username}", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("username" = String, Path, description = "The user's name")), request_body = UserForm,
    responses((status = 200, body = UserEntry), (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_field`, or the name in the path and the body differ", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn change_user(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(username): Path<String>,
    ApiJson(form): ApiJson<UserForm>,
) -> Result<Json<UserEntry>, ApiError> {
    if form.username.trim().to_lowercase() != username.trim().to_lowercase() {
        return Err(ApiError::invalid_field("username: the body names another user than the address"));
    }
    Ok(Json(users::change(&state.store, &actor(&session, client), &form, now_ms()).await?))
}

/// Gives a user a new temporary password, shown once; their sessions end (admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/users/{username}/password", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("username" = String, Path, description = "The user's name")),
    responses((status = 200, body = TemporaryPassword), (status = 404, body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn reset_password(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(username): Path<String>,
) -> Result<Json<TemporaryPassword>, ApiError> {
    Ok(Json(users::reset_password(&state.store, &actor(&session, client), &username).await?))
}

/// Sets up a new second factor for a user: the secret and its QR code for the authenticator
/// app (admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/users/{username}/totp", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("username" = String, Path, description = "The user's name")),
    responses((status = 200, body = TotpSetup), (status = 404, body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn setup_totp(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(username): Path<String>,
) -> Result<Json<TotpSetup>, ApiError> {
    Ok(Json(users::setup_totp(&state.store, &actor(&session, client), &username).await?))
}

/// Removes a user's second factor (a lost phone) (admins). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/users/{username}/totp/remove", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("username" = String, Path, description = "The user's name")),
    responses((status = 200, body = UserEntry), (status = 404, body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn remove_totp(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(username): Path<String>,
) -> Result<Json<UserEntry>, ApiError> {
    Ok(Json(users::remove_totp(&state.store, &actor(&session, client), &username).await?))
}

/// The service packages: the programme's own, those in force and the shipped defaults.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/packages", tag = "admin", security(("session" = [])),
    responses((status = 200, body = PackagesOut), SessionRefusals))]
pub async fn get_packages(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
) -> Result<Json<PackagesOut>, ApiError> {
    Ok(Json(packages::get(&state.store, &actor(&session, client)).await?))
}

/// Replaces the programme's service packages (an empty list: the defaults). Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/packages", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = PackagesForm,
    responses((status = 200, body = PackagesOut),
        (status = 422, description = "`invalid_field` (`invalid_package`: a package requiring nothing, an empty group, two for one population and setting), or `invalid_body` (an unknown population, setting, service, test or referral)", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn set_packages(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(form): ApiJson<PackagesForm>,
) -> Result<Json<PackagesOut>, ApiError> {
    Ok(Json(packages::set(&state.store, &actor(&session, client), &form).await?))
}

/// The organisation's settings and the built-in client-code schemes.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/organisation", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Organisation), SessionRefusals))]
pub async fn get_organisation(
    State(state): State<Arc<AppState>>,
    Coordinator(_session): Coordinator,
) -> Result<Json<Organisation>, ApiError> {
    Ok(Json(org::get(&state.store).await?))
}

/// Changes the organisation's name, default language and client-code scheme (admins; the
/// scheme only while no client is registered). Tablets receive it with their next pull. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/organisation", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = OrganisationForm,
    responses((status = 200, body = Organisation),
        (status = 422, description = "`invalid_field` (`invalid_language`, `invalid_scheme`...), each in `details`", body = ErrorBody),
        (status = 409, description = "`clash`: a new scheme for an organisation that has clients", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn change_organisation(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    ApiJson(form): ApiJson<OrganisationForm>,
) -> Result<Json<Organisation>, ApiError> {
    Ok(Json(org::change(&state.store, &actor(&session, client), &form).await?))
}
