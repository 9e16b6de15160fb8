//! Running a programme: its sites, commodity catalogue, kit templates, tablets and enrolment
//! codes. The dashboard's administration pages and the `outpost-server` commands both call
//! these functions, so a rule is written once: who may change what (an [`Actor`] carries its
//! scope), what is refused and why, and the audit entry of every change (who, what, before →
//! after), written before the change, so nothing changes that the log does not hold.

pub mod catalogue;
pub mod dhis2;
pub mod erasure;
pub mod org;
pub mod packages;
pub mod people;
pub mod sites;
pub mod tablets;
pub mod users;

use crate::time::now_ms;
use outpost_core::SiteId;
use outpost_core::schema::FieldError;
use outpost_server_store::audit::AuditEvent;
use outpost_server_store::{DbError, Store};
use serde_json::{Map, Value};
use thiserror::Error;

/// Who makes a change, for the audit log and the scope checks.
#[derive(Clone, Debug)]
pub struct Actor {
    /// `cli`, or `user:<name>`.
    pub name: String,
    /// The client's address, for changes made over HTTP.
    pub address: Option<String>,
    /// What the actor may administer.
    pub scope: Scope,
}

/// What an actor may administer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything: admins, and the server's own commands.
    Organisation,
    /// Coordinators: their sites' tablets, enrolment codes, population estimates and stock
    /// thresholds; nothing organisation-wide.
    Sites(Vec<SiteId>),
}

impl Actor {
    /// The server's administration commands (whoever runs them can read the database anyway).
    pub fn cli() -> Self {
        Self { name: "cli".into(), address: None, scope: Scope::Organisation }
    }

    /// The server's own periodic work (the retention period).
    pub fn server() -> Self {
        Self { name: "server".into(), address: None, scope: Scope::Organisation }
    }

    /// Whether the actor may administer `site`.
    pub fn manages(&self, site: SiteId) -> bool {
        match &self.scope {
            Scope::Organisation => true,
            Scope::Sites(sites) => sites.contains(&site),
        }
    }

    fn organisation_wide(&self, what: &str) -> Result<(), AdminError> {
        match self.scope {
            Scope::Organisation => Ok(()),
            Scope::Sites(_) => Err(AdminError::Forbidden(format!("{what} is for administrators"))),
        }
    }

    fn site(&self, site: SiteId) -> Result<(), AdminError> {
        if self.manages(site) { Ok(()) } else { Err(AdminError::Forbidden(format!("site {site} is not one of yours"))) }
    }
}

/// Why an administrative change was refused; nothing was changed.
#[derive(Debug, Error)]
pub enum AdminError {
    /// Fields that break a rule, each with its machine code.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The change clashes with what exists (a duplicate name, a retired item in a kit).
    #[error("{0}")]
    Conflict(String),
    /// The audit entry could not be written, so nothing was done.
    #[error("the audit log cannot be written now, so nothing was done: {0}")]
    AuditUnavailable(String),
    /// Another server (DHIS2) could not be reached, or refused.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Db(DbError),
}

impl From<DbError> for AdminError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(what) => AdminError::NotFound(what),
            DbError::Conflict(what) | DbError::Unique(what) => AdminError::Conflict(what),
            other => AdminError::Db(other),
        }
    }
}

impl From<crate::services::accounts::AccountError> for AdminError {
    fn from(e: crate::services::accounts::AccountError) -> Self {
        use crate::services::accounts::AccountError as A;
        match e {
            A::Db(db) => db.into(),
            A::NotFound(_) => AdminError::NotFound(e.to_string()),
            A::Exists(_) => AdminError::Conflict(e.to_string()),
            other => AdminError::Invalid(vec![invalid("user", "invalid", other.to_string())]),
        }
    }
}

/// One refused field.
pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), code, message: message.into() }
}

/// A name as stored: trimmed, 1 to `max` characters, no control characters.
pub fn clean_name(field: &str, name: &str, max: usize) -> Result<String, FieldError> {
    clean_text(field, name, max, "a name is needed")
}

/// One line of text typed by a person, trimmed: required (`missing` says what to type), at
/// most `max` characters, no control characters.
pub fn clean_text(field: &str, text: &str, max: usize, missing: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 {
        return Err(invalid(field, "required", missing));
    }
    if chars > max {
        return Err(invalid(field, "too_long", format!("at most {max} characters, got {chars}")));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "control_characters", format!("the {field} may not contain control characters")));
    }
    Ok(text.to_string())
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() > 120 { format!("{}…", text.chars().take(120).collect::<String>()) } else { text }
}

/// `field: before → after; ...` for every field that differs (the audit entry's detail).
pub fn changes(before: &Map<String, Value>, after: &Map<String, Value>) -> String {
    let mut out = Vec::new();
    for (field, new) in after {
        let old = before.get(field).unwrap_or(&Value::Null);
        if old != new {
            out.push(format!("{field}: {} → {}", short(old), short(new)));
        }
    }
    if out.is_empty() { "no change".into() } else { out.join("; ") }
}

/// Writes the audit entry of a change about to be made; refuses when it cannot be written.
pub async fn record(
    store: &Store,
    actor: &Actor,
    action: &str,
    target: String,
    detail: String,
) -> Result<(), AdminError> {
    let mut event = AuditEvent::new(&actor.name, action, target, detail);
    if let Some(address) = &actor.address {
        event = event.from_address(address.clone());
    }
    store.append_audit(event, now_ms()).await.map_err(|e| {
        tracing::error!(error = %e, action, "could not write an audit entry: the change is refused");
        AdminError::AuditUnavailable(e.to_string())
    })
}

/// A record's fields as a JSON object.
pub(crate) fn fields_of<T: serde::Serialize>(value: &T) -> Result<Map<String, Value>, AdminError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AdminError::Db(DbError::Corrupt("a record did not encode as an object".into()))),
    }
}
