//! Erasing a client on their request (administrators only): every record about them, from the
//! server at once and from every tablet at its next sync (see `outpost_server_store::erase`).
//! The audit entry says who erased and why, and which records, never the client's code: the
//! log must not keep what the erasure removed.
//!
//! The organisation's retention period erases by the same path, from the server's periodic
//! job ([`apply_retention`]): people not seen for longer, and contacts and survey responses
//! older than it; each round audited as `server`, with counts only.

use super::{Actor, AdminError, clean_text, invalid, record};
use crate::time::{date_of, now_ms};
use outpost_server_store::Store;
use outpost_server_store::erase::ErasureTarget;

/// How many of each kind one round of the retention period erases in one transaction.
const RETENTION_ROUND: usize = 500;

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
    let reason =
        clean_text("reason", reason, MAX_REASON_CHARS, "say why (the client's request, the retention rule...)")
            .map_err(|e| problems.push(e))
            .unwrap_or_default();
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

/// What one run of the retention period erased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionRun {
    /// The day before which records were erased (`YYYY-MM-DD`).
    pub cutoff: String,
    /// Client records of people not seen since the cut-off.
    pub clients: usize,
    /// Contacts before the cut-off (of anyone).
    pub contacts: usize,
    /// Survey responses before the cut-off.
    pub surveys: usize,
    /// Every record erased.
    pub records: usize,
}

/// Applies the organisation's retention period at `now_ms`: nothing when it has none.
/// Erases in rounds of at most [`RETENTION_ROUND`] of each kind, each audited before it runs.
pub async fn apply_retention(store: &Store, now_ms: u64) -> Result<Option<RetentionRun>, AdminError> {
    let org = store.org_settings().await?;
    let Some(days) = org.retention_days else { return Ok(None) };
    let cutoff_ms = now_ms.saturating_sub(u64::from(days) * 24 * 3600 * 1000);
    let cutoff = date_of(cutoff_ms);
    let mut run = RetentionRun { cutoff: cutoff.clone(), ..Default::default() };
    loop {
        let found = store.retention_candidates(org.id, cutoff_ms, &cutoff, RETENTION_ROUND).await?;
        if found.clients.is_empty() && found.contacts.is_empty() && found.surveys.is_empty() {
            break;
        }
        let target = ErasureTarget {
            clients: found.clients,
            contacts: found.contacts,
            others: found.surveys.iter().map(|id| (outpost_core::Collection::SurveyResponses, *id)).collect(),
        };
        let (clients, contacts, surveys) = (target.clients.len(), target.contacts.len(), target.others.len());
        record(
            store,
            &Actor::server(),
            "retention.erase",
            format!("retention_days={days}"),
            format!("before {cutoff}: {clients} client record(s) not seen since, {contacts} contact(s), {surveys} survey response(s)"),
        )
        .await?;
        let erased = store.erase(org.id, target, now_ms).await?;
        run.clients += erased.clients.len();
        run.contacts += contacts;
        run.surveys += surveys;
        run.records += erased.records;
        if clients < RETENTION_ROUND && contacts < RETENTION_ROUND && surveys < RETENTION_ROUND {
            break;
        }
    }
    if run.records > 0 {
        tracing::info!(cutoff = %run.cutoff, clients = run.clients, contacts = run.contacts, surveys = run.surveys, records = run.records, "retention period applied");
    }
    Ok(Some(run))
}
