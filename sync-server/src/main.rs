//! `outpost-server`: the sync server's command line.
//!
//! * `serve` runs the HTTP server (creating the database and a demo organisation on first run);
//! * `enroll --site NAME` prints a one-time enrolment code for a tablet.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use outpost_server::db::{AnyStorage, Storage};
use outpost_server::settings::{Settings, StorageSettings};
use outpost_server::time::now_ms;
use outpost_server::tokens::{hash_enrollment_code, new_enrollment_code};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "outpost-server", version, about = "Outpost sync server for harm reduction field data")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sync server.
    Serve {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(flatten)]
        settings: Settings,
        /// Do not create the demo organisation on first run.
        #[arg(long, env = "OUTPOST_NO_DEMO")]
        no_demo: bool,
    },
    /// Bring the database schema up to date and exit (`serve` does it too).
    Migrate {
        #[command(flatten)]
        storage: StorageSettings,
    },
    /// Write everything in the database to a JSON file (readable only by you).
    Export {
        #[command(flatten)]
        storage: StorageSettings,
        /// File to create; an existing file is not overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Load an export into an empty database (for example, move an office from SQLite to PostgreSQL).
    Import {
        #[command(flatten)]
        storage: StorageSettings,
        /// File written by `export`.
        #[arg(long = "in")]
        input: PathBuf,
    },
    /// Print a one-time enrolment code for a tablet at a site.
    Enroll {
        #[command(flatten)]
        storage: StorageSettings,
        /// The site's name, as `outpost-server serve` lists it at start-up.
        #[arg(long)]
        site: String,
        /// Hours the code stays valid.
        #[arg(long, default_value_t = 72, value_parser = clap::value_parser!(u64).range(1..=24 * 30))]
        valid_hours: u64,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { storage, settings, no_demo } => serve(storage, settings, no_demo).await,
        Command::Enroll { storage, site, valid_hours } => enroll(storage, &site, valid_hours).await,
        Command::Migrate { storage } => {
            open(&storage).await?;
            eprintln!("The database at {} is up to date.", storage.describe());
            Ok(())
        }
        Command::Export { storage, out } => export(storage, &out).await,
        Command::Import { storage, input } => import(storage, &input).await,
    }
}

async fn open(storage: &StorageSettings) -> Result<AnyStorage> {
    storage
        .open()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("opening the database {}", storage.describe()))
}

async fn serve(storage_settings: StorageSettings, settings: Settings, no_demo: bool) -> Result<()> {
    let storage = open(&storage_settings).await?;
    if !no_demo && storage.seed_demo(now_ms()).await.context("creating the demo organisation")? {
        tracing::info!("created the demo organisation with sites \"Drop-in centre\" and \"Street outreach team\"");
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    tracing::info!(address = %listener.local_addr()?, backend = storage.kind(), data = %storage_settings.describe(), "outpost-server listening");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    outpost_server::launch(storage, settings, listener, shutdown).await.context("serving")
}

async fn enroll(storage_settings: StorageSettings, site: &str, valid_hours: u64) -> Result<()> {
    let storage = open(&storage_settings).await?;
    storage.seed_demo(now_ms()).await.context("creating the demo organisation")?;
    let code = new_enrollment_code();
    let now = now_ms();
    let site = storage
        .create_enrollment_code(site, &hash_enrollment_code(&code), now + valid_hours * 3600 * 1000, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{code}");
    eprintln!("One-time enrolment code for site \"{}\", valid for {valid_hours} hours.", site.name);
    Ok(())
}

async fn export(storage_settings: StorageSettings, out: &Path) -> Result<()> {
    let storage = open(&storage_settings).await?;
    let dump = storage.export().await.map_err(|e| anyhow::anyhow!("{e}")).context("reading the database")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(out).with_context(|| format!("creating {} (it must not exist yet)", out.display()))?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer(&mut writer, &dump).context("writing the export")?;
    writer.flush().context("writing the export")?;
    writer.get_ref().sync_all().context("writing the export")?;
    eprintln!(
        "Exported {} records, {} devices and {} conflicts to {}.",
        dump.records.len(),
        dump.devices.len(),
        dump.conflicts.len(),
        out.display()
    );
    Ok(())
}

async fn import(storage_settings: StorageSettings, input: &Path) -> Result<()> {
    let file = std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
    let dump: outpost_server::db::Dump = serde_json::from_reader(BufReader::new(file))
        .with_context(|| format!("{} is not an Outpost export", input.display()))?;
    if dump.format != outpost_server::db::DUMP_FORMAT {
        anyhow::bail!(
            "{} has export format {}; this server reads format {}",
            input.display(),
            dump.format,
            outpost_server::db::DUMP_FORMAT
        );
    }
    let storage = open(&storage_settings).await?;
    let records = dump.records.len();
    storage.import(dump).await.map_err(|e| anyhow::anyhow!("{e}")).context("loading the export")?;
    storage.check().await.map_err(|e| anyhow::anyhow!("{e}")).context("checking the imported database")?;
    eprintln!("Imported {records} records into {}.", storage_settings.describe());
    Ok(())
}
