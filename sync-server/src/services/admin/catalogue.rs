//! The commodity catalogue and kit templates: add, change (names per language, unit, display
//! order), retire; a site's low-stock threshold. Administrators change the catalogue and kits;
//! coordinators set the thresholds of their own sites. A commodity's code never changes (every
//! distribution line and stock movement names it); a retired one stays in history and reports
//! and can no longer be put in a kit.

use super::{Actor, AdminError, changes, clean_name, fields_of, invalid, record};
use outpost_core::catalogue::{commodity_order, kit_order};
use outpost_core::records::{Commodity, KitTemplate};
use outpost_core::schema::{MAX_NAME_CHARS, MAX_THRESHOLD, validate_fields};
use outpost_core::uic::UicScheme;
use outpost_core::{Collection, RecordId, SiteId};
use outpost_server_store::Store;
use outpost_server_store::reference::UniqueFields;
use serde_json::{Map, Value};

/// A commodity's code and name are unique in the catalogue; so are a kit's.
const UNIQUE: UniqueFields = &["code", "name"];

/// A catalogue entry with its record id, as the administration page lists it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CommodityEntry {
    pub id: String,
    pub commodity: Commodity,
}

/// A kit template with its record id.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct KitEntry {
    pub id: String,
    pub kit: KitTemplate,
}

/// Core's field checks (reference collections hold no client code, so any scheme will do).
fn schema_check(collection: Collection, fields: &Map<String, Value>) -> Result<(), AdminError> {
    validate_fields(collection, fields, true, &UicScheme::central_asia()).map_err(AdminError::Invalid)
}

fn names_checked(names: &mut std::collections::BTreeMap<String, String>) -> Result<(), AdminError> {
    let mut errors = Vec::new();
    for (language, name) in names.iter_mut() {
        match clean_name(&format!("names.{language}"), name, MAX_NAME_CHARS) {
            Ok(clean) => *name = clean,
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AdminError::Invalid(errors)) }
}

/// Every commodity, retired ones included, in display order.
pub async fn commodities(store: &Store) -> Result<Vec<CommodityEntry>, AdminError> {
    let mut out = Vec::new();
    for r in store.reference_records(Collection::Commodities).await? {
        let commodity: Commodity = serde_json::from_value(Value::Object(r.fields))
            .map_err(|e| AdminError::Db(outpost_server_store::DbError::Corrupt(format!("commodity {}: {e}", r.id))))?;
        out.push(CommodityEntry { id: r.id.to_string(), commodity });
    }
    out.sort_by(|a, b| commodity_order(&a.commodity, &b.commodity));
    Ok(out)
}

/// Every kit template, retired ones included, in display order.
pub async fn kits(store: &Store) -> Result<Vec<KitEntry>, AdminError> {
    let mut out = Vec::new();
    for r in store.reference_records(Collection::KitTemplates).await? {
        let kit: KitTemplate = serde_json::from_value(Value::Object(r.fields))
            .map_err(|e| AdminError::Db(outpost_server_store::DbError::Corrupt(format!("kit {}: {e}", r.id))))?;
        out.push(KitEntry { id: r.id.to_string(), kit });
    }
    out.sort_by(|a, b| kit_order(&a.kit, &b.kit));
    Ok(out)
}

fn commodity_fields(mut commodity: Commodity) -> Result<Map<String, Value>, AdminError> {
    let name = clean_name("name", &commodity.name, MAX_NAME_CHARS);
    let unit = clean_name("unit", &commodity.unit, 50);
    let mut errors: Vec<_> = [name.as_ref().err(), unit.as_ref().err()].into_iter().flatten().cloned().collect();
    if commodity.low_stock_threshold.is_some_and(|t| i64::from(t) > MAX_THRESHOLD) {
        errors.push(invalid("low_stock_threshold", "out_of_range", format!("a threshold is 0 to {MAX_THRESHOLD}")));
    }
    if !errors.is_empty() {
        return Err(AdminError::Invalid(errors));
    }
    commodity.name = name.unwrap_or_default();
    commodity.unit = unit.unwrap_or_default();
    names_checked(&mut commodity.names)?;
    let fields = fields_of(&commodity)?;
    schema_check(Collection::Commodities, &fields)?;
    Ok(fields)
}

/// Refuses a code or name another entry has (ignoring case and spaces), before anything is
/// audited; the store checks again inside its transaction, against a change made meanwhile.
fn unique<'a>(
    others: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
    id: Option<&str>,
    fields: &Map<String, Value>,
) -> Result<(), AdminError> {
    let norm = |s: &str| s.trim().to_lowercase();
    let code = fields.get("code").and_then(Value::as_str).map(norm).unwrap_or_default();
    let name = fields.get("name").and_then(Value::as_str).map(norm).unwrap_or_default();
    for (other_id, other_code, other_name) in others {
        if Some(other_id) == id {
            continue;
        }
        if norm(other_code) == code {
            return Err(AdminError::Conflict(format!("another entry already has the code {code:?}")));
        }
        if norm(other_name) == name {
            return Err(AdminError::Conflict(format!("another entry is already named {name:?}")));
        }
    }
    Ok(())
}

