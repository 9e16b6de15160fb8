//! Enrolment codes for tablets: a one-time code for a site, optionally tied to the worker the
//! tablet is for, stored as a hash and audited.

use crate::services::accounts::{self, AccountError};
use crate::services::tokens::{hash_enrollment_code, new_enrollment_code};
use outpost_core::wire::SiteRef;
use outpost_server_store::Store;
use outpost_server_store::audit::AuditEvent;

/// A code just created: the code itself (shown once) and its site.
#[derive(Clone, Debug)]
pub struct NewCode {
    pub code: String,
    pub site: SiteRef,
    pub expires_ms: u64,
}

/// Creates a code for the site named `site`, valid `valid_hours`, for `worker` if given, and
/// audits it as done by `actor`.
pub async fn create_code(
    store: &Store,
    site: &str,
    valid_hours: u64,
    worker: Option<&str>,
    actor: &str,
    now_ms: u64,
) -> Result<NewCode, AccountError> {
    let worker_id = match worker {
        Some(name) => Some(accounts::worker_for_site(store, name, site).await?),
        None => None,
    };
    let code = new_enrollment_code();
    let expires_ms = now_ms.saturating_add(valid_hours.saturating_mul(3600 * 1000));
    let site = store.create_enrollment_code(site, &hash_enrollment_code(&code), expires_ms, now_ms, worker_id).await?;
    let detail = match worker {
        Some(name) => format!("valid {valid_hours} h, for {}", name.trim().to_lowercase()),
        None => format!("valid {valid_hours} h"),
    };
    store.append_audit(AuditEvent::new(actor, "enrollment_code.create", site.id.to_string(), detail), now_ms).await?;
    Ok(NewCode { code, site, expires_ms })
}
