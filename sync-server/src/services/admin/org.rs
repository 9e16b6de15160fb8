//! The organisation's settings (administrators): its name, the language texts fall back to, the
//! client-code scheme, one of the built-in ones or its own, the retention period (applied
//! by `erasure::apply_retention`) and the client index (tablets receive every site's clients'
//! codes, genders and years of birth, so a code typed at one site finds a person first seen at
//! another; off unless turned on, its risk in docs/security.md). The scheme can change only while
//! the organisation holds no client: codes already given out would not match a new scheme, and
//! no migration of codes is offered (the answers behind a code are never stored, so a code
//! cannot be rebuilt; people would have to be registered again). Tablets receive every change
//! with their next pulled page.

use super::{Actor, AdminError, clean_name, invalid, record};
use outpost_core::schema::{MAX_NAME_CHARS, is_language};
use outpost_core::uic::UicScheme;
use outpost_server_store::Store;
use serde::{Deserialize, Serialize};

/// The organisation as its page shows it, with the schemes it may choose from.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Organisation {
    pub name: String,
    pub default_language: String,
    pub uic_scheme: UicScheme,
    /// Whether the scheme can still change (no client is registered yet).
    pub scheme_changeable: bool,
    pub built_in_schemes: Vec<UicScheme>,
    /// Days after which the server erases people not seen since, and contacts and survey
    /// responses older than that; null keeps everything.
    pub retention_days: Option<u32>,
    /// Whether every tablet holds every site's clients' codes, genders and years of birth.
    pub client_index: bool,
    /// The programme's target of needle-syringes per person who injects drugs per year (its
    /// own, or the default), shown beside the coverage bands.
    pub nsp_target: u32,
    /// Whether `nsp_target` is the programme's own (not the default).
    pub nsp_target_set: bool,
}

/// The needle-syringe target when a programme sets none: 300 per person who injects drugs per
/// year, WHO's target for 2030 (Global health sector strategy on viral hepatitis 2016–2021;
/// docs/indicators.md).
pub const DEFAULT_NSP_TARGET: u32 = 300;
/// The range a programme's own target may take.
pub const NSP_TARGET_RANGE: std::ops::RangeInclusive<u32> = 50..=2000;

/// The shortest retention period (a typing slip must not erase this month's work).
pub const MIN_RETENTION_DAYS: u32 = 30;
/// The longest retention period (100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// The organisation's new settings.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct OrganisationForm {
    pub name: String,
    pub default_language: String,
    pub uic_scheme: UicScheme,
    /// Null (or absent) keeps everything.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Absent: off.
    #[serde(default)]
    pub client_index: bool,
    /// 50–2000; null (or absent) for the default.
    #[serde(default)]
    pub nsp_target: Option<u32>,
}

/// The organisation's settings.
pub async fn get(store: &Store) -> Result<Organisation, AdminError> {
    let org = store.org_settings().await?;
    Ok(Organisation {
        name: org.name,
        default_language: org.default_language,
        uic_scheme: org.uic_scheme,
        scheme_changeable: org.clients == 0,
        built_in_schemes: UicScheme::built_in(),
        retention_days: org.retention_days,
        client_index: org.client_index,
        nsp_target: org.nsp_target.unwrap_or(DEFAULT_NSP_TARGET),
        nsp_target_set: org.nsp_target.is_some(),
    })
}

/// The organisation's name, cleaned, and its language checked; problems go to `errors`.
fn name_and_language(name: &str, language: &str, errors: &mut Vec<outpost_core::schema::FieldError>) -> String {
    let name = clean_name("name", name, MAX_NAME_CHARS).map_err(|e| errors.push(e)).unwrap_or_default();
    if !is_language(language) {
        errors.push(invalid(
            "default_language",
            "invalid_language",
            format!("{language:?} is not a language code such as en, ru or uk"),
        ));
    }
    name
}

