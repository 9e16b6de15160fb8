//! Sites: add one, change its name and population estimates (the denominators of coverage
//! indicators), retire it. A site is never deleted: its records stay in every report; retired,
//! it takes no new tablets or staff. Coordinators may change the estimates of their own sites;
//! adding, renaming and retiring are for administrators.

use super::{Actor, AdminError, changes, clean_name, fields_of, invalid, record};
use outpost_core::SiteId;
use outpost_core::records::{KeyGroup, Site};
use outpost_core::schema::{MAX_ESTIMATE, MAX_NAME_CHARS};
use outpost_core::wire::SiteRef;
use outpost_server_store::Store;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A site as the administration page edits it (every editable field; unchanged ones stay).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SiteForm {
    pub name: String,
    /// Estimated people who inject drugs in the site's area.
    #[serde(default)]
    pub pwid_estimate: Option<u32>,
    /// Estimated size of its other key populations (not `injects_drugs`: that is `pwid_estimate`).
    #[serde(default)]
    pub population_estimates: BTreeMap<KeyGroup, u32>,
    #[serde(default)]
    pub retired: bool,
}

/// The site's record fields of a checked form.
fn checked(form: &SiteForm) -> Result<Site, AdminError> {
    let mut errors = Vec::new();
    let name = clean_name("name", &form.name, MAX_NAME_CHARS).map_err(|e| errors.push(e)).unwrap_or_default();
    let too_big = |n: u32| i64::from(n) > MAX_ESTIMATE;
    if form.pwid_estimate.is_some_and(too_big) {
        errors.push(invalid("pwid_estimate", "out_of_range", format!("an estimate is 0 to {MAX_ESTIMATE} people")));
    }
    for (group, n) in &form.population_estimates {
        if *group == KeyGroup::InjectsDrugs {
            errors.push(invalid(
                "population_estimates",
                "not_allowed",
                "people who inject drugs are estimated in pwid_estimate",
            ));
        } else if too_big(*n) {
            errors.push(invalid(
                "population_estimates",
                "out_of_range",
                format!("{}: an estimate is 0 to {MAX_ESTIMATE} people", group.as_str()),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AdminError::Invalid(errors));
    }
    Ok(Site {
        name,
        pwid_estimate: form.pwid_estimate,
        population_estimates: form.population_estimates.clone(),
        retired: form.retired,
    })
}

/// Adds a site (administrators).
pub async fn add(store: &Store, actor: &Actor, form: &SiteForm, now_ms: u64) -> Result<SiteRef, AdminError> {
    actor.organisation_wide("adding a site")?;
    let site = checked(form)?;
    if site.retired {
        return Err(AdminError::Invalid(vec![invalid("retired", "not_allowed", "a new site cannot be retired")]));
    }
    if store.list_sites().await?.iter().any(|s| s.name.to_lowercase() == site.name.to_lowercase()) {
        return Err(AdminError::Conflict(format!("a site named {:?} already exists", site.name)));
    }
    let fields = fields_of(&site)?;
    record(store, actor, "site.add", site.name.clone(), changes(&Default::default(), &fields)).await?;
    Ok(store.add_site(fields, now_ms).await?)
}

/// Changes a site. Coordinators may change only the estimates of their own sites.
pub async fn change(
    store: &Store,
    actor: &Actor,
    id: SiteId,
    form: &SiteForm,
    now_ms: u64,
) -> Result<SiteRef, AdminError> {
    actor.site(id)?;
    let site = checked(form)?;
    let sites = store.list_sites().await?;
    let current = sites.iter().find(|s| s.id == id).ok_or_else(|| AdminError::NotFound(format!("no site {id}")))?;
    if site.name != current.name || site.retired != current.retired {
        actor.organisation_wide("renaming or retiring a site")?;
    }
    if site.name != current.name
        && sites.iter().any(|s| s.id != id && s.name.to_lowercase() == site.name.to_lowercase())
    {
        return Err(AdminError::Conflict(format!("a site named {:?} already exists", site.name)));
    }
    let before = fields_of(&Site {
        name: current.name.clone(),
        pwid_estimate: current.pwid_estimate.and_then(|n| u32::try_from(n).ok()),
        population_estimates: current.population_estimates.clone(),
        retired: current.retired,
    })?;
    let mut after = fields_of(&site)?;
    // Fields left out of the encoding (empty, false, none) are cleared.
    for field in ["pwid_estimate", "population_estimates", "retired"] {
        after.entry(field).or_insert(serde_json::Value::Null);
    }
    if changes(&before, &after) == "no change" {
        return Ok(SiteRef { id, name: current.name.clone() });
    }
    record(store, actor, "site.change", id.to_string(), format!("{}: {}", current.name, changes(&before, &after)))
        .await?;
    Ok(store.change_site(id, after, now_ms).await?.0)
}
