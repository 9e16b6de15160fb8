//! Conflict review for coordinators: the conflicts of their sites as the dashboard shows them,
//! and their resolution (one storage transaction, see the store's `conflicts` module).

use crate::services::accounts::User;
use outpost_core::merge::FieldState;
use outpost_core::{Collection, RecordId};
use outpost_server_store::conflicts::{ConflictFilter, ConflictRow, Resolution, ResolveRefusal};
use outpost_server_store::{DbError, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most conflicts listed at once.
pub const LIST_LIMIT: u32 = 1000;

/// One side of a conflict: the value, who wrote it and when.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Side {
    pub value: serde_json::Value,
    pub device_id: Option<String>,
    pub at_ms: Option<u64>,
    /// The tablet's name (as enrolled or renamed by an admin), when the server knows the device.
    pub device_name: Option<String>,
    /// The worker last signed in on that tablet, as it last told the server.
    pub worker: Option<String>,
}

impl Side {
    fn of(f: &FieldState, devices: &BTreeMap<String, (String, Option<String>)>) -> Self {
        let device_id = f.stamp.device.to_string();
        let known = devices.get(&device_id);
        Side {
            value: f.value.clone(),
            at_ms: Some(f.stamp.wall_ms),
            device_name: known.map(|(name, _)| name.clone()),
            worker: known.and_then(|(_, worker)| worker.clone()),
            device_id: Some(device_id),
        }
    }
}

/// What the conflicting record is, so a coordinator can judge the two values: the client's code
/// (of a client, or of the contact a record belongs to), the contact's date, the commodity. Each
/// is absent when the record has none (or is gone).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RecordLabel {
    pub client_uic: Option<String>,
    /// When the contact (or the record's own event) took place, RFC 3339.
    pub occurred_at: Option<String>,
    pub commodity: Option<String>,
}

/// A conflict as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ConflictView {
    pub id: i64,
    pub collection: String,
    pub record_id: String,
    pub site_id: Option<String>,
    pub field: String,
    pub winner: Side,
    pub loser: Side,
    pub detected_ms: i64,
    pub resolved_ms: Option<i64>,
    pub resolution: Option<ConflictResolution>,
    pub record: RecordLabel,
}

/// What a coordinator asks for a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictAction {
    /// Keep the winner.
    Accept,
    /// Write the losing value back (every tablet gets it).
    Revert,
}

impl From<ConflictAction> for Resolution {
    fn from(action: ConflictAction) -> Self {
        match action {
            ConflictAction::Accept => Resolution::Accept,
            ConflictAction::Revert => Resolution::Revert,
        }
    }
}

/// What was done with a resolved conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictResolution {
    Accepted,
    Reverted,
}

impl From<Resolution> for ConflictResolution {
    fn from(resolution: Resolution) -> Self {
        match resolution {
            Resolution::Accept => ConflictResolution::Accepted,
            Resolution::Revert => ConflictResolution::Reverted,
        }
    }
}

/// What the dashboard shows with conflicts: the tablets' names and workers, and the records'
/// labels (read once per record for a whole list).
struct Context<'a> {
    store: &'a Store,
    devices: BTreeMap<String, (String, Option<String>)>,
    records: BTreeMap<(String, RecordId), Option<serde_json::Map<String, serde_json::Value>>>,
}

impl<'a> Context<'a> {
    async fn new(store: &'a Store) -> Result<Self, DbError> {
        let devices = store.list_devices().await?.into_iter().map(|d| (d.id.to_string(), (d.name, d.worker))).collect();
        Ok(Context { store, devices, records: BTreeMap::new() })
    }

