//! Conflict review for coordinators: the conflicts of their sites as the dashboard shows them,
//! and their resolution (one storage transaction, see the store's `conflicts` module).

use crate::services::accounts::User;
use outpost_core::merge::FieldState;
use outpost_server_store::conflicts::{ConflictFilter, ConflictRow, Resolution, ResolveRefusal};
use outpost_server_store::{DbError, Store};
use serde::{Deserialize, Serialize};

/// Most conflicts listed at once.
pub const LIST_LIMIT: u32 = 1000;

/// One side of a conflict: the value, who wrote it and when.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Side {
    pub value: serde_json::Value,
    pub device_id: Option<String>,
    pub at_ms: Option<u64>,
}

impl From<&FieldState> for Side {
    fn from(f: &FieldState) -> Self {
        Side { value: f.value.clone(), device_id: Some(f.stamp.device.to_string()), at_ms: Some(f.stamp.wall_ms) }
    }
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

impl From<&ConflictRow> for ConflictView {
    fn from(c: &ConflictRow) -> Self {
        ConflictView {
            id: c.id,
            collection: c.collection.clone(),
            record_id: c.record_id.to_string(),
            site_id: c.site_id.map(|s| s.to_string()),
            field: c.field.clone(),
            winner: Side::from(&c.winner),
            loser: Side::from(&c.loser),
            detected_ms: c.detected_ms,
            resolved_ms: c.resolved_ms,
            resolution: c.resolution.map(ConflictResolution::from),
        }
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
    Ok(rows.iter().filter(|c| user.sees(c.site_id)).map(ConflictView::from).collect())
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
    Ok(store.resolve_conflict(id, action.into(), now_ms).await?.map(|row| ConflictView::from(&row)))
}
