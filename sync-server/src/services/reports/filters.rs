//! What a report covers: the period, the sites (never outside the user's own) and whether small
//! cells are suppressed, read from a request's query parameters.

use crate::time::{date_of, format_date, parse_date};
use outpost_core::SiteId;
use thiserror::Error;

/// Longest period a report may cover.
pub const MAX_REPORT_DAYS: i64 = 5 * 366;

/// Longest query string accepted.
pub const MAX_QUERY_BYTES: usize = 8192;

/// What a report covers.
#[derive(Clone, Debug)]
pub struct Filter {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// The day after `to` (exclusive bound).
    pub until: String,
    pub sites: Vec<SiteId>,
    pub suppress: bool,
    /// Days covered.
    pub days: i64,
}

/// Why parameters were refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FilterError {
    /// A parameter is malformed or out of range; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// A site outside the user's.
    #[error("you do not have access to that site")]
    Forbidden,
}

fn invalid(message: impl Into<String>) -> FilterError {
    FilterError::Invalid(message.into())
}

/// The query string's parameters, in order.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, FilterError> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY_BYTES {
        return Err(invalid("the query string is too long"));
    }
    serde_urlencoded::from_str(raw).map_err(|e| invalid(format!("unreadable query string: {e}")))
}

/// The first value of parameter `name`.
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Refuses any parameter not in `known`.
pub fn only(pairs: &[(String, String)], known: &[&str]) -> Result<(), FilterError> {
    match pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        Some((k, _)) => Err(invalid(format!("unknown parameter {k:?}"))),
        None => Ok(()),
    }
}