    /// A record's field values (deleted records too: the label still says what it was).
    async fn values(
        &mut self,
        collection: &str,
        id: RecordId,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, DbError> {
        let key = (collection.to_string(), id);
        if let Some(found) = self.records.get(&key) {
            return Ok(found.clone());
        }
        let found = self.store.record(collection, id).await?.map(|state| state.values());
        self.records.insert(key, found.clone());
        Ok(found)
    }

    /// A linked record's values: `field` of `values` names a record of `collection`.
    async fn linked(
        &mut self,
        values: &serde_json::Map<String, serde_json::Value>,
        field: &str,
        collection: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, DbError> {
        match values.get(field).and_then(|v| v.as_str()).and_then(|id| id.parse::<RecordId>().ok()) {
            Some(id) => self.values(collection, id).await,
            None => Ok(None),
        }
    }

    async fn label(&mut self, collection: &str, id: RecordId) -> Result<RecordLabel, DbError> {
        let text = |values: &serde_json::Map<String, serde_json::Value>, field: &str| {
            values.get(field).and_then(|v| v.as_str()).map(str::to_string)
        };
        let Some(values) = self.values(collection, id).await? else { return Ok(RecordLabel::default()) };
        let mut label = RecordLabel {
            client_uic: (collection == Collection::Clients.name()).then(|| text(&values, "uic")).flatten(),
            occurred_at: text(&values, "occurred_at"),
            commodity: text(&values, "commodity"),
        };
        let contact = self.linked(&values, "contact_id", Collection::Contacts.name()).await?;
        if let Some(contact) = &contact {
            label.occurred_at = label.occurred_at.or_else(|| text(contact, "occurred_at"));
        }
        if label.client_uic.is_none() {
            let client = match self.linked(&values, "client_id", Collection::Clients.name()).await? {
                Some(client) => Some(client),
                None => match &contact {
                    Some(contact) => self.linked(contact, "client_id", Collection::Clients.name()).await?,
                    None => None,
                },
            };
            label.client_uic = client.as_ref().and_then(|c| text(c, "uic"));
        }
        Ok(label)
    }

    async fn view(&mut self, c: &ConflictRow) -> Result<ConflictView, DbError> {
        Ok(ConflictView {
            id: c.id,
            collection: c.collection.clone(),
            record_id: c.record_id.to_string(),
            site_id: c.site_id.map(|s| s.to_string()),
            field: c.field.clone(),
            winner: Side::of(&c.winner, &self.devices),
            loser: Side::of(&c.loser, &self.devices),
            detected_ms: c.detected_ms,
            resolved_ms: c.resolved_ms,
            resolution: c.resolution.map(ConflictResolution::from),
            record: self.label(&c.collection, c.record_id).await?,
        })
    }
}

/// The newest conflicts the user may see (open ones only, or all).
pub async fn list(
    store: &Store,
    user: &User,
    open_only: bool,
    before: Option<i64>,
    sites: Option<Vec<outpost_core::SiteId>>,
) -> Result<Vec<ConflictView>, DbError> {
    // The user's sites are chosen in the query, so another site's volume never hides theirs.
    let sites = sites.or_else(|| (user.role != crate::services::accounts::Role::Admin).then(|| user.site_ids()));
    let filter = ConflictFilter { id: None, open_only, newest: Some(LIST_LIMIT), sites, before };
    let rows = store.conflicts(filter).await?;
    let mut context = Context::new(store).await?;
    let mut out = Vec::new();
    for row in rows.iter().filter(|c| user.sees(c.site_id)) {
        out.push(context.view(row).await?);
    }
    Ok(out)
}

/// Resolves a conflict of the user's sites. A conflict of another site is `NotFound`, as if it
/// did not exist.
pub async fn resolve(
    store: &Store,
    user: &User,
    id: i64,
    action: ConflictAction,
    now_ms: u64,
) -> Result<Result<ConflictView, ResolveRefusal>, DbError> {
    let found = store.conflicts(ConflictFilter { id: Some(id), ..Default::default() }).await?;
    if !found.first().is_some_and(|c| user.sees(c.site_id)) {
        return Ok(Err(ResolveRefusal::NotFound));
    }
    match store.resolve_conflict(id, action.into(), now_ms).await? {
        Ok(row) => Ok(Ok(Context::new(store).await?.view(&row).await?)),
        Err(refusal) => Ok(Err(refusal)),
    }
}
