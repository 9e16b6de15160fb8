//! `outpost-server audit`: verify the keyed chain (optionally against a checkpoint kept outside
//! the database) and write checkpoints of its head.

use super::{db_error, open};
use crate::settings::StorageSettings;
use crate::time::now_ms;
use anyhow::{Context, Result};
use clap::Subcommand;
use outpost_server_store::audit::{AuditSummary, Checkpoint, verify_audit_chain, verify_since};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum AuditAction {
    /// Verify that no audit entry was changed, removed or reordered; print the newest entry's
    /// number and hash.
    Verify {
        /// A checkpoint file (`audit checkpoint --out`): also verify that the log still holds
        /// the entry its newest line saw, unchanged (finds a log cut short).
        #[arg(long, value_name = "FILE")]
        since: Option<PathBuf>,
    },
    /// Write a checkpoint of the chain's head, signed with the server key, to keep outside the
    /// database (a line appended to FILE, or printed).
    Checkpoint {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub async fn run(storage: StorageSettings, action: AuditAction) -> Result<()> {
    match action {
        AuditAction::Verify { since } => verify(storage, since.as_deref()).await,
        AuditAction::Checkpoint { out } => checkpoint(storage, out.as_deref()).await,
    }
}

async fn verify(storage_settings: StorageSettings, since: Option<&Path>) -> Result<()> {
    let checkpoint = since.map(read_checkpoint).transpose()?;
    let storage = open(&storage_settings).await?;
    let rows = storage.audit_log().await.map_err(db_error)?;
    let verified = match &checkpoint {
        Some(checkpoint) => verify_since(&rows, storage.key(), checkpoint),
        None => verify_audit_chain(&rows, storage.key()),
    };
    let summary = verified.map_err(|broken| anyhow::anyhow!("audit log broken: {broken}"))?;
    println!("{}", describe(&summary));
    if let Some(checkpoint) = checkpoint {
        println!("it still holds entry {} as the checkpoint saw it", checkpoint.entry);
    }
    Ok(())
}

fn describe(summary: &AuditSummary) -> String {
    let mut text = format!("audit log intact: {} entries", summary.entries);
    if summary.unkeyed > 0 {
        text.push_str(&format!(
            " ({} from before the chain was keyed: those could be rewritten by whoever could write the database)",
            summary.unkeyed
        ));
    }
    if let Some(head) = &summary.head {
        text.push_str(&format!("\nnewest entry: {} hash {}", head.entry, head.hash));
    }
    text
}

/// The newest checkpoint of a file of them (one JSON object per line).
fn read_checkpoint(path: &Path) -> Result<Checkpoint> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the checkpoint {}", path.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .with_context(|| format!("{} holds no checkpoint", path.display()))?;
    serde_json::from_str(line)
        .with_context(|| format!("{} does not end with a checkpoint written by `audit checkpoint`", path.display()))
}

async fn checkpoint(storage_settings: StorageSettings, out: Option<&Path>) -> Result<()> {
    let storage = open(&storage_settings).await?;
    let rows = storage.audit_log().await.map_err(db_error)?;
    // Only an intact chain is worth a checkpoint.
    let summary =
        verify_audit_chain(&rows, storage.key()).map_err(|broken| anyhow::anyhow!("audit log broken: {broken}"))?;
    let head = summary.head.context("the audit log is empty: nothing to checkpoint yet")?;
    let at_ms = i64::try_from(now_ms()).unwrap_or(i64::MAX);
    let line = serde_json::to_string(&Checkpoint::sign(storage.key(), &head, at_ms))?;
    match out {
        None => println!("{line}"),
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).with_context(|| format!("opening {}", path.display()))?;
            writeln!(file, "{line}")
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            println!("checkpoint of entry {} written to {}", head.entry, path.display());
        }
    }
    Ok(())
}