fn parse_id(id: &str) -> Result<RecordId, AdminError> {
    id.parse::<uuid::Uuid>().map(RecordId).map_err(|_| AdminError::NotFound(format!("no catalogue entry {id:?}")))
}

/// Adds a commodity (administrators); its site thresholds start empty.
pub async fn add_commodity(
    store: &Store,
    actor: &Actor,
    mut commodity: Commodity,
    now_ms: u64,
) -> Result<CommodityEntry, AdminError> {
    actor.organisation_wide("changing the catalogue")?;
    commodity.site_thresholds.clear();
    let fields = commodity_fields(commodity)?;
    let all = commodities(store).await?;
    unique(all.iter().map(|c| (c.id.as_str(), c.commodity.code.as_str(), c.commodity.name.as_str())), None, &fields)?;
    let code = fields.get("code").and_then(Value::as_str).unwrap_or_default().to_string();
    record(store, actor, "commodity.add", code, changes(&Map::new(), &fields)).await?;
    let id = store.create_reference(Collection::Commodities, fields.clone(), UNIQUE, now_ms).await?;
    let commodity = serde_json::from_value(Value::Object(fields)).map_err(|e| AdminError::Db(e.into()))?;
    Ok(CommodityEntry { id: id.to_string(), commodity })
}

/// Changes a commodity (administrators): everything but its code; its site thresholds stay.
pub async fn change_commodity(
    store: &Store,
    actor: &Actor,
    id: &str,
    mut commodity: Commodity,
    now_ms: u64,
) -> Result<CommodityEntry, AdminError> {
    actor.organisation_wide("changing the catalogue")?;
    let record_id = parse_id(id)?;
    let current = commodities(store)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AdminError::NotFound(format!("no catalogue entry {id:?}")))?;
    if commodity.code != current.commodity.code {
        return Err(AdminError::Invalid(vec![invalid(
            "code",
            "immutable",
            "a commodity's code never changes (its history names it): add a new commodity and retire this one",
        )]));
    }
    commodity.site_thresholds = current.commodity.site_thresholds.clone();
    let mut after = commodity_fields(commodity)?;
    for field in ["names", "low_stock_threshold", "site_thresholds"] {
        after.entry(field).or_insert(Value::Null);
    }
    let all = commodities(store).await?;
    unique(
        all.iter().map(|c| (c.id.as_str(), c.commodity.code.as_str(), c.commodity.name.as_str())),
        Some(id),
        &after,
    )?;
    let before = fields_of(&current.commodity)?;
    let detail = format!("{}: {}", current.commodity.code, changes(&before, &after));
    record(store, actor, "commodity.change", current.commodity.code.clone(), detail).await?;
    store.change_reference(Collection::Commodities, record_id, after.clone(), UNIQUE, now_ms).await?;
    after.retain(|_, v| !v.is_null());
    let commodity = serde_json::from_value(Value::Object(after)).map_err(|e| AdminError::Db(e.into()))?;
    Ok(CommodityEntry { id: id.to_string(), commodity })
}

/// Sets (or with `None` removes) the low-stock threshold of one site for a commodity: the
/// site's coordinators and administrators.
pub async fn set_threshold(
    store: &Store,
    actor: &Actor,
    id: &str,
    site: SiteId,
    threshold: Option<u32>,
    now_ms: u64,
) -> Result<CommodityEntry, AdminError> {
    actor.site(site)?;
    if threshold.is_some_and(|t| i64::from(t) > MAX_THRESHOLD) {
        return Err(AdminError::Invalid(vec![invalid(
            "threshold",
            "out_of_range",
            format!("a threshold is 0 to {MAX_THRESHOLD}"),
        )]));
    }
    let record_id = parse_id(id)?;
    if !store.list_sites().await?.iter().any(|s| s.id == site) {
        return Err(AdminError::NotFound(format!("no site {site}")));
    }
    let mut entry = commodities(store)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AdminError::NotFound(format!("no catalogue entry {id:?}")))?;
    let before = entry.commodity.site_thresholds.get(&site.to_string()).copied();
    if before == threshold {
        return Ok(entry);
    }
    match threshold {
        Some(t) => entry.commodity.site_thresholds.insert(site.to_string(), t),
        None => entry.commodity.site_thresholds.remove(&site.to_string()),
    };
    let show = |t: Option<u32>| t.map_or_else(|| "the catalogue's".to_string(), |t| t.to_string());
    let detail = format!("{} at site {site}: {} → {}", entry.commodity.code, show(before), show(threshold));
    record(store, actor, "commodity.threshold", entry.commodity.code.clone(), detail).await?;
    let fields: Map<String, Value> =
        [("site_thresholds".to_string(), serde_json::to_value(&entry.commodity.site_thresholds).unwrap_or_default())]
            .into_iter()
            .collect();
    store.change_reference(Collection::Commodities, record_id, fields, &[], now_ms).await?;
    Ok(entry)
}