/// The sites asked for with `site=` (all of `mine` when none is named); any outside `mine` is
/// forbidden.
pub fn scoped_sites(mine: &[SiteId], pairs: &[(String, String)]) -> Result<Vec<SiteId>, FilterError> {
    let asked: Vec<&str> = pairs.iter().filter(|(k, _)| k == "site").map(|(_, v)| v.as_str()).collect();
    if asked.is_empty() {
        return Ok(mine.to_vec());
    }
    let mut out = Vec::new();
    for site in asked {
        let id: SiteId = site.parse().map_err(|_| invalid(format!("site: {site:?} is not a site id")))?;
        if !mine.contains(&id) {
            return Err(FilterError::Forbidden);
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// While small cells are suppressed, a report covers whole calendar months: it starts on the
/// 1st of a month and ends on the last day of a month, or runs to today (a month, quarter or year
/// so far). Periods that differ by a few days would otherwise give back, by subtraction, the
/// people of those days, which suppression hides (day 1: 8 people, days 1–2: 10, so 2 on day 2).
/// What it does not stop is written in docs/security.md.
fn whole_months(from: time::Date, to: time::Date, today: time::Date) -> Result<(), FilterError> {
    if from.day() != 1 {
        return Err(invalid(format!(
            "from: while small numbers are hidden, a report starts on the 1st of a month ({} here)",
            format_date(from.replace_day(1).unwrap_or(from))
        )));
    }
    let last = time::util::days_in_month(to.month(), to.year());
    if to.day() != last && to < today {
        return Err(invalid(format!(
            "to: while small numbers are hidden, a report ends on the last day of a month ({} here) or runs to today",
            format_date(to.replace_day(last).unwrap_or(to))
        )));
    }
    Ok(())
}

impl Filter {
    /// Reads `from`, `to`, `site` and `suppress` (and accepts `format` for exports). The period
    /// defaults to the calendar month of `now_ms`; with suppression on it must be whole months
    /// (see [`whole_months`]).
    pub fn parse(pairs: &[(String, String)], mine: &[SiteId], now_ms: u64) -> Result<Filter, FilterError> {
        only(pairs, &["from", "to", "site", "suppress", "format"])?;
        let today = parse_date(&date_of(now_ms)).ok_or_else(|| invalid("the server's clock is off"))?;
        let month_start = today.replace_day(1).map_err(|e| invalid(e.to_string()))?;
        let date = |name: &str, default: time::Date| -> Result<time::Date, FilterError> {
            match first(pairs, name) {
                None | Some("") => Ok(default),
                Some(text) => {
                    parse_date(text).ok_or_else(|| invalid(format!("{name}: {text:?} is not a date (YYYY-MM-DD)")))
                }
            }
        };
        let from = date("from", month_start)?;
        let month_end = month_start
            .replace_day(time::util::days_in_month(month_start.month(), month_start.year()))
            .map_err(|e| invalid(e.to_string()))?;
        let to = date("to", month_end)?;
        if to < from {
            return Err(invalid("to: the period ends before it starts"));
        }
        let days = (to - from).whole_days() + 1;
        if days > MAX_REPORT_DAYS {
            return Err(invalid(format!("the period is longer than {MAX_REPORT_DAYS} days")));
        }
        let suppress = match first(pairs, "suppress") {
            None | Some("") | Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(invalid(format!("suppress: {other:?} is not true or false"))),
        };
        if suppress {
            whole_months(from, to, today)?;
        }
        let until = to.next_day().ok_or_else(|| invalid("to: date out of range"))?;
        Ok(Filter {
            from: format_date(from),
            to: format_date(to),
            until: format_date(until),
            sites: scoped_sites(mine, pairs)?,
            suppress,
            days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        query_pairs(Some(q)).expect("parses")
    }

    #[test]
    fn the_period_defaults_to_the_month_and_is_checked() {
        let site = SiteId(uuid::Uuid::from_bytes([1; 16]));
        // 2026-11-15T12:00:00Z
        let now = 1_795_262_400_000;
        let f = Filter::parse(&pairs(""), &[site], now).expect("default");
        assert_eq!(
            (f.from.as_str(), f.to.as_str(), f.until.as_str(), f.days),
            ("2026-11-01", "2026-11-30", "2026-12-01", 30)
        );
        assert!(
            matches!(Filter::parse(&pairs("from=2026-02-30"), &[site], now), Err(FilterError::Invalid(m)) if m.starts_with("from:"))
        );
        assert!(matches!(
            Filter::parse(&pairs("from=2026-11-02&to=2026-11-01"), &[site], now),
            Err(FilterError::Invalid(_))
        ));
        assert!(
            matches!(Filter::parse(&pairs("colour=red"), &[site], now), Err(FilterError::Invalid(m)) if m.contains("colour"))
        );
        let other = SiteId(uuid::Uuid::from_bytes([2; 16]));
        assert_eq!(Filter::parse(&pairs(&format!("site={other}")), &[site], now).err(), Some(FilterError::Forbidden));
        assert!(!Filter::parse(&pairs("suppress=false"), &[site], now).expect("off").suppress);
    }

    #[test]
    fn while_small_numbers_are_hidden_periods_are_whole_months() {
        let site = SiteId(uuid::Uuid::from_u128(1));
        // 2026-11-15, 12:00 UTC.
        let now = 1_794_744_000_000;
        let parse = |q: &str| Filter::parse(&pairs(q), &[site], now);
        for ok in [
            "from=2026-10-01&to=2026-10-31",
            "from=2026-01-01&to=2026-03-31",
            "from=2024-02-01&to=2024-02-29",
            "from=2026-11-01&to=2026-11-15",
            "from=2026-10-01&to=2026-11-16",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok).err());
        }
        // A day's difference would give a day's people back by subtraction.
        let from = parse("from=2026-10-02&to=2026-10-31").err();
        assert!(
            matches!(&from, Some(FilterError::Invalid(m)) if m.starts_with("from:") && m.contains("2026-10-01")),
            "{from:?}"
        );
        let to = parse("from=2026-10-01&to=2026-10-30").err();
        assert!(
            matches!(&to, Some(FilterError::Invalid(m)) if m.starts_with("to:") && m.contains("2026-10-31")),
            "{to:?}"
        );
        assert!(parse("from=2026-11-01&to=2026-11-14").is_err(), "a running period runs to today");
        // Without suppression (audited), any days.
        assert!(parse("from=2026-10-02&to=2026-10-30&suppress=false").is_ok());
    }
}
