//! What every command needs to read its arguments and the clock.

use crate::error::CommandError;
use outpost_core::RecordId;

/// A command's result.
pub type Result<T> = std::result::Result<T, CommandError>;

/// The tablet's clock, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The tablet's clock as RFC 3339, to the second.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "2000-01-01T00:00:00Z".into())
}

/// A record id sent by the UI.
pub fn parse_id(text: &str) -> Result<RecordId> {
    text.parse().map_err(|_| CommandError::invalid(format!("{text:?} is not a record id")))
}
