//! The organisation's settings (administrators): its name, the language texts fall back to, and
//! the client-code scheme, one of the built-in ones or its own. The scheme can change only while
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
}

/// The organisation's new settings.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct OrganisationForm {
    pub name: String,
    pub default_language: String,
    pub uic_scheme: UicScheme,
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
    })
}

/// Changes the organisation's settings; audited with before → after.
pub async fn change(store: &Store, actor: &Actor, form: &OrganisationForm) -> Result<Organisation, AdminError> {
    actor.organisation_wide("changing the organisation")?;
    let mut errors = Vec::new();
    let name = clean_name("name", &form.name, MAX_NAME_CHARS).map_err(|e| errors.push(e)).unwrap_or_default();
    if !is_language(&form.default_language) {
        errors.push(invalid(
            "default_language",
            "invalid_language",
            format!("{:?} is not a language code such as en, ru or uk", form.default_language),
        ));
    }
    if let Err(e) = form.uic_scheme.check() {
        errors.push(invalid("uic_scheme", "invalid_scheme", e.to_string()));
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
    if !changed.is_empty() {
        record(store, actor, "org.change", before.id.to_string(), changed.join("; ")).await?;
        store.change_org(&name, &form.default_language, &form.uic_scheme).await?;
    }
    get(store).await
}
