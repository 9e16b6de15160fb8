//! Moving an office between databases: the whole database written to a file readable only by
//! its owner, and loaded into an empty database (for example from SQLite to PostgreSQL).

use outpost_server_store::dump::{DUMP_FORMAT, Dump};
use outpost_server_store::{DbError, Store};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use thiserror::Error;

/// Why a transfer failed.
#[derive(Debug, Error)]
pub enum TransferError {
    #[error("{path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("creating {path} (it must not exist yet): {source}")]
    Create { path: String, source: std::io::Error },
    #[error("{0} is not an Outpost export: {1}")]
    NotAnExport(String, serde_json::Error),
    #[error("{path} has export format {found}; this server reads format {DUMP_FORMAT}")]
    Format { path: String, found: u32 },
    #[error(transparent)]
    Db(#[from] DbError),
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> TransferError + '_ {
    move |source| TransferError::File { path: path.display().to_string(), source }
}

/// Writes everything in the database to `out`, which must not exist yet (mode 0600). Returns
/// what was written.
pub async fn export_to(store: &Store, out: &Path) -> Result<Dump, TransferError> {
    let dump = store.export().await?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(out).map_err(|source| TransferError::Create { path: out.display().to_string(), source })?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer(&mut writer, &dump)
        .map_err(|e| TransferError::File { path: out.display().to_string(), source: e.into() })?;
    writer.flush().map_err(file_error(out))?;
    writer.get_ref().sync_all().map_err(file_error(out))?;
    Ok(dump)
}

/// Reads an export file, checking its format.
pub fn read(input: &Path) -> Result<Dump, TransferError> {
    let file = std::fs::File::open(input).map_err(file_error(input))?;
    let dump: Dump = serde_json::from_reader(BufReader::new(file))
        .map_err(|e| TransferError::NotAnExport(input.display().to_string(), e))?;
    if dump.format != DUMP_FORMAT {
        return Err(TransferError::Format { path: input.display().to_string(), found: dump.format });
    }
    Ok(dump)
}

/// Loads an export into an empty database and checks the result.
pub async fn import(store: &Store, dump: Dump) -> Result<(), TransferError> {
    store.import(dump).await?;
    store.check().await?;
    Ok(())
}
