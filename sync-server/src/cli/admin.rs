//! The administration commands: tablets, sites, the catalogue, kits and enrolment codes. Each
//! calls the same service as the dashboard's pages (`services::admin`), as the actor `cli`.

use super::{db_error, when};
use crate::services::admin::{self, Actor, AdminError, catalogue, sites, tablets};
use crate::time::now_ms;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use outpost_core::records::{Commodity, KitTemplate};
use outpost_server_store::Store;
use std::path::PathBuf;

fn fail(e: AdminError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

#[derive(Args)]
pub struct EnrollArgs {
    /// The site's name, as `outpost-server site list` shows it.
    #[arg(long)]
    site: String,
    /// Hours the code stays valid (1 to 720).
    #[arg(long, default_value_t = 72)]
    valid_hours: u64,
    /// The worker the tablet is for: removing them from the site later removes the site
    /// from the tablet, and disabling them revokes it.
    #[arg(long)]
    user: Option<String>,
    /// The server's address as tablets reach it (https://...): prints the enrolment link too,
    /// which a tablet can take instead of the address and the code typed.
    #[arg(long, env = "OUTPOST_PUBLIC_URL")]
    server: Option<String>,
}

#[derive(Subcommand)]
pub enum DeviceAction {
    /// Every enrolled tablet: id, name, sites, last sync, revoked or not.
    List,
    /// Revoke a tablet (lost, stolen, or leaving the programme): it can no longer sync, and the
    /// app wipes its local data the next time it reaches the server.
    Revoke {
        #[arg(long)]
        id: uuid::Uuid,
    },
    /// Rename a tablet.
    Rename {
        #[arg(long)]
        id: uuid::Uuid,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum SiteAction {
    /// Every site, with its number of active tablets.
    List,
    /// Add a site.
    Add {
        #[arg(long)]
        name: String,
        /// Estimated number of people who inject drugs in the site's area (coverage indicators).
        #[arg(long)]
        pwid_estimate: Option<u32>,
    },
    /// Change a site: rename it, set its estimate, retire it (no new tablets or staff; its
    /// records stay in every report) or bring it back.
    Change {
        /// The site's current name.
        #[arg(long)]
        site: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        pwid_estimate: Option<u32>,
        #[arg(long, conflicts_with = "unretire")]
        retire: bool,
        #[arg(long)]
        unretire: bool,
    },
}

#[derive(Subcommand)]
pub enum CatalogueAction {
    /// Every commodity with its id, code, name, order and whether it is retired.
    List,
    /// Add a commodity described by a JSON file (the fields of a catalogue entry).
    Add {
        #[arg(long)]
        file: PathBuf,
    },
    /// Change a commodity (every field but its code) from a JSON file.
    Change {
        #[arg(long)]
        id: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Set a site's low-stock threshold for a commodity (without --threshold: use the
    /// catalogue's).
    Threshold {
        #[arg(long)]
        id: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        threshold: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum KitAction {
    /// Every kit template with its id, code, items and whether it is retired.
    List,
    /// Add a kit template described by a JSON file.
    Add {
        #[arg(long)]
        file: PathBuf,
    },
    /// Change a kit template (every field but its code) from a JSON file.
    Change {
        #[arg(long)]
        id: String,
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum OrgAction {
    /// Create the organisation of a server started with `--no-demo` (a server holds one), with
    /// its sites, the default catalogue and kits.
    Create {
        #[arg(long)]
        name: String,
        /// A language code: en, ru, uk...
        #[arg(long, default_value = "en")]
        language: String,
        /// central_asia, surname_day_year or gender_letters_year (it cannot change once clients
        /// are registered).
        #[arg(long, default_value = "central_asia")]
        scheme: String,
        /// A site, by name; repeat for each (more can be added later).
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// The organisation's name, default language and client-code scheme.
    Show,
    /// Change them (the scheme, one of the built-in ones by name, only while no client is
    /// registered).
    Set {
        #[arg(long)]
        name: Option<String>,
        /// A language code: en, ru, uk...
        #[arg(long)]
        language: Option<String>,
        /// central_asia, surname_day_year or gender_letters_year.
        #[arg(long)]
        scheme: Option<String>,
        /// Erase people not seen for this many days, and contacts and survey responses older
        /// than that (30 to 36500; 0 keeps everything). The server applies it every six hours.
        #[arg(long)]
        retention_days: Option<u32>,
        /// on: every tablet receives every site's clients' codes, genders and years of birth,
        /// so a code typed at one site finds a person first seen at another (see
        /// docs/security.md for the risk); off: each tablet holds its own sites' clients only.
        #[arg(long, value_parser = ["on", "off"])]
        client_index: Option<String>,
        /// The programme's target of needle-syringes per person who injects drugs per year
        /// (50 to 2000; 0 goes back to the default, 300).
        #[arg(long)]
        nsp_target: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum ClientAction {
    /// Erase a client on their request: every record about them, from the server now and from
    /// every tablet at its next sync. The code is only used to find the records; the audit log
    /// keeps the reason, never the code.
    Erase {
        /// The client's code, as the programme's scheme writes it.
        #[arg(long)]
        code: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum CodeAction {
    /// Codes not used yet and not expired, newest first.
    List,
    /// Cancel a code (by the id `list` shows).
    Cancel {
        #[arg(long)]
        id: String,
    },
}

fn read_json<T: serde::de::DeserializeOwned>(file: &PathBuf) -> Result<T> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    if text.len() > 1024 * 1024 {
        anyhow::bail!("{} is larger than 1 MiB", file.display());
    }
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid description", file.display()))
}

pub async fn enroll(storage: &Store, args: EnrollArgs) -> Result<()> {
    storage.seed_demo(now_ms()).await.context("creating the demo organisation")?;
    let actor = Actor::cli();
    let site = tablets::site_named(storage, &args.site).await.map_err(fail)?;
    let created = tablets::create_code(
        storage,
        &actor,
        site,
        args.user.as_deref(),
        args.valid_hours,
        args.server.as_deref(),
        now_ms(),
    )
    .await
    .map_err(fail)?;
    println!("{}", created.code);
    if let Some(link) = &created.link {
        eprintln!("Enrolment link (the tablet can take it instead of the address and code): {link}");
    }
    eprintln!("One-time enrolment code for site \"{}\", valid for {} hours.", created.site.name, args.valid_hours);
    Ok(())
}

pub async fn device(storage: &Store, action: DeviceAction) -> Result<()> {
    let actor = Actor::cli();
    match action {
        DeviceAction::List => {
            let devices = tablets::list(storage, &actor).await.map_err(fail)?;
            if devices.is_empty() {
                eprintln!("No tablet is enrolled yet.");
            }
            for d in devices {
                let state = d.revoked_ms.map_or_else(|| "active".to_string(), |ms| format!("revoked {}", when(ms)));
                let skew = if d.clock_skew_ms > 0 {
                    format!(", clock {} s ahead", d.clock_skew_ms / 1000)
                } else {
                    String::new()
                };
                println!(
                    "{}  {:<24} {:<28} last sync {}  {} ops  {state}{skew}",
                    d.id,
                    d.name,
                    d.sites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
                    when(d.last_seen_ms),
                    d.max_op_seq
                );
            }
        }
        DeviceAction::Revoke { id } => {
            let id = outpost_core::DeviceId(id);
            tablets::revoke(storage, &actor, id, now_ms()).await.map_err(fail)?;
            eprintln!("Device {id} is revoked: it can no longer sync, and wipes its data when it next connects.");
        }
        DeviceAction::Rename { id, name } => {
            tablets::rename(storage, &actor, outpost_core::DeviceId(id), &name).await.map_err(fail)?;
        }
    }
    Ok(())
}

pub async fn site(storage: &Store, action: SiteAction) -> Result<()> {
    let actor = Actor::cli();
    match action {
        SiteAction::List => {
            for s in storage.list_sites().await.map_err(db_error)? {
                let retired = if s.retired { "  (retired)" } else { "" };
                println!("{}  {:<32} {} active tablet(s){retired}", s.id, s.name, s.active_devices);
            }
        }
        SiteAction::Add { name, pwid_estimate } => {
            let form =
                sites::SiteForm { name, pwid_estimate, population_estimates: Default::default(), retired: false };
            let site = sites::add(storage, &actor, &form, now_ms()).await.map_err(fail)?;
            println!("{}", site.id);
            eprintln!("Added site \"{}\".", site.name);
        }
        SiteAction::Change { site, name, pwid_estimate, retire, unretire } => {
            let id = tablets::site_named(storage, &site).await.map_err(fail)?;
            let current = storage.list_sites().await.map_err(db_error)?.into_iter().find(|s| s.id == id);
            let current = current.ok_or_else(|| anyhow::anyhow!("no site {site:?}"))?;
            let form = sites::SiteForm {
                name: name.unwrap_or(current.name),
                pwid_estimate: pwid_estimate.or(current.pwid_estimate.and_then(|n| u32::try_from(n).ok())),
                population_estimates: current.population_estimates,
                retired: (current.retired || retire) && !unretire,
            };
            let changed = sites::change(storage, &actor, id, &form, now_ms()).await.map_err(fail)?;
            eprintln!("Site \"{}\" saved.", changed.name);
        }
    }
    Ok(())
}

pub async fn catalogue(storage: &Store, action: CatalogueAction) -> Result<()> {
    let actor = Actor::cli();
    match action {
        CatalogueAction::List => {
            for e in catalogue::commodities(storage).await.map_err(fail)? {
                let c = &e.commodity;
                let retired = if c.retired { "  (retired)" } else { "" };
                println!("{}  {:<24} {:<40} order {}{retired}", e.id, c.code, c.name, c.order);
            }
        }
        CatalogueAction::Add { file } => {
            let commodity: Commodity = read_json(&file)?;
            let entry = catalogue::add_commodity(storage, &actor, commodity, now_ms()).await.map_err(fail)?;
            println!("{}", entry.id);
        }
        CatalogueAction::Change { id, file } => {
            let commodity: Commodity = read_json(&file)?;
            catalogue::change_commodity(storage, &actor, &id, commodity, now_ms()).await.map_err(fail)?;
        }
        CatalogueAction::Threshold { id, site, threshold } => {
            let site = tablets::site_named(storage, &site).await.map_err(fail)?;
            catalogue::set_threshold(storage, &actor, &id, site, threshold, now_ms()).await.map_err(fail)?;
        }
    }
    Ok(())
}

pub async fn kit(storage: &Store, action: KitAction) -> Result<()> {
    let actor = Actor::cli();
    match action {
        KitAction::List => {
            for e in catalogue::kits(storage).await.map_err(fail)? {
                let k = &e.kit;
                let items: Vec<String> = k.items.iter().map(|i| format!("{} × {}", i.quantity, i.commodity)).collect();
                let retired = if k.retired { "  (retired)" } else { "" };
                println!("{}  {:<16} {:<24} {}{retired}", e.id, k.code, k.name, items.join(", "));
            }
        }
        KitAction::Add { file } => {
            let kit: KitTemplate = read_json(&file)?;
            let entry = catalogue::add_kit(storage, &actor, kit, now_ms()).await.map_err(fail)?;
            println!("{}", entry.id);
        }
        KitAction::Change { id, file } => {
            let kit: KitTemplate = read_json(&file)?;
            catalogue::change_kit(storage, &actor, &id, kit, now_ms()).await.map_err(fail)?;
        }
    }
    Ok(())
}

pub async fn codes(storage: &Store, action: CodeAction) -> Result<()> {
    let actor = Actor::cli();
    match action {
        CodeAction::List => {
            for c in admin::tablets::open_codes(storage, &actor, now_ms()).await.map_err(fail)? {
                let worker = c.worker.map(|w| format!(" for {w}")).unwrap_or_default();
                println!("{}  {:<28} expires {}{worker}", c.id, c.site.name, when(c.expires_ms));
            }
        }
        CodeAction::Cancel { id } => {
            let code = tablets::cancel_code(storage, &actor, &id, now_ms()).await.map_err(fail)?;
            eprintln!("The code for \"{}\" is cancelled.", code.site.name);
        }
    }
    Ok(())
}

pub async fn org(storage: &Store, action: OrgAction) -> Result<()> {
    use crate::services::admin::org as settings;
    let show = |o: &settings::Organisation| {
        let questions = o.uic_scheme.questions().join(", ");
        println!("{}\nlanguage {}\nscheme {} ({questions})", o.name, o.default_language, o.uic_scheme.name);
        match o.retention_days {
            Some(days) => println!("retention {days} days"),
            None => println!("retention none (everything is kept)"),
        }
        println!("client index {}", if o.client_index { "on (every tablet holds every site's codes)" } else { "off" });
        let whose = if o.nsp_target_set { "the programme's own" } else { "the default" };
        println!("needle-syringe target {} per person who injects drugs per year ({whose})", o.nsp_target);
    };
    if let OrgAction::Create { name, language, scheme, sites } = action {
        let form = settings::NewOrganisation { name, default_language: language, scheme, sites };
        show(&settings::create(storage, &Actor::cli(), &form).await.map_err(fail)?);
        eprintln!("Created. Add staff with `outpost-server user add`, then enrol tablets from the dashboard.");
        return Ok(());
    }
    let current = settings::get(storage).await.map_err(fail)?;
    match action {
        OrgAction::Create { .. } => {}
        OrgAction::Show => show(&current),
        OrgAction::Set { name, language, scheme, retention_days, client_index, nsp_target } => {
            let uic_scheme = match scheme {
                Some(wanted) => {
                    current.built_in_schemes.iter().find(|s| s.name == wanted).cloned().ok_or_else(|| {
                        let names: Vec<&str> = current.built_in_schemes.iter().map(|s| s.name.as_str()).collect();
                        anyhow::anyhow!("no built-in scheme {wanted:?}; choose one of {}", names.join(", "))
                    })?
                }
                None => current.uic_scheme.clone(),
            };
            let form = settings::OrganisationForm {
                name: name.unwrap_or(current.name.clone()),
                default_language: language.unwrap_or(current.default_language.clone()),
                uic_scheme,
                retention_days: match retention_days {
                    None => current.retention_days,
                    Some(0) => None,
                    Some(days) => Some(days),
                },
                client_index: client_index.map_or(current.client_index, |v| v == "on"),
                nsp_target: match nsp_target {
                    None => current.nsp_target_set.then_some(current.nsp_target),
                    Some(0) => None,
                    Some(target) => Some(target),
                },
            };
            show(&settings::change(storage, &Actor::cli(), &form).await.map_err(fail)?);
        }
    }
    Ok(())
}

pub async fn client(storage: &Store, action: ClientAction) -> Result<()> {
    match action {
        ClientAction::Erase { code, reason } => {
            let erased = admin::erasure::erase_client(storage, &Actor::cli(), &code, &reason).await.map_err(fail)?;
            println!(
                "erased {} client record(s) and {} record(s) in all; tablets drop them at their next sync",
                erased.clients, erased.records
            );
        }
    }
    Ok(())
}
