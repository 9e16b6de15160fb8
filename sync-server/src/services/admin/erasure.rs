//! Erasing a client on their request (administrators only): every record about them, from the
//! server at once and from every tablet at its next sync (see `outpost_server_store::erase`).
//! The audit entry says who erased and why, and which records, never the client's code: the
//! log must not keep what the erasure removed.

use super::{Actor, AdminError, invalid, record};
use crate::time::now_ms;
use outpost_server_store::Store;

/// The longest reason an erasure may give.
pub const MAX_REASON_CHARS: usize = 500;

/// What an erasure removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erasure {
    /// Client records erased (one person may have been registered more than once).
    pub clients: usize,
    /// Every record erased, the clients included.
    pub records: usize,
}

/// Erases the client with `code` (as the programme's client-code scheme reads it), giving
/// `reason` (for the audit log).
pub async fn erase_client(store: &Store, actor: &Actor, code: &str, reason: &str) -> Result<Erasure, AdminError> {
    actor.organisation_wide("erasing a client")?;
    let org = store.org_settings().await?;
    let mut problems = Vec::new();
    // Codes are written in capitals; one typed in small letters is the same code.
    let code = match org.uic_scheme.parse(&code.trim().to_uppercase()) {
        Ok(uic) => Some(uic.as_str().to_string()),
        Err(e) => {
            problems.push(invalid("code", "invalid", format!("not a client code of this programme: {e}")));
            None
        }
    };
    let reason = reason.trim();
    let chars = reason.chars().count();
    if chars == 0 {
        problems.push(invalid("reason", "required", "say why (the client's request, the retention rule...)"));
    } else if chars > MAX_REASON_CHARS {
        problems.push(invalid("reason", "too_long", format!("at most {MAX_REASON_CHARS} characters, got {chars}")));
    } else if reason.chars().any(char::is_control) {
        problems.push(invalid("reason", "control_characters", "the reason may not contain control characters"));
    }
    let Some(code) = code.filter(|_| problems.is_empty()) else { return Err(AdminError::Invalid(problems)) };
    let clients = store.clients_with_code(org.id, &code).await?;
    if clients.is_empty() {
        return Err(AdminError::NotFound("no client has that code".into()));
    }
    let ids: Vec<String> = clients.iter().map(ToString::to_string).collect();
    record(store, actor, "client.erase", ids.join(", "), format!("reason: {reason}")).await?;
    let erased = store.erase_clients(org.id, clients, now_ms()).await?;
    tracing::info!(clients = erased.clients.len(), records = erased.records, "erased a client on request");
    Ok(Erasure { clients: erased.clients.len(), records: erased.records })
}
