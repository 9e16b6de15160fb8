//! The programme's service packages (`reports::sets::packages`): admins read the packages in
//! force and replace the programme's own (a population left out goes back to the shipped
//! default). Checked as a whole, audited with before → after.

use super::{Actor, AdminError, invalid, record};
use crate::services::reports::sets::packages::{self, ServicePackage};
use outpost_server_store::Store;
use serde::{Deserialize, Serialize};

/// The packages as the dashboard shows them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct PackagesOut {
    /// The programme's own.
    pub own: Vec<ServicePackage>,
    /// In force: the programme's and the defaults of the populations it wrote none for.
    pub effective: Vec<ServicePackage>,
    /// The shipped defaults.
    pub defaults: Vec<ServicePackage>,
}

/// The programme's packages to keep (all of them: this replaces what was there).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct PackagesForm {
    pub packages: Vec<ServicePackage>,
}

/// The packages in force.
pub async fn get(store: &Store, actor: &Actor) -> Result<PackagesOut, AdminError> {
    actor.organisation_wide("service packages")?;
    let own: Vec<ServicePackage> = match store.service_packages().await? {
        Some(json) => serde_json::from_str(&json).map_err(|e| AdminError::Db(e.into()))?,
        None => Vec::new(),
    };
    Ok(PackagesOut { effective: packages::effective(&own), defaults: packages::defaults(), own })
}

fn describe(list: &[ServicePackage]) -> String {
    if list.is_empty() {
        return "defaults".into();
    }
    list.iter()
        .map(|p| {
            let population = serde_json::to_value(p.population)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let setting = p.setting.map(|s| format!(" at {}", s.as_str())).unwrap_or_default();
            format!("{population}{setting}: {} groups", p.requires.len())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Replaces the programme's packages (an empty list: back to the defaults). Audited.
pub async fn set(store: &Store, actor: &Actor, form: &PackagesForm) -> Result<PackagesOut, AdminError> {
    actor.organisation_wide("service packages")?;
    packages::check(&form.packages).map_err(|problems| {
        AdminError::Invalid(problems.into_iter().map(|p| invalid("packages", "invalid_package", p)).collect())
    })?;
    let before = get(store, actor).await?;
    let detail = format!("{} → {}", describe(&before.own), describe(&form.packages));
    record(store, actor, "packages.change", "service packages".into(), detail).await?;
    let json = if form.packages.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&form.packages).map_err(|e| AdminError::Db(e.into()))?)
    };
    store.set_service_packages(json).await?;
    get(store, actor).await
}
