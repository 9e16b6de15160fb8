//! The server's clock, in one place so every part reads it the same way.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The UTC date of a moment, `YYYY-MM-DD`.
pub fn date_of(ms: u64) -> String {
    let moment = time::OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX));
    format_date(moment.date())
}

/// `YYYY-MM-DD`.
pub fn format_date(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// Parses `YYYY-MM-DD` (a real calendar date).
pub fn parse_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if text.len() != 10 {
        return None;
    }
    time::Date::parse(text, &format).ok()
}

/// An RFC 3339 UTC timestamp of a moment, to the second (`2026-12-05T21:55:00Z`).
pub fn rfc3339(ms: u64) -> String {
    let moment = time::OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX));
    format!("{}T{:02}:{:02}:{:02}Z", format_date(moment.date()), moment.hour(), moment.minute(), moment.second())
}
