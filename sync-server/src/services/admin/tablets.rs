//! Tablets and their enrolment: revoke and rename an enrolled tablet, create a one-time code
//! for a site (optionally tied to a worker) with the enrolment link and its QR code for the
//! printable card, list and cancel the codes not used yet. A coordinator does all of this for
//! tablets and codes of their own sites only.

use super::{Actor, AdminError, clean_name, invalid, record};
use crate::services::accounts;
use crate::services::tokens::{hash_enrollment_code, new_enrollment_code};
use outpost_core::wire::SiteRef;
use outpost_core::{DeviceId, SiteId};
use outpost_server_store::Store;
use outpost_server_store::devices::DeviceInfo;
use outpost_server_store::sync::OpenCode;

/// The longest a code stays valid: 30 days.
pub const MAX_VALID_HOURS: u64 = 24 * 30;
/// The longest tablet name.
pub const MAX_DEVICE_NAME: usize = 100;

async fn device(store: &Store, actor: &Actor, id: DeviceId) -> Result<DeviceInfo, AdminError> {
    let device = store
        .list_devices()
        .await?
        .into_iter()
        .find(|d| d.id == id && !d.is_server())
        .ok_or_else(|| AdminError::NotFound(format!("no tablet {id}")))?;
    // A tablet enrolled for several sites is a coordinator's only when every one is theirs.
    if let Some(site) = device.sites.iter().find(|s| !actor.manages(s.id)) {
        return Err(AdminError::Forbidden(format!(
            "the tablet {id} works at {:?}, which is not one of your sites",
            site.name
        )));
    }
    Ok(device)
}

/// The tablets the actor administers (not the server's own device), in enrolment order.
pub async fn list(store: &Store, actor: &Actor) -> Result<Vec<DeviceInfo>, AdminError> {
    Ok(store
        .list_devices()
        .await?
        .into_iter()
        .filter(|d| !d.is_server() && d.sites.iter().all(|s| actor.manages(s.id)))
        .collect())
}

/// Revokes a tablet: it can no longer sync and wipes its data at its next contact. Revoking
/// a revoked tablet changes nothing (and is not audited again). Returns the tablet as it was.
pub async fn revoke(store: &Store, actor: &Actor, id: DeviceId, now_ms: u64) -> Result<DeviceInfo, AdminError> {
    let before = device(store, actor, id).await?;
    if before.revoked_ms.is_none() {
        record(store, actor, "device.revoke", id.to_string(), format!("{:?} revoked", before.name)).await?;
        store.revoke_device(id, now_ms).await?;
    }
    Ok(before)
}

/// Renames a tablet (1 to 100 characters).
pub async fn rename(store: &Store, actor: &Actor, id: DeviceId, name: &str) -> Result<DeviceInfo, AdminError> {
    let name = clean_name("name", name, MAX_DEVICE_NAME).map_err(|e| AdminError::Invalid(vec![e]))?;
    let before = device(store, actor, id).await?;
    if before.name != name {
        record(store, actor, "device.rename", id.to_string(), format!("name: {:?} → {name:?}", before.name)).await?;
        store.rename_device(id, &name).await?;
    }
    Ok(DeviceInfo { name, ..before })
}

/// A code just created: the code itself (shown once), the link and QR code that carry it with
/// the server's address, its site and expiry.
#[derive(Clone, Debug)]
pub struct NewCode {
    pub code: String,
    pub site: SiteRef,
    pub expires_ms: u64,
    /// The server's address as checked, when known.
    pub server: Option<String>,
    /// `<server>/enrol?code=<code>`, when the server's address is known.
    pub link: Option<String>,
    /// The link (or, without a server address, the code) as a QR code in SVG.
    pub qr_svg: String,
}

/// `text` as a QR code, an SVG picture (medium error correction: a printed card survives some
/// wear).
pub fn qr_svg(text: &str) -> Result<String, AdminError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AdminError::Invalid(vec![invalid("link", "too_long", format!("cannot be a QR code: {e}"))]))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build();
    // The picture goes inside an HTML page: without the XML declaration.
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => svg,
    })
}

