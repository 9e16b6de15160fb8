//! `outpost-server`: parses the command line and runs it (`cli.rs` holds the commands).

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    outpost_server::cli::run(outpost_server::cli::Cli::parse()).await
}