/// Checks a kit against the catalogue: at least one item, each a known commodity not retired,
/// none twice.
async fn kit_fields(store: &Store, mut kit: KitTemplate) -> Result<Map<String, Value>, AdminError> {
    let mut errors = Vec::new();
    match clean_name("name", &kit.name, MAX_NAME_CHARS) {
        Ok(name) => kit.name = name,
        Err(e) => errors.push(e),
    }
    if kit.items.is_empty() {
        errors.push(invalid("items", "required", "a kit holds at least one item"));
    }
    let catalogue = commodities(store).await?;
    let mut seen = Vec::new();
    for item in &kit.items {
        match catalogue.iter().find(|c| c.commodity.code == item.commodity) {
            None => errors.push(invalid(
                "items",
                "unknown_commodity",
                format!("{:?} is not in the catalogue", item.commodity),
            )),
            Some(c) if c.commodity.retired => errors.push(invalid(
                "items",
                "retired_commodity",
                format!("{:?} is retired: it cannot be put in a kit", item.commodity),
            )),
            Some(_) => {}
        }
        if seen.contains(&&item.commodity) {
            errors.push(invalid("items", "duplicate", format!("{:?} is listed twice", item.commodity)));
        }
        seen.push(&item.commodity);
    }
    if !errors.is_empty() {
        return Err(AdminError::Invalid(errors));
    }
    names_checked(&mut kit.names)?;
    let fields = fields_of(&kit)?;
    schema_check(Collection::KitTemplates, &fields)?;
    Ok(fields)
}

/// Adds a kit template (administrators).
pub async fn add_kit(store: &Store, actor: &Actor, kit: KitTemplate, now_ms: u64) -> Result<KitEntry, AdminError> {
    actor.organisation_wide("changing the kits")?;
    let fields = kit_fields(store, kit).await?;
    let all = kits(store).await?;
    unique(all.iter().map(|k| (k.id.as_str(), k.kit.code.as_str(), k.kit.name.as_str())), None, &fields)?;
    let code = fields.get("code").and_then(Value::as_str).unwrap_or_default().to_string();
    record(store, actor, "kit.add", code, changes(&Map::new(), &fields)).await?;
    let id = store.create_reference(Collection::KitTemplates, fields.clone(), UNIQUE, now_ms).await?;
    let kit = serde_json::from_value(Value::Object(fields)).map_err(|e| AdminError::Db(e.into()))?;
    Ok(KitEntry { id: id.to_string(), kit })
}

/// Changes a kit template (administrators): everything but its code. Retiring a kit needs no
/// check of its items; any other change does.
pub async fn change_kit(
    store: &Store,
    actor: &Actor,
    id: &str,
    kit: KitTemplate,
    now_ms: u64,
) -> Result<KitEntry, AdminError> {
    actor.organisation_wide("changing the kits")?;
    let record_id = parse_id(id)?;
    let current = kits(store)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| AdminError::NotFound(format!("no kit {id:?}")))?;
    if kit.code != current.kit.code {
        return Err(AdminError::Invalid(vec![invalid("code", "immutable", "a kit's code never changes")]));
    }
    let only_retiring = kit.retired && KitTemplate { retired: false, ..kit.clone() } == current.kit;
    let mut after = if only_retiring { fields_of(&kit)? } else { kit_fields(store, kit).await? };
    for field in ["names", "key_groups", "settings"] {
        after.entry(field).or_insert(Value::Null);
    }
    let all = kits(store).await?;
    unique(all.iter().map(|k| (k.id.as_str(), k.kit.code.as_str(), k.kit.name.as_str())), Some(id), &after)?;
    let before = fields_of(&current.kit)?;
    let detail = format!("{}: {}", current.kit.code, changes(&before, &after));
    record(store, actor, "kit.change", current.kit.code.clone(), detail).await?;
    store.change_reference(Collection::KitTemplates, record_id, after.clone(), UNIQUE, now_ms).await?;
    after.retain(|_, v| !v.is_null());
    let kit = serde_json::from_value(Value::Object(after)).map_err(|e| AdminError::Db(e.into()))?;
    Ok(KitEntry { id: id.to_string(), kit })
}