/// Whether `server` is an address tablets may be given: `https://host[:port]`, or plain
/// `http://` for the loopback addresses of a test installation (tablets refuse other plain
/// addresses).
pub fn check_server_address(server: &str) -> Result<String, AdminError> {
    let refuse = |why: &str| AdminError::Invalid(vec![invalid("server", "invalid_address", why)]);
    let url = url::Url::parse(server.trim()).map_err(|_| refuse("the server address is not a URL"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(refuse("tablets only connect to https:// addresses (http:// only to this machine, for tests)"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(refuse("the server address has no query, fragment or user name"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Creates a one-time code for `site`, valid `valid_hours` (1 to 720), for `worker` if given
/// (an active user working at the site), and audits it. With the server's address, the code
/// comes with its enrolment link and that link's QR code.
pub async fn create_code(
    store: &Store,
    actor: &Actor,
    site: SiteId,
    worker: Option<&str>,
    valid_hours: u64,
    server: Option<&str>,
    now_ms: u64,
) -> Result<NewCode, AdminError> {
    actor.site(site)?;
    if !(1..=MAX_VALID_HOURS).contains(&valid_hours) {
        return Err(AdminError::Invalid(vec![invalid(
            "valid_hours",
            "out_of_range",
            format!("a code is valid 1 to {MAX_VALID_HOURS} hours, not {valid_hours}"),
        )]));
    }
    let server = server.map(check_server_address).transpose()?;
    let sites = store.list_sites().await?;
    let info = sites.iter().find(|s| s.id == site).ok_or_else(|| AdminError::NotFound(format!("no site {site}")))?;
    if info.retired {
        return Err(AdminError::Conflict(format!("the site {:?} is retired: it takes no new tablets", info.name)));
    }
    let worker_id = match worker {
        Some(name) => Some(accounts::worker_for_site(store, name, &info.name).await?),
        None => None,
    };
    let code = new_enrollment_code();
    let expires_ms = now_ms.saturating_add(valid_hours.saturating_mul(3600 * 1000));
    let detail = match worker {
        Some(name) => format!("for {:?}, valid {valid_hours} h, for {}", info.name, name.trim().to_lowercase()),
        None => format!("for {:?}, valid {valid_hours} h", info.name),
    };
    record(store, actor, "enrollment_code.create", site.to_string(), detail).await?;
    let site = store.create_enrollment_code(site, &hash_enrollment_code(&code), expires_ms, now_ms, worker_id).await?;
    let link = server.as_deref().map(|s| outpost_core::wire::enrolment_link(s, &code));
    let qr_svg = qr_svg(link.as_deref().unwrap_or(&code))?;
    Ok(NewCode { code, site, expires_ms, server, link, qr_svg })
}

/// The codes not used yet and not expired, of the actor's sites, newest first.
pub async fn open_codes(store: &Store, actor: &Actor, now_ms: u64) -> Result<Vec<OpenCode>, AdminError> {
    Ok(store.open_enrollment_codes(now_ms).await?.into_iter().filter(|c| actor.manages(c.site.id)).collect())
}

/// Cancels an open code of one of the actor's sites; returns it.
pub async fn cancel_code(store: &Store, actor: &Actor, id: &str, now_ms: u64) -> Result<OpenCode, AdminError> {
    let code = open_codes(store, actor, now_ms)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AdminError::NotFound(format!("no open enrolment code {id:?} of your sites")))?;
    record(
        store,
        actor,
        "enrollment_code.cancel",
        code.site.id.to_string(),
        format!("code {id} for {:?}", code.site.name),
    )
    .await?;
    store.cancel_enrollment_code(id, now_ms).await?;
    Ok(code)
}

/// A site by its name (the commands name sites by name).
pub async fn site_named(store: &Store, name: &str) -> Result<SiteId, AdminError> {
    let sites = store.list_sites().await?;
    sites.iter().find(|s| s.name == name.trim()).map(|s| s.id).ok_or_else(|| {
        let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
        AdminError::NotFound(format!("no site is named {name:?}; sites: {}", names.join(", ")))
    })
}
