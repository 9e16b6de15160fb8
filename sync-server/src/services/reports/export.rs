//! Exports: record lists and the indicator report as rows, written as CSV (RFC 4180, formulas
//! defused) or XLSX.

use super::filters::Filter;
use super::indicators::{IndicatorReport, SMALL_CELL, indicators};
use super::queries;
use outpost_server_store::{DbError, Store};

/// Every export, by name.
pub const EXPORT_KINDS: &[&str] =
    &["contacts", "distributions", "referrals", "tests", "stock", "tallies", "surveys", "indicators"];

/// The file formats of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(text: Option<&str>) -> Option<Format> {
        match text {
            None | Some("csv") => Some(Format::Csv),
            Some("xlsx") => Some(Format::Xlsx),
            Some(_) => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The rows of export `kind` (a header first); `None` for an unknown kind.
pub async fn rows(store: &Store, kind: &str, filter: &Filter) -> Result<Option<Vec<Vec<String>>>, DbError> {
    if kind == "indicators" {
        return Ok(Some(indicator_rows(&indicators(store, filter).await?)));
    }
    if kind == "surveys" {
        return Ok(Some(super::surveys::export_rows(store, filter).await?));
    }
    store.refresh_projection().await?;
    let Some((header, rows)) = queries::export_records(store, kind, filter).await? else { return Ok(None) };
    let mut out = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    out.extend(rows.iter().map(|row| row.iter().map(|v| v.to_text()).collect()));
    if kind == "contacts" {
        contact_questions(store, &mut out).await?;
    }
    Ok(Some(out))
}

/// Replaces the contacts export's last column (`form_answers`, JSON) with one column per
/// reported contact question of the programme's forms (codes, then labels); free text never.
async fn contact_questions(store: &Store, rows: &mut [Vec<String>]) -> Result<(), DbError> {
    use outpost_core::forms::FormKind;
    let definitions = super::surveys::definitions(store).await?;
    let columns = super::surveys::AnswerColumns::new(&definitions, FormKind::ContactQuestions);
    for (i, row) in rows.iter_mut().enumerate() {
        let last = row.pop().unwrap_or_default();
        if i == 0 {
            row.extend(columns.header());
            continue;
        }
        let by_form: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&last).unwrap_or_default();
        row.extend(
            columns.cells(&definitions, |f| by_form.get(f).and_then(|e| e.get("answers")).and_then(|a| a.as_object())),
        );
    }
    Ok(())
}

/// The indicator report as rows (indicator, breakdown, key, value), suppressed cells as `<5`.
pub fn indicator_rows(report: &IndicatorReport) -> Vec<Vec<String>> {
    let show = |value: Option<f64>, suppressed: bool| {
        if suppressed {
            format!("<{SMALL_CELL}")
        } else {
            value.map(|v| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }).unwrap_or_default()
        }
    };
    let mut rows = vec![vec![
        "indicator".to_string(),
        "breakdown".into(),
        "key".into(),
        "value".into(),
        "how it is computed".into(),
    ]];
    for i in &report.indicators {
        rows.push(vec![
            i.key.clone(),
            String::new(),
            String::new(),
            show(i.value, i.suppressed),
            i.formula.to_string(),
        ]);
        for b in &i.breakdowns {
            for c in &b.rows {
                rows.push(vec![
                    i.key.clone(),
                    b.dimension.clone(),
                    c.key.clone(),
                    show(c.value, c.suppressed),
                    String::new(),
                ]);
            }
        }
    }
    rows
}

/// RFC 4180 CSV. Cells that a spreadsheet could run as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return: the characters OWASP lists) are prefixed with `'`; numbers
/// stay numbers.
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| {
                let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
                    format!("'{cell}")
                } else {
                    cell.clone()
                };
                if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// An XLSX workbook with one sheet named `kind`: the header in bold, numbers as numbers.
pub fn xlsx(kind: &str, rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(kind)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if r == 0 {
                sheet.write_string_with_format(r, c, cell, &bold)?;
            } else {
                match cell.parse::<f64>() {
                    Ok(n) if n.is_finite() && !cell.starts_with('+') => sheet.write_number(r, c, n)?,
                    _ => sheet.write_string(r, c, cell)?,
                };
            }
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let rows = vec![vec!["a,b".to_string(), "say \"hi\"".into(), "=HYPERLINK(\"x\")".into(), "-5".into()]];
        assert_eq!(csv(&rows), "\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",-5\r\n");
        // A tab or carriage return first is read as a formula by some spreadsheets too.
        let rows = vec![vec!["\t=1+2".to_string(), "\r@SUM(A1)".into(), "+31 6".into(), "@home".into(), "1e3".into()]];
        assert_eq!(csv(&rows), "'\t=1+2,\"'\r@SUM(A1)\",'+31 6,'@home,1e3\r\n");
    }

    #[test]
    fn a_workbook_is_written() {
        let rows = vec![vec!["a".to_string(), "b".into()], vec!["1".into(), "x".into()]];
        let bytes = xlsx("contacts", &rows).expect("writes");
        assert_eq!(&bytes[..2], b"PK", "an XLSX file is a zip");
    }
}
