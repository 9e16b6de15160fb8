//! The `outpost-server` commands: `serve` runs the HTTP server (creating the database and a
//! demo organisation on first run); the others administer the database from a shell (enrolment
//! codes, tablets, sites, users, the audit log, exports and imports, the OpenAPI document) and
//! check XLSForm files.
//! `main.rs` only parses the command line and calls [`run`].

use crate::services::accounts::{self, Role};
use crate::services::admin::{Actor, AdminError, users as admin_users};
use crate::services::{forms, transfer};
use crate::settings::{Settings, StorageSettings};
use crate::time::now_ms;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use outpost_server_store::Store;
use outpost_server_store::audit::AuditEvent;
use std::path::{Path, PathBuf};

mod admin;
mod audit;

#[derive(Parser)]
#[command(name = "outpost-server", version, about = "Outpost sync server for harm reduction field data")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the server's OpenAPI document (the one it serves at /api/v1/openapi.json).
    Openapi,
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
    /// Remove tombstones older than the retention period now (`serve` does it every six hours).
    PurgeTombstones {
        #[command(flatten)]
        storage: StorageSettings,
        /// Remove records deleted more than this many days ago.
        #[arg(long, default_value_t = outpost_server_store::purge::DEFAULT_RETENTION_DAYS)]
        older_than_days: u64,
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
    /// List, revoke or rename enrolled tablets.
    Device {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: admin::DeviceAction,
    },
    /// List, add or change sites (name, population estimates, retired).
    Site {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: admin::SiteAction,
    },
    /// The commodity catalogue: list, add or change entries (JSON files), set a site's threshold.
    Catalogue {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: admin::CatalogueAction,
    },
    /// Kit templates: list, add or change (JSON files).
    Kit {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: admin::KitAction,
    },
    /// The organisation: its name, default language and client-code scheme.
    Org {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: admin::OrgAction,
    },
    /// A client's records: erase them on the client's request.
    Client {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: admin::ClientAction,
    },
    /// Enrolment codes not used yet: list or cancel.
    EnrollCodes {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: admin::CodeAction,
    },
    /// Add, list, change or disable people's accounts (dashboard logins, workers' tablets).
    User {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: UserAction,
    },
    /// Check the audit log's keyed chain, or write a checkpoint of it.
    Audit {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(subcommand)]
        action: audit::AuditAction,
    },
    /// Forms (XLSForm): check a workbook, publish it to tablets, list what is published.
    Form {
        #[command(subcommand)]
        action: FormAction,
    },
    /// Print a one-time enrolment code for a tablet at a site.
    Enroll {
        #[command(flatten)]
        storage: StorageSettings,
        #[command(flatten)]
        code: admin::EnrollArgs,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user. The password is read from standard input with --password-stdin; otherwise a
    /// strong one is generated and printed once.
    Add {
        #[arg(long)]
        username: String,
        /// outreach_worker, room_staff, coordinator or admin.
        #[arg(long)]
        role: String,
        /// A site the user works at (repeat for several; admins see every site).
        #[arg(long = "site")]
        sites: Vec<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every user with role, sites and status.
    List,
    /// Disable a user: no more logins, sessions end, their tablets are revoked.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Change a user's role (their sessions end).
    SetRole {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
    },
    /// Give a user access to a site.
    AddSite {
        #[arg(long)]
        username: String,
        #[arg(long)]
        site: String,
    },
    /// Remove a user from a site: their tablets stop receiving its records.
    RemoveSite {
        #[arg(long)]
        username: String,
        #[arg(long)]
        site: String,
    },
    /// Set a new password (read from standard input); every session of the user ends.
    Password {
        #[arg(long)]
        username: String,
    },
    /// Give a user a new temporary password (printed once; the next login asks for a new one).
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Set up a TOTP second factor; prints the secret and an otpauth:// link for the app.
    Totp {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum FormAction {
    /// Read an XLSForm file (.xlsx or .xls) and print the form it defines, or every problem in it
    /// with its sheet, row and column (exit status 1). Nothing is stored.
    Check {
        /// The workbook.
        file: PathBuf,
        /// Print the form's definition as JSON (what tablets receive) instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Check a workbook as `check` does and, with --publish, publish it as the next version of
    /// its form: every tablet receives it at its next sync. A form with problems changes nothing.
    Import {
        #[command(flatten)]
        storage: StorageSettings,
        /// The workbook.
        file: PathBuf,
        /// Publish the form (without it, the workbook is only checked).
        #[arg(long)]
        publish: bool,
    },
    /// Retire a published version: tablets stop offering it at their next sync; responses to it
    /// are still accepted and reported.
    Retire {
        #[command(flatten)]
        storage: StorageSettings,
        /// The form's id.
        #[arg(long)]
        id: String,
        /// The version to retire.
        #[arg(long)]
        version: u32,
    },
    /// List the published forms, each version with its status.
    List {
        #[command(flatten)]
        storage: StorageSettings,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Openapi => {
            println!("{}", crate::http::openapi::json());
            Ok(())
        }
        Command::Serve { storage, settings, no_demo } => serve(storage, settings, no_demo).await,
        Command::Enroll { storage, code } => admin::enroll(&open(&storage).await?, code).await,
        Command::User { storage, action } => user(storage, action).await,
        Command::Migrate { storage } => {
            open(&storage).await?;
            eprintln!("The database at {} is up to date.", storage.describe());
            Ok(())
        }
        Command::Export { storage, out } => export(storage, &out).await,
        Command::PurgeTombstones { storage, older_than_days } => {
            let storage = open(&storage).await?;
            let now = now_ms();
            let before = now.saturating_sub(older_than_days.saturating_mul(24 * 3600 * 1000));
            let report = storage.purge_tombstones(before, now).await.map_err(db_error)?;
            println!("removed {} tombstones deleted more than {older_than_days} days ago", report.purged);
            Ok(())
        }
        Command::Device { storage, action } => admin::device(&open(&storage).await?, action).await,
        Command::Site { storage, action } => admin::site(&open(&storage).await?, action).await,
        Command::Catalogue { storage, action } => admin::catalogue(&open(&storage).await?, action).await,
        Command::Kit { storage, action } => admin::kit(&open(&storage).await?, action).await,
        Command::Org { storage, action } => admin::org(&open(&storage).await?, action).await,
        Command::Client { storage, action } => admin::client(&open(&storage).await?, action).await,
        Command::EnrollCodes { storage, action } => admin::codes(&open(&storage).await?, action).await,
        Command::Audit { storage, action } => audit::run(storage, action).await,
        Command::Import { storage, input } => import(storage, &input).await,
        Command::Form { action: FormAction::Check { file, json } } => form_check(&file, json).map(drop),
        Command::Form { action: FormAction::Import { storage, file, publish } } => {
            let Some(form) = form_check(&file, false)? else { return Ok(()) };
            if !publish {
                eprintln!("The form is ready; add --publish to send it to tablets.");
                return Ok(());
            }
            let storage = open(&storage).await?;
            let version = forms::publish(&storage, &form, now_ms()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            audit(&storage, "form.publish", form.def.id.clone(), format!("version {version}")).await?;
            println!("{} {version}", form.def.id);
            eprintln!("Published form {} as version {version}: tablets receive it at their next sync.", form.def.id);
            Ok(())
        }
        Command::Form { action: FormAction::Retire { storage, id, version } } => {
            let storage = open(&storage).await?;
            if storage.retire_form(&id, version, now_ms()).await.map_err(db_error)? {
                audit(&storage, "form.retire", id.clone(), format!("version {version}")).await?;
                eprintln!("Retired version {version} of form {id}: tablets stop offering it at their next sync.");
            } else {
                eprintln!("Version {version} of form {id} was retired already.");
            }
            Ok(())
        }
        Command::Form { action: FormAction::List { storage } } => {
            let storage = open(&storage).await?;
            let org = storage.the_org().await.map_err(db_error)?;
            for (_, form) in storage.forms(org).await.map_err(db_error)? {
                println!("{}\t{}\t{:?}\t{}", form.form_id, form.version, form.status, form.published_at);
            }
            Ok(())
        }
    }
}

/// Reads and checks a workbook, printing the form or its problems; the form when it is ready.
fn form_check(file: &Path, json: bool) -> Result<Option<outpost_core::forms::CompiledForm>> {
    let meta = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if meta.len() > forms::MAX_FILE_BYTES as u64 {
        anyhow::bail!("{}: {}", file.display(), forms::WorkbookError::TooLarge);
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("form");
    let checked = forms::check_upload(&bytes, name).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    match checked {
        forms::Checked::Refused(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            anyhow::bail!("{}: {} problem(s); nothing was imported", file.display(), errors.len())
        }
        forms::Checked::Ready(imported) => {
            for w in &imported.warnings {
                eprintln!("warning: {w}");
            }
            let form = &imported.form;
            if json {
                println!("{}", serde_json::to_string_pretty(&form.def)?);
                return Ok(Some(imported.form));
            }
            let title = form.text(&form.def.title, &form.def.default_language).unwrap_or(&form.def.id);
            let languages: Vec<String> = form
                .def
                .languages
                .iter()
                .map(|l| if l.key.is_empty() { "(no language)".to_string() } else { l.key.clone() })
                .collect();
            println!("{title} (id {}, version {:?}, {:?})", form.def.id, form.def.version, form.def.kind);
            println!("languages: {}", languages.join(", "));
            for q in form.questions() {
                let label = form.text(&q.label, &form.def.default_language).unwrap_or("");
                println!("  row {:>4}  {:<16} {:<24} {label}", q.row, format!("{:?}", q.kind), q.name);
            }
            Ok(Some(imported.form))
        }
    }
}

async fn open(storage: &StorageSettings) -> Result<Store> {
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
    crate::launch(storage, settings, listener, shutdown).await.context("serving")
}

async fn export(storage_settings: StorageSettings, out: &Path) -> Result<()> {
    let storage = open(&storage_settings).await?;
    audit(&storage, "export", out.display().to_string(), "full database export").await?;
    let dump = transfer::export_to(&storage, out)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("exporting the database")?;
    eprintln!(
        "Exported {} records, {} devices, {} users and {} conflicts to {}.",
        dump.records.len(),
        dump.devices.len(),
        dump.accounts.users.len(),
        dump.conflicts.len(),
        out.display()
    );
    Ok(())
}

async fn import(storage_settings: StorageSettings, input: &Path) -> Result<()> {
    let dump = transfer::read(input).map_err(|e| anyhow::anyhow!("{e}"))?;
    let storage = open(&storage_settings).await?;
    let records = dump.records.len();
    transfer::import(&storage, dump).await.map_err(|e| anyhow::anyhow!("{e}")).context("loading the export")?;
    audit(&storage, "import", input.display().to_string(), format!("{records} records")).await?;
    eprintln!("Imported {records} records into {}.", storage_settings.describe());
    Ok(())
}

fn db_error(e: outpost_server_store::DbError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

async fn audit(storage: &Store, action: &str, target: impl Into<String>, detail: impl Into<String>) -> Result<()> {
    storage
        .append_audit(AuditEvent::new("cli", action, target, detail), now_ms())
        .await
        .map_err(db_error)
        .context("writing the audit log")
}

fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "-".into())
}

fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn parse_role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| anyhow::anyhow!("{}", accounts::AccountError::UnknownRole(text.to_string())))
}

fn show(user: &accounts::User) {
    let sites: Vec<&str> = user.sites.iter().map(|s| s.name.as_str()).collect();
    let status = if user.disabled { "disabled" } else { "active" };
    let totp = if user.totp { ", 2FA" } else { "" };
    println!("{:<24} {:<16} {:<8}{totp}  {}", user.username, user.role.as_str(), status, sites.join(", "));
}

/// The whole editable state of `username` with one change made by `edit` (the commands change
/// one thing at a time; the service takes the whole state, like the dashboard's form).
async fn user_form(
    storage: &Store,
    username: &str,
    edit: impl FnOnce(&mut admin_users::UserForm, &[outpost_server_store::records::SiteInfo]) -> Result<()>,
) -> Result<admin_users::UserForm> {
    let user = accounts::find_user(storage, username)
        .await
        .map_err(db_error)?
        .ok_or_else(|| anyhow::anyhow!("no user named {:?}", username.trim()))?
        .user;
    let listed = storage.find_user(&user.username).await.map_err(db_error)?.map(|r| r.sites).unwrap_or_default();
    let mut form = admin_users::UserForm {
        username: user.username.clone(),
        role: user.role,
        sites: listed.iter().map(|s| s.id.to_string()).collect(),
        disabled: user.disabled,
    };
    let sites = storage.list_sites().await.map_err(db_error)?;
    edit(&mut form, &sites)?;
    Ok(form)
}

fn site_id_named(sites: &[outpost_server_store::records::SiteInfo], name: &str) -> Result<String> {
    sites
        .iter()
        .find(|s| s.name == name.trim())
        .map(|s| s.id.to_string())
        .ok_or_else(|| anyhow::anyhow!("{}", accounts::AccountError::UnknownSite(name.to_string())))
}

async fn user(storage_settings: StorageSettings, action: UserAction) -> Result<()> {
    let storage = open(&storage_settings).await?;
    let fail = |e: accounts::AccountError| anyhow::anyhow!("{e}");
    let refused = |e: AdminError| anyhow::anyhow!("{e}");
    let actor = Actor::cli();
    let changed = |entry: admin_users::UserEntry| {
        let status = if entry.disabled { "disabled" } else { "active" };
        println!("{:<24} {:<16} {status}", entry.username, entry.role.as_str());
    };
    match action {
        UserAction::Add { username, role, sites, password_stdin } => {
            let role = parse_role(&role)?;
            if password_stdin {
                let password = read_password()?;
                let created = accounts::create_user(&storage, &username, &password, role, &sites, now_ms())
                    .await
                    .map_err(fail)?;
                let names: Vec<&str> = created.sites.iter().map(|s| s.name.as_str()).collect();
                let detail = format!("{} at {}", role.as_str(), names.join(", "));
                audit(&storage, "user.add", created.username.clone(), detail).await?;
                eprintln!("Added {} ({}).", created.username, role.as_str());
            } else {
                let all = storage.list_sites().await.map_err(db_error)?;
                let ids = sites.iter().map(|name| site_id_named(&all, name)).collect::<Result<Vec<_>>>()?;
                let form = admin_users::UserForm { username, role, sites: ids, disabled: false };
                let added = admin_users::add(&storage, &actor, &form, now_ms()).await.map_err(refused)?;
                println!("{}", added.password);
                eprintln!(
                    "Added {} ({}). The temporary password above is shown only once; the first login asks for a new one.",
                    added.username,
                    role.as_str()
                );
            }
        }
        UserAction::List => {
            let users = accounts::list_users(&storage).await.map_err(db_error)?;
            if users.is_empty() {
                eprintln!("No user yet: add one with `outpost-server user add`.");
            }
            users.iter().for_each(show);
        }
        UserAction::Disable { username } => {
            let form = user_form(&storage, &username, |f, _| {
                f.disabled = true;
                Ok(())
            })
            .await?;
            changed(admin_users::change(&storage, &actor, &form, now_ms()).await.map_err(refused)?);
        }
        UserAction::SetRole { username, role } => {
            let role = parse_role(&role)?;
            let form = user_form(&storage, &username, |f, _| {
                f.role = role;
                Ok(())
            })
            .await?;
            changed(admin_users::change(&storage, &actor, &form, now_ms()).await.map_err(refused)?);
        }
        UserAction::AddSite { username, site } => {
            let form = user_form(&storage, &username, |f, sites| {
                f.sites.push(site_id_named(sites, &site)?);
                Ok(())
            })
            .await?;
            changed(admin_users::change(&storage, &actor, &form, now_ms()).await.map_err(refused)?);
        }
        UserAction::RemoveSite { username, site } => {
            let form = user_form(&storage, &username, |f, sites| {
                let id = site_id_named(sites, &site)?;
                f.sites.retain(|s| *s != id);
                Ok(())
            })
            .await?;
            changed(admin_users::change(&storage, &actor, &form, now_ms()).await.map_err(refused)?);
        }
        UserAction::Password { username } => {
            let password = read_password()?;
            accounts::set_password(&storage, &username, &password).await.map_err(fail)?;
            audit(&storage, "user.password", username.trim().to_lowercase(), "sessions ended").await?;
            eprintln!("Password changed; every session of the user ended.");
        }
        UserAction::ResetPassword { username } => {
            let reset = admin_users::reset_password(&storage, &actor, &username).await.map_err(refused)?;
            println!("{}", reset.password);
            eprintln!("Temporary password for {}: shown only once; the next login asks for a new one.", reset.username);
        }
        UserAction::Totp { username } => {
            let setup = admin_users::setup_totp(&storage, &actor, &username).await.map_err(refused)?;
            println!("{}", setup.secret);
            eprintln!("{}", setup.link);
            eprintln!("Add this secret to the user's authenticator app; logins now ask for its 6-digit code.");
        }
    }
    Ok(())
}
