//! What the screens read and write: client codes and lookups, reference data, contacts and their
//! corrections, referrals, tallies and stock. Each command parses its arguments, calls
//! one function of `outpost-device` on the open store and answers.

use super::args::{Result, now_rfc3339, parse_id};
use crate::error::CommandError;
use crate::state::AppState;
use outpost_core::records::{Commodity, KitTemplate, ReferralStatus};
use outpost_core::uic::UicScheme;
use outpost_device::queries::{ClientSummary, ContactSummary, OpenLinkage, OpenReferral, StockLevel};
use outpost_device::workflows::{
    ContactEdit, ContactInput, MovementInput, OverdoseInput, SavedContact, StockCount, TallyInput,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tauri::State;

/// Longest answer to a code question.
const MAX_ANSWER_CHARS: usize = 100;

#[derive(ts_rs::TS, Debug, Serialize)]
pub struct BuiltUic {
    pub uic: String,
}

#[tauri::command(async)]
pub fn build_uic(state: State<'_, Arc<AppState>>, answers: BTreeMap<String, String>) -> Result<BuiltUic> {
    let scheme =
        state.with_store(|s| Ok(s.identity().map(|i| i.scheme.clone())))?.unwrap_or_else(UicScheme::central_asia);
    if answers.values().any(|a| a.chars().count() > MAX_ANSWER_CHARS) {
        return Err(CommandError::new("invalid_answer", "an answer is too long"));
    }
    let uic = scheme.build(&answers).map_err(|e| CommandError::new("invalid_answer", e.to_string()))?;
    Ok(BuiltUic { uic: uic.as_str().to_string() })
}

#[tauri::command(async)]
pub fn find_clients(state: State<'_, Arc<AppState>>, prefix: String) -> Result<Vec<ClientSummary>> {
    if prefix.chars().count() > 20 {
        return Ok(Vec::new());
    }
    state.with_store(|s| s.find_clients(prefix.trim(), 20))
}

#[tauri::command(async)]
pub fn near_matches(state: State<'_, Arc<AppState>>, uic: String) -> Result<Vec<ClientSummary>> {
    state.with_store(|s| s.near_matches(uic.trim()))
}

#[tauri::command(async)]
pub fn client_history(
    state: State<'_, Arc<AppState>>,
    client_id: String,
    limit: Option<usize>,
) -> Result<Vec<ContactSummary>> {
    let id = parse_id(&client_id)?;
    state.with_store(|s| s.client_history(id, limit.unwrap_or(10).min(100)))
}

#[tauri::command(async)]
pub fn contacts_between(
    state: State<'_, Arc<AppState>>,
    from: String,
    to: String,
    limit: Option<usize>,
) -> Result<Vec<ContactSummary>> {
    state.with_store(|s| s.contacts_between(&from, &to, limit.unwrap_or(200).min(1000)))
}

/// The kit templates in display order (retired ones flagged, for history).
#[tauri::command(async)]
pub fn kit_templates(state: State<'_, Arc<AppState>>) -> Result<Vec<KitTemplate>> {
    state.with_store(|s| s.kit_templates())
}

/// The catalogue in display order, with this tablet's site's low-stock thresholds.
#[tauri::command(async)]
pub fn commodities(state: State<'_, Arc<AppState>>) -> Result<Vec<Commodity>> {
    state.with_store(|s| s.commodities())
}

#[tauri::command(async)]
pub fn save_contact(state: State<'_, Arc<AppState>>, contact: ContactInput) -> Result<SavedContact> {
    let worker = state.guard().lock.current_worker_id();
    let at = now_rfc3339();
    state.with_store(|store| store.save_contact(&contact, worker.as_deref(), &at))
}

/// Referrals of this tablet's site still waiting for their outcome, oldest first; `client`
/// narrows them to one client (shown when a returning client is found).
#[tauri::command(async)]
pub fn open_referrals(state: State<'_, Arc<AppState>>, client: Option<String>) -> Result<Vec<OpenReferral>> {
    let client = client.as_deref().map(parse_id).transpose()?;
    state.with_store(|store| {
        let site = store.home_site()?;
        store.open_referrals(site, client, 200)
    })
}

/// Records a referral's outcome: `attended`, `declined` or `lost` (or back to `issued`), dated
/// now.
#[tauri::command(async)]
pub fn update_referral(state: State<'_, Arc<AppState>>, id: String, status: String) -> Result<()> {
    let id = parse_id(&id)?;
    let status = ReferralStatus::VARIANTS.iter().copied().find(|s| s.as_str() == status).ok_or_else(|| {
        CommandError::invalid(format!("{status:?} is not a referral status (issued, attended, declined, lost)"))
    })?;
    let at = now_rfc3339();
    state.with_store(|store| store.update_referral(id, status, &at))
}

/// Reactive tests of this tablet's site whose person is not yet linked to care, oldest first.
#[tauri::command(async)]
pub fn open_linkages(state: State<'_, Arc<AppState>>) -> Result<Vec<OpenLinkage>> {
    state.with_store(|store| {
        let site = store.home_site()?;
        store.open_linkages(site, 200)
    })
}

/// Records that the person of a reactive test was linked to care, dated now.
#[tauri::command(async)]
pub fn record_linkage(state: State<'_, Arc<AppState>>, id: String) -> Result<()> {
    let id = parse_id(&id)?;
    let at = now_rfc3339();
    state.with_store(|store| store.record_linkage(id, &at))
}

/// Sets, changes or (with `None`) removes the overdose report of a contact still in its edit
/// window.
#[tauri::command(async)]
pub fn update_overdose(
    state: State<'_, Arc<AppState>>,
    contact_id: String,
    overdose: Option<OverdoseInput>,
) -> Result<()> {
    let contact = parse_id(&contact_id)?;
    state.with_store(|store| store.update_overdose(contact, overdose.as_ref()))
}

#[tauri::command(async)]
pub fn update_contact(state: State<'_, Arc<AppState>>, id: String, fields: ContactEdit) -> Result<()> {
    let id = parse_id(&id)?;
    state.with_store(|store| store.update_contact(id, &fields))
}

#[tauri::command(async)]
pub fn reverse_line(
    state: State<'_, Arc<AppState>>,
    contact_id: String,
    commodity: String,
    quantity: u32,
) -> Result<()> {
    let contact = parse_id(&contact_id)?;
    state.with_store(|store| store.reverse_line(contact, &commodity, quantity))
}

#[tauri::command(async)]
pub fn save_group_tally(state: State<'_, Arc<AppState>>, tally: TallyInput) -> Result<()> {
    let at = now_rfc3339();
    state.with_store(|store| store.save_group_tally(&tally, &at).map(|_| ()))
}

#[tauri::command(async)]
pub fn stock_levels(state: State<'_, Arc<AppState>>) -> Result<Vec<StockLevel>> {
    state.with_store(|store| {
        let site = store.home_site()?;
        store.stock_levels(site)
    })
}

#[tauri::command(async)]
pub fn record_stock_movement(state: State<'_, Arc<AppState>>, movement: MovementInput) -> Result<()> {
    let at = now_rfc3339();
    state.with_store(|store| store.record_stock_movement(&movement, &at).map(|_| ()))
}

/// A stock count (opening balance or stocktake): the corrections it needed, in one
/// transaction; returns how many were written.
#[tauri::command(async)]
pub fn record_stock_count(state: State<'_, Arc<AppState>>, counts: Vec<StockCount>) -> Result<usize> {
    let at = now_rfc3339();
    state.with_store(|store| store.record_stock_count(&counts, &at))
}
