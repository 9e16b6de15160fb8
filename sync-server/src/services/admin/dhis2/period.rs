//! DHIS2's period identifiers for a report's dates: a month (`202610`), a quarter (`2026Q4`), a
//! calendar half-year (`2026S2`), an April half-year (`2026AprilS1` = April–September,
//! `2025AprilS2` = October 2025–March 2026: PEPFAR's fiscal halves), a year (`2026`) or a
//! financial year from October (`2025Oct` = October 2025–September 2026); and the same period
//! as ADX writes it, a start date and an ISO 8601 duration (`2026-10-01/P3M`). Any other span
//! of dates is not a period DHIS2 stores data for, and is refused.

use time::{Date, Month};

/// A period both ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// DHIS2's identifier (`dataValueSets`).
    pub dhis2: String,
    /// ADX's start/duration.
    pub adx: String,
}

fn last_day(year: i32, month: Month) -> u8 {
    time::util::days_in_month(month, year)
}

/// The month `months` after (year, month), as (year, month).
fn add_months(year: i32, month: Month, months: u8) -> (i32, Month) {
    let index = u8::from(month) - 1 + months;
    let year = year + i32::from(index / 12);
    let month = Month::try_from(index % 12 + 1).unwrap_or(Month::January);
    (year, month)
}

/// The period from `from` to `to` (inclusive), or why DHIS2 has none.
pub fn period(from: Date, to: Date) -> Result<Period, String> {
    let refused = || {
        format!(
            "{from} to {to} is not a period DHIS2 keeps data for: choose a month, a quarter, a half-year (January or April, July or October) or a year (January or October)"
        )
    };
    if from.day() != 1 {
        return Err(refused());
    }
    let (y, m) = (from.year(), from.month());
    let spans = |months: u8| {
        let (ey, em) = add_months(y, m, months - 1);
        to.year() == ey && to.month() == em && to.day() == last_day(ey, em)
    };
    let adx = |months: u8| {
        let duration = if months == 12 { "P1Y".to_string() } else { format!("P{months}M") };
        format!("{from}/{duration}")
    };
    let n = u8::from(m);
    let dhis2 = if spans(1) {
        format!("{y}{n:02}")
    } else if spans(3) && matches!(n, 1 | 4 | 7 | 10) {
        format!("{y}Q{}", n.div_ceil(3))
    } else if spans(6) && matches!(n, 1 | 7) {
        format!("{y}S{}", if n == 1 { 1 } else { 2 })
    } else if spans(6) && n == 4 {
        format!("{y}AprilS1")
    } else if spans(6) && n == 10 {
        format!("{y}AprilS2")
    } else if spans(12) && n == 1 {
        format!("{y}")
    } else if spans(12) && n == 10 {
        format!("{y}Oct")
    } else {
        return Err(refused());
    };
    let months = if spans(1) {
        1
    } else if spans(3) {
        3
    } else if spans(6) {
        6
    } else {
        12
    };
    Ok(Period { dhis2, adx: adx(months) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        crate::time::parse_date(text).unwrap_or(Date::MIN)
    }

    fn p(from: &str, to: &str) -> Result<(String, String), String> {
        period(d(from), d(to)).map(|p| (p.dhis2, p.adx))
    }

    #[test]
    fn every_period_type_dhis2_stores_is_named_both_ways() {
        let ok = |from: &str, to: &str, dhis2: &str, adx: &str| {
            assert_eq!(p(from, to), Ok((dhis2.to_string(), adx.to_string())), "{from}..{to}");
        };
        ok("2026-10-01", "2026-10-31", "202610", "2026-10-01/P1M");
        ok("2024-02-01", "2024-02-29", "202402", "2024-02-01/P1M");
        ok("2026-07-01", "2026-09-30", "2026Q3", "2026-07-01/P3M");
        ok("2026-10-01", "2026-12-31", "2026Q4", "2026-10-01/P3M");
        ok("2026-01-01", "2026-06-30", "2026S1", "2026-01-01/P6M");
        ok("2026-07-01", "2026-12-31", "2026S2", "2026-07-01/P6M");
        ok("2026-04-01", "2026-09-30", "2026AprilS1", "2026-04-01/P6M");
        ok("2025-10-01", "2026-03-31", "2025AprilS2", "2025-10-01/P6M");
        ok("2026-01-01", "2026-12-31", "2026", "2026-01-01/P1Y");
        ok("2025-10-01", "2026-09-30", "2025Oct", "2025-10-01/P1Y");
    }

    #[test]
    fn other_spans_are_refused_with_what_would_do() {
        for (from, to) in [
            ("2026-10-02", "2026-10-31"),
            ("2026-10-01", "2026-10-30"),
            ("2026-02-01", "2026-04-30"),
            ("2026-03-01", "2026-08-31"),
            ("2026-06-01", "2027-05-31"),
            ("2026-10-01", "2026-11-30"),
        ] {
            let error = p(from, to).err().unwrap_or_default();
            assert!(error.contains("not a period DHIS2 keeps") && error.contains("a quarter"), "{from}..{to}: {error}");
        }
    }
}