/// Changes the organisation's settings; audited with before → after.
pub async fn change(store: &Store, actor: &Actor, form: &OrganisationForm) -> Result<Organisation, AdminError> {
    actor.organisation_wide("changing the organisation")?;
    let mut errors = Vec::new();
    let name = name_and_language(&form.name, &form.default_language, &mut errors);
    if let Err(e) = form.uic_scheme.check() {
        errors.push(invalid("uic_scheme", "invalid_scheme", e.to_string()));
    }
    if let Some(days) = form.retention_days.filter(|d| !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(d)) {
        errors.push(invalid(
            "retention_days",
            "out_of_range",
            format!("a retention period is {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days (or none), got {days}"),
        ));
    }
    if let Some(target) = form.nsp_target.filter(|t| !NSP_TARGET_RANGE.contains(t)) {
        errors.push(invalid(
            "nsp_target",
            "out_of_range",
            format!(
                "a needle-syringe target is {} to {} per person who injects drugs per year (or none for the default), got {target}",
                NSP_TARGET_RANGE.start(),
                NSP_TARGET_RANGE.end()
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(AdminError::Invalid(errors));
    }
    let before = store.org_settings().await?;
    let mut changed = Vec::new();
    if before.name != name {
        changed.push(format!("name: {:?} → {name:?}", before.name));
    }
    if before.default_language != form.default_language {
        changed.push(format!("default_language: {} → {}", before.default_language, form.default_language));
    }
    if before.uic_scheme != form.uic_scheme {
        if before.clients > 0 {
            return Err(AdminError::Conflict(format!(
                "the scheme cannot change: {} client(s) already have codes of the scheme {:?}",
                before.clients, before.uic_scheme.name
            )));
        }
        changed.push(format!("uic_scheme: {} → {}", before.uic_scheme.name, form.uic_scheme.name));
    }
    let retention_changed = before.retention_days != form.retention_days;
    if retention_changed {
        let show = |d: Option<u32>| d.map_or_else(|| "none".to_string(), |d| format!("{d} days"));
        changed.push(format!("retention: {} → {}", show(before.retention_days), show(form.retention_days)));
    }
    let target_changed = before.nsp_target != form.nsp_target;
    if target_changed {
        let show = |t: Option<u32>| t.map_or_else(|| format!("default ({DEFAULT_NSP_TARGET})"), |t| t.to_string());
        changed.push(format!("needle-syringe target: {} → {}", show(before.nsp_target), show(form.nsp_target)));
    }
    let index_changed = before.client_index != form.client_index;
    if index_changed {
        let show = |on: bool| if on { "on" } else { "off" };
        changed.push(format!("client index: {} → {}", show(before.client_index), show(form.client_index)));
    }
    if !changed.is_empty() {
        record(store, actor, "org.change", before.id.to_string(), changed.join("; ")).await?;
        store.change_org(&name, &form.default_language, &form.uic_scheme).await?;
        if retention_changed {
            store.set_retention(form.retention_days).await?;
        }
        if index_changed {
            store.set_client_index(form.client_index).await?;
        }
        if target_changed {
            store.set_nsp_target(form.nsp_target).await?;
        }
    }
    get(store).await
}

/// The most sites an organisation is created with (more are added on the Sites page).
pub const MAX_NEW_SITES: usize = 100;

/// A new organisation, for a server started without the demo one.
#[derive(Clone, Debug)]
pub struct NewOrganisation {
    pub name: String,
    pub default_language: String,
    /// One of the built-in schemes, by name.
    pub scheme: String,
    pub sites: Vec<String>,
}

/// Creates the organisation of a server that holds none (one organisation per server), with its
/// sites, the default catalogue and kits. Audited `org.create`.
pub async fn create(store: &Store, actor: &Actor, form: &NewOrganisation) -> Result<Organisation, AdminError> {
    actor.organisation_wide("creating the organisation")?;
    let mut errors = Vec::new();
    let name = name_and_language(&form.name, &form.default_language, &mut errors);
    let schemes = UicScheme::built_in();
    let scheme = schemes.iter().find(|s| s.name == form.scheme).cloned();
    if scheme.is_none() {
        let names: Vec<&str> = schemes.iter().map(|s| s.name.as_str()).collect();
        errors.push(invalid(
            "uic_scheme",
            "invalid_scheme",
            format!("no built-in scheme {:?}; choose one of {}", form.scheme, names.join(", ")),
        ));
    }
    if form.sites.len() > MAX_NEW_SITES {
        errors.push(invalid("sites", "too_many", format!("at most {MAX_NEW_SITES} sites, got {}", form.sites.len())));
    }
    let mut sites: Vec<String> = Vec::new();
    for site in form.sites.iter().take(MAX_NEW_SITES) {
        match clean_name("sites", site, MAX_NAME_CHARS) {
            Ok(site) if sites.iter().any(|s| s.to_lowercase() == site.to_lowercase()) => {
                errors.push(invalid("sites", "duplicate", format!("the site {site:?} is named twice")));
            }
            Ok(site) => sites.push(site),
            Err(e) => errors.push(e),
        }
    }
    let Some(scheme) = scheme.filter(|_| errors.is_empty()) else { return Err(AdminError::Invalid(errors)) };
    match store.org_settings().await {
        Ok(existing) => {
            return Err(AdminError::Conflict(format!(
                "this server already has an organisation ({:?}); a server holds one",
                existing.name
            )));
        }
        Err(outpost_server_store::DbError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let now = crate::time::now_ms();
    record(
        store,
        actor,
        "org.create",
        name.clone(),
        format!("language {}, scheme {}, sites: {}", form.default_language, scheme.name, sites.join(", ")),
    )
    .await?;
    let site_list: Vec<(&str, Option<i64>)> = sites.iter().map(|s| (s.as_str(), None)).collect();
    let seed = outpost_server_store::seed::organisation_seed(&name, &form.default_language, scheme, &site_list, now)?;
    if !store.create_organisation(seed, now).await? {
        return Err(AdminError::Conflict("this server already has an organisation; a server holds one".into()));
    }
    get(store).await
}
