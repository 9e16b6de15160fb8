//! Forms uploaded by coordinators: an XLSForm workbook (`.xlsx`, or the old binary `.xls`) read
//! with `calamine` into the sheets that core's importer (`outpost_core::forms::xlsform`) reads.
//! A hostile file is refused before it costs memory: at most [`MAX_FILE_BYTES`] uploaded, and an
//! `.xlsx` (a zip archive) is first unpacked into nothing, counting, so that one unpacking to
//! more than [`MAX_UNPACKED_BYTES`] (a zip bomb) is refused before calamine reads it.

use outpost_core::forms::FormError;
use outpost_core::forms::xlsform::{self, Imported, Sheet};
use std::io::{Cursor, Read};

/// Largest workbook accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most bytes an `.xlsx` may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 100 * 1024 * 1024;
/// Most sheets read.
pub const MAX_SHEETS: usize = 20;

/// Why a workbook could not be read at all (problems inside a readable one are [`FormError`]s).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkbookError {
    #[error("the file is larger than {} MB", MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file unpacks to more than {} MB: it is not a form", MAX_UNPACKED_BYTES / (1024 * 1024))]
    TooLargeUnpacked,
    #[error("the file is not an Excel workbook (.xlsx or .xls)")]
    NotAWorkbook,
    #[error("the workbook has more than {MAX_SHEETS} sheets")]
    TooManySheets,
    #[error("the workbook cannot be read: {0}")]
    Unreadable(String),
}

/// What an upload gave: a form ready to publish, or every problem found in it.
#[derive(Debug)]
pub enum Checked {
    Ready(Box<Imported>),
    Refused(Vec<FormError>),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Unpacks every entry of a zip archive into nothing, refusing one that grows too large (the
/// sizes a zip declares can lie; the bytes that come out cannot).
fn check_unpacked_size(bytes: &[u8]) -> Result<(), WorkbookError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        let left = MAX_UNPACKED_BYTES - total;
        let n = std::io::copy(&mut (&mut entry).take(left + 1), &mut std::io::sink())
            .map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        total += n;
        if total > MAX_UNPACKED_BYTES {
            return Err(WorkbookError::TooLargeUnpacked);
        }
    }
    Ok(())
}

/// A cell as the text XLSForm means: whole numbers without `.0`, booleans as TRUE/FALSE, dates as
/// `YYYY-MM-DD`.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => outpost_core::forms::expr::number_text(*f),
        // As a spreadsheet shows them; `required` and `read_only` read TRUE as yes.
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => {
            // Excel counts days from 1899-12-30.
            let days = d.as_f64().floor() as i64 - 25_569;
            outpost_core::forms::expr::date_text(days)
        }
    }
}

/// Reads every sheet of a workbook as rows of cell texts (row 1 of the sheet is `rows[0]`).
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<Sheet>, WorkbookError> {
    use calamine::Reader;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(WorkbookError::TooLarge);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        check_unpacked_size(bytes)?;
    } else if !bytes.starts_with(CFB_MAGIC) {
        return Err(WorkbookError::NotAWorkbook);
    }
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
    let names = workbook.sheet_names();
    if names.len() > MAX_SHEETS {
        return Err(WorkbookError::TooManySheets);
    }
    let mut sheets = Vec::new();
    for name in names {
        let range = workbook.worksheet_range(&name).map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        let (first_row, first_column) = range.start().map_or((0, 0), |(r, c)| (r as usize, c as usize));
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); first_row];
        for row in range.rows() {
            let mut cells = vec![String::new(); first_column];
            cells.extend(row.iter().map(cell_text));
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            rows.push(cells);
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

/// Reads an uploaded workbook and imports it as a form (`file_name` names the form when its
/// settings give no id).
pub fn check_upload(bytes: &[u8], file_name: &str) -> Result<Checked, WorkbookError> {
    let sheets = read_workbook(bytes)?;
    let stem = std::path::Path::new(file_name).file_stem().and_then(|s| s.to_str()).unwrap_or("form");
    Ok(match xlsform::import(&sheets, stem) {
        Ok(imported) => Checked::Ready(Box::new(imported)),
        Err(errors) => Checked::Refused(errors),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in entries {
                zip.start_file(*name, options).expect("entry");
                zip.write_all(data).expect("write");
            }
            zip.finish().expect("finish");
        }
        out.into_inner()
    }

    #[test]
    fn hostile_files_are_refused_before_they_are_read() {
        assert_eq!(read_workbook(&vec![0u8; MAX_FILE_BYTES + 1]).err(), Some(WorkbookError::TooLarge));
        assert_eq!(read_workbook(b"type,name,label\ntext,a,A\n").err(), Some(WorkbookError::NotAWorkbook));
        // 200 MB of zeros packs into a few hundred kilobytes.
        let zeros = vec![0u8; 1024 * 1024];
        let entries: Vec<(String, &[u8])> =
            (0..200).map(|i| (format!("xl/worksheets/sheet{i}.xml"), zeros.as_slice())).collect();
        let entries: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let bomb = zip_of(&entries);
        assert!(bomb.len() < MAX_FILE_BYTES, "{} bytes", bomb.len());
        assert_eq!(read_workbook(&bomb).err(), Some(WorkbookError::TooLargeUnpacked));
        // A zip that is not a workbook.
        let not_xlsx = zip_of(&[("hello.txt", b"hello")]);
        assert!(matches!(read_workbook(&not_xlsx), Err(WorkbookError::Unreadable(_))));
        let mut truncated = zip_of(&[("hello.txt", b"hello")]);
        truncated.truncate(20);
        assert!(matches!(read_workbook(&truncated), Err(WorkbookError::Unreadable(_))));
    }
}
