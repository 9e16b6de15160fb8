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
