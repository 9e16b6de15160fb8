//! Tauri commands: thin wrappers over `outpost-device` (see `command_list.rs` for the list the
//! capability file grants). Every command returns `Result<T, CommandError>`.

use crate::error::CommandError;
use crate::lock::{self, LockFile};
use crate::state::{AppState, PendingEnrollment};
use outpost_core::records::ReferralStatus;
use outpost_core::uic::UicScheme;
use outpost_core::wire::OpKind;
use outpost_core::{Collection, RecordId, SiteId};
use outpost_device::queries::{ClientSummary, ContactSummary, OpenReferral, StockLevel};
use outpost_device::{DeviceStore, SyncClient};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tauri::State;

type Result<T> = std::result::Result<T, CommandError>;

use outpost_core::records::CONTACT_EDIT_WINDOW_MS;

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "2000-01-01T00:00:00Z".into())
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn parse_id(text: &str) -> Result<RecordId> {
    text.parse().map_err(|_| CommandError::invalid(format!("{text:?} is not a record id")))
}

/// A site of this device.
#[derive(Clone, Debug, Serialize)]
pub struct SiteInfo {
    pub id: SiteId,
    pub name: String,
}

/// What every screen shows in its status bar.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub enrolled: bool,
    pub locked: bool,
    pub wiped: bool,
    pub worker: Option<String>,
    pub device_name: Option<String>,
    pub org_name: Option<String>,
    pub site: Option<SiteInfo>,
    pub pending: u64,
    pub rejected: u64,
    pub last_sync_ms: Option<u64>,
    pub sync_state: &'static str,
    pub sync_error: Option<CommandError>,
    pub language: String,
    pub idle_lock_minutes: u32,
    /// Wrong PINs in a row before the local data is wiped.
    pub wipe_after: u32,
    pub pin_set: bool,
    /// Workers who used this tablet, the current one first.
    pub known_workers: Vec<String>,
    /// The questions of the organisation's client code scheme, in order (empty until enrolled).
    pub uic_questions: Vec<UicQuestion>,
}

/// One question of the client code scheme, as the code builder asks it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UicQuestion {
    /// The answer's key for `build_uic` (`mother_first_name`, `sex`, `birth_year`...).
    pub question: String,
    /// How it is answered: `letters` (a name or word), `sex` (man, woman, other),
    /// `birth_year` (four digits) or `birth_day` (1–31).
    pub kind: &'static str,
}

/// The questions a scheme asks, in the order of its components.
pub fn uic_questions(scheme: &UicScheme) -> Vec<UicQuestion> {
    use outpost_core::uic::UicComponent;
    scheme
        .components
        .iter()
        .map(|c| match c {
            UicComponent::Letters { question, .. } => UicQuestion { question: question.clone(), kind: "letters" },
            UicComponent::SexDigit { question } => UicQuestion { question: question.clone(), kind: "sex" },
            UicComponent::BirthYear { question, .. } => UicQuestion { question: question.clone(), kind: "birth_year" },
            UicComponent::BirthDay { question } => UicQuestion { question: question.clone(), kind: "birth_day" },
        })
        .collect()
}

#[tauri::command]
pub fn status(state: State<'_, Arc<AppState>>) -> Result<Status> {
    let inner = state.guard();
    let pin_set = inner.lock.salt.is_some();
    let (mut status, store) = (
        Status {
            enrolled: pin_set || inner.pending_enrollment.is_some(),
            locked: inner.store.is_none(),
            wiped: inner.lock.wiped,
            worker: inner.lock.current_worker.clone(),
            device_name: inner.pending_enrollment.as_ref().map(|p| p.device_name.clone()),
            org_name: inner.pending_enrollment.as_ref().map(|p| p.enrolled.org_name.clone()),
            site: inner
                .pending_enrollment
                .as_ref()
                .and_then(|p| p.enrolled.sites.first())
                .map(|s| SiteInfo { id: s.id, name: s.name.clone() }),
            pending: 0,
            rejected: 0,
            last_sync_ms: None,
            sync_state: inner.sync.state,
            sync_error: inner.sync.error.clone(),
            language: inner.lock.language.clone(),
            idle_lock_minutes: inner.lock.idle_lock_minutes,
            wipe_after: inner.lock.max_attempts,
            pin_set,
            known_workers: {
                let mut names: Vec<String> = inner.lock.workers.iter().rev().map(|w| w.name.clone()).collect();
                if let Some(current) = &inner.lock.current_worker {
                    names.retain(|n| n != current);
                    names.insert(0, current.clone());
                }
                names
            },
            uic_questions: inner
                .pending_enrollment
                .as_ref()
                .map_or_else(Vec::new, |p| uic_questions(&p.enrolled.uic_scheme)),
        },
        inner.store.clone(),
    );
    drop(inner);
    if let Some(store) = store {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(identity) = store.identity() {
            status.org_name = Some(identity.org_name.clone());
            status.site = identity.sites.first().map(|s| SiteInfo { id: s.id, name: s.name.clone() });
            status.uic_questions = uic_questions(&identity.scheme);
        }
        status.device_name = store.device_name()?;
        status.pending = store.pending_count()?;
        status.rejected = store.rejected_ops()?.len() as u64;
        status.last_sync_ms = store.last_sync_ms()?;
    }
    Ok(status)
}

#[tauri::command]
pub async fn enroll(
    state: State<'_, Arc<AppState>>,
    server_url: String,
    code: String,
    device_name: String,
) -> Result<()> {
    let url = server_url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 300 {
        return Err(CommandError::invalid("the server address starts with https://"));
    }
    let name = device_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CommandError::invalid("give the tablet a name of 1 to 100 characters"));
    }
    if state.guard().lock.salt.is_some() {
        return Err(CommandError::new("already_enrolled", "this tablet is already enrolled"));
    }
    // Nothing is saved yet: the encrypted store is created with the PIN (`set_pin`).
    let enrolled = SyncClient::new(&url)?.request_enrollment(&code, name).await.map_err(enrollment_error)?;
    let mut inner = state.guard();
    inner.pending_enrollment = Some(PendingEnrollment { url, enrolled, device_name: name.to_string() });
    Ok(())
}

/// An enrolment refused by the server: a bad code, or a request it would not take.
fn enrollment_error(e: outpost_device::SyncError) -> CommandError {
    match e {
        outpost_device::SyncError::Unauthorized { message, .. } => {
            CommandError::new("enrollment_code_invalid", message)
        }
        outpost_device::SyncError::Rejected { message, .. } => CommandError::new("invalid", message),
        other => other.into(),
    }
}

/// Connects an enrolled tablet again with a new one-time code (its token expired or was lost),
/// keeping every record and every change not yet sent.
#[tauri::command]
pub async fn re_enroll(app: tauri::AppHandle, state: State<'_, Arc<AppState>>, code: String) -> Result<()> {
    let store = state.store()?;
    let (url, name) = {
        let guard = store.lock().unwrap_or_else(|p| p.into_inner());
        let url = guard
            .identity()
            .map(|i| i.server_url.clone())
            .ok_or_else(|| CommandError::new("not_enrolled", "not enrolled"))?;
        (url, guard.device_name()?.unwrap_or_else(|| "Outpost tablet".into()))
    };
    let enrolled = SyncClient::new(&url)?.request_enrollment(&code, &name).await.map_err(enrollment_error)?;
    {
        let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
        guard.re_enroll(&url, &enrolled)?;
    }
    drop(store);
    state.guard().sync.error = None;
    crate::sync::spawn_once(app, Arc::clone(&state));
    Ok(())
}

#[tauri::command]
pub fn set_pin(app: tauri::AppHandle, state: State<'_, Arc<AppState>>, pin: String, worker: String) -> Result<()> {
    lock::check_new_pin(&pin).map_err(CommandError::invalid)?;
    let worker = worker.trim().to_string();
    if worker.is_empty() || worker.chars().count() > 60 {
        return Err(CommandError::invalid("the worker's name or initials: 1 to 60 characters"));
    }
    let mut inner = state.guard();
    if inner.lock.salt.is_some() {
        return Err(CommandError::new("already_enrolled", "a PIN is already set"));
    }
    let pending = inner
        .pending_enrollment
        .clone()
        .ok_or_else(|| CommandError::new("not_enrolled", "enrol the tablet with the server first"))?;
    let salt = lock::new_salt();
    let kdf = lock::KdfParams::CURRENT;
    let key = lock::derive_key(&pin, &salt, kdf).map_err(|e| CommandError::new("storage", e))?;
    lock::wipe(&state.dir).map_err(|e| CommandError::new("storage", e.to_string()))?;
    std::fs::create_dir_all(&state.dir).map_err(|e| CommandError::new("storage", e.to_string()))?;
    let mut store = DeviceStore::open(&state.db_path(), &key)?;
    store.save_enrollment(&pending.url, &pending.enrolled)?;
    store.set_device_name(&pending.device_name)?;
    let mut lock_file = inner.lock.clone();
    lock_file.salt = Some(salt);
    lock_file.kdf = kdf;
    lock_file.failed_attempts = 0;
    lock_file.wiped = false;
    lock_file.worker(&worker);
    lock_file.current_worker = Some(worker);
    state.save_lock(&lock_file)?;
    inner.lock = lock_file;
    inner.pending_enrollment = None;
    inner.store = Some(Arc::new(Mutex::new(store)));
    drop(inner);
    // The first sync brings the site's reference data (catalogue, kits) right away.
    crate::sync::spawn_once(app, Arc::clone(&state));
    Ok(())
}

#[tauri::command]
pub fn unlock(state: State<'_, Arc<AppState>>, pin: String) -> Result<()> {
    let mut inner = state.guard();
    if inner.store.is_some() {
        return Ok(());
    }
    let salt = inner.lock.salt.clone().ok_or_else(|| CommandError::new("not_enrolled", "set up the tablet first"))?;
    let now = now_ms();
    if inner.lock.locked_until_ms > now {
        let wait = inner.lock.locked_until_ms - now;
        // The PIN is not checked at all, so this is not a wrong PIN: the UI shows the wait.
        return Err(CommandError {
            code: "pin_wait",
            message: format!("too many wrong PINs: wait {} seconds", wait.div_ceil(1000)),
            retry_after_ms: Some(wait),
            attempts_left: None,
        });
    }
    if lock::check_pin(&pin).is_ok() {
        let key = lock::derive_key(&pin, &salt, inner.lock.kdf).map_err(|e| CommandError::new("storage", e))?;
        match DeviceStore::open(&state.db_path(), &key) {
            Ok(store) => {
                inner.lock.failed_attempts = 0;
                inner.lock.locked_until_ms = 0;
                let lock_file = inner.lock.clone();
                state.save_lock(&lock_file)?;
                inner.store = Some(Arc::new(Mutex::new(store)));
                return Ok(());
            }
            Err(outpost_device::StoreError::BadKey) => {}
            Err(other) => return Err(other.into()),
        }
    }
    inner.lock.failed_attempts += 1;
    if inner.lock.failed_attempts >= inner.lock.max_attempts {
        state.wipe(&mut inner)?;
        return Err(CommandError::new(
            "wiped",
            "too many wrong PINs: the local data was wiped; enrol the tablet again",
        ));
    }
    let left = inner.lock.max_attempts.saturating_sub(inner.lock.failed_attempts);
    let wait = lock::backoff_ms(inner.lock.failed_attempts, left);
    inner.lock.locked_until_ms = now + wait;
    let lock_file = inner.lock.clone();
    state.save_lock(&lock_file)?;
    Err(CommandError {
        code: "wrong_pin",
        message: format!("wrong PIN: {left} attempts left before the local data is wiped"),
        retry_after_ms: (wait > 0).then_some(wait),
        attempts_left: Some(left),
    })
}

#[tauri::command]
pub fn lock(state: State<'_, Arc<AppState>>) -> Result<()> {
    let mut inner = state.guard();
    state.close_store(&mut inner);
    Ok(())
}

#[tauri::command]
pub fn switch_worker(state: State<'_, Arc<AppState>>, worker: String) -> Result<()> {
    let worker = worker.trim().to_string();
    if worker.is_empty() || worker.chars().count() > 60 {
        return Err(CommandError::invalid("the worker's name or initials: 1 to 60 characters"));
    }
    let mut inner = state.guard();
    let mut lock_file: LockFile = inner.lock.clone();
    lock_file.worker(&worker);
    lock_file.current_worker = Some(worker);
    state.save_lock(&lock_file)?;
    inner.lock = lock_file;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct BuiltUic {
    pub uic: String,
}

#[tauri::command]
pub fn build_uic(state: State<'_, Arc<AppState>>, answers: BTreeMap<String, String>) -> Result<BuiltUic> {
    let scheme =
        state.with_store(|s| Ok(s.identity().map(|i| i.scheme.clone())))?.unwrap_or_else(UicScheme::central_asia);
    if answers.values().any(|a| a.chars().count() > 100) {
        return Err(CommandError::new("invalid_answer", "an answer is too long"));
    }
    let uic = scheme.build(&answers).map_err(|e| CommandError::new("invalid_answer", e.to_string()))?;
    Ok(BuiltUic { uic: uic.as_str().to_string() })
}

#[tauri::command]
pub fn find_clients(state: State<'_, Arc<AppState>>, prefix: String) -> Result<Vec<ClientSummary>> {
    if prefix.chars().count() > 20 {
        return Ok(Vec::new());
    }
    state.with_store(|s| s.find_clients(prefix.trim(), 20))
}

#[tauri::command]
pub fn near_matches(state: State<'_, Arc<AppState>>, uic: String) -> Result<Vec<ClientSummary>> {
    state.with_store(|s| s.near_matches(uic.trim()))
}

#[tauri::command]
pub fn client_history(
    state: State<'_, Arc<AppState>>,
    client_id: String,
    limit: Option<usize>,
) -> Result<Vec<ContactSummary>> {
    let id = parse_id(&client_id)?;
    state.with_store(|s| s.client_history(id, limit.unwrap_or(10).min(100)))
}

#[tauri::command]
pub fn contacts_between(
    state: State<'_, Arc<AppState>>,
    from: String,
    to: String,
    limit: Option<usize>,
) -> Result<Vec<ContactSummary>> {
    state.with_store(|s| s.contacts_between(&from, &to, limit.unwrap_or(200).min(1000)))
}

fn reference(state: &AppState, collection: Collection) -> Result<Vec<Value>> {
    state.with_store(|s| Ok(s.list(collection)?.into_iter().map(|(_, st)| Value::Object(st.values())).collect()))
}

#[tauri::command]
pub fn kit_templates(state: State<'_, Arc<AppState>>) -> Result<Vec<Value>> {
    reference(&state, Collection::KitTemplates)
}

#[tauri::command]
pub fn commodities(state: State<'_, Arc<AppState>>) -> Result<Vec<Value>> {
    reference(&state, Collection::Commodities)
}

/// The client of a contact: an existing one, or a new one created with the contact.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ContactClient {
    Existing { id: String },
    New { new: NewClient },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    pub uic: String,
    pub gender: String,
    pub birth_year: Option<u16>,
    #[serde(default)]
    pub key_groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    pub commodity: String,
    pub quantity: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    pub target: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    pub test: String,
    pub result: String,
    #[serde(default)]
    pub linked_to_care: bool,
}

/// An overdose the worker responded to during the contact.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverdoseInput {
    pub naloxone_doses: u32,
    pub emergency_called: bool,
    pub stayed_with_person: bool,
    /// `survived`, `died` or `unknown`.
    pub outcome: String,
}

/// Everything recorded in one contact, saved in one transaction.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub client: Option<ContactClient>,
    pub setting: String,
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub collecting_for: u32,
    pub note: Option<String>,
    #[serde(default)]
    pub items: Vec<Quantity>,
    pub sharps_returned: Option<u32>,
    #[serde(default)]
    pub referrals: Vec<ReferralInput>,
    #[serde(default)]
    pub tests: Vec<TestInput>,
    pub overdose: Option<OverdoseInput>,
}

#[derive(Debug, Serialize)]
pub struct SavedContact {
    pub contact_id: RecordId,
    pub client_id: Option<RecordId>,
}

fn current_worker_id(state: &AppState) -> Option<String> {
    let inner = state.guard();
    let name = inner.lock.current_worker.as_ref()?;
    inner.lock.workers.iter().find(|w| &w.name == name).map(|w| w.id.clone())
}

fn site_of(store: &DeviceStore) -> std::result::Result<SiteId, outpost_device::StoreError> {
    store.identity().and_then(|i| i.sites.first()).map(|s| s.id).ok_or(outpost_device::StoreError::NotEnrolled)
}

#[tauri::command]
pub fn save_contact(state: State<'_, Arc<AppState>>, contact: ContactInput) -> Result<SavedContact> {
    if contact.items.len() > 64 || contact.referrals.len() > 20 || contact.tests.len() > 20 {
        return Err(CommandError::invalid("too many lines in one contact"));
    }
    let worker = current_worker_id(&state);
    let at = contact.occurred_at.clone().unwrap_or_else(now_rfc3339);
    state.with_store(|store| {
        let site = site_of(store)?;
        store.write_batch(|b| {
            let client_id = match &contact.client {
                None => None,
                Some(ContactClient::Existing { id }) => Some(id.parse().map_err(|_| {
                    outpost_device::StoreError::Invalid(vec![field_error("client", "invalid_uuid", "not a client id")])
                })?),
                Some(ContactClient::New { new }) => Some(b.create(
                    Collection::Clients,
                    site,
                    fields(json!({
                        "uic": new.uic, "gender": new.gender, "birth_year": new.birth_year, "key_groups": new.key_groups,
                        "first_seen_site": site.to_string(), "first_seen_at": at,
                    }))
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .collect(),
                )?),
            };
            let mut record = fields(json!({
                "setting": contact.setting, "occurred_at": at, "services": contact.services,
                "collecting_for": contact.collecting_for,
            }));
            if let Some(client) = client_id {
                record.insert("client_id".into(), json!(client.to_string()));
            }
            if let Some(worker) = &worker {
                record.insert("worker_id".into(), json!(worker));
            }
            if let Some(note) = contact.note.as_ref().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                record.insert("note".into(), json!(note));
            }
            let contact_id = b.create(Collection::Contacts, site, record)?;
            let cid = contact_id.to_string();
            for item in contact.items.iter().filter(|i| i.quantity > 0) {
                b.create(
                    Collection::DistributionLines,
                    site,
                    fields(json!({"contact_id": cid, "commodity": item.commodity, "quantity": item.quantity})),
                )?;
            }
            if let Some(count) = contact.sharps_returned.filter(|c| *c > 0) {
                b.create(Collection::SharpsReturns, site, fields(json!({"contact_id": cid, "count": count})))?;
            }
            for referral in &contact.referrals {
                let mut r = fields(json!({"contact_id": cid, "target": referral.target,
                    "status": ReferralStatus::Issued.as_str(), "status_at": at}));
                if let Some(client) = client_id {
                    r.insert("client_id".into(), json!(client.to_string()));
                }
                b.create(Collection::Referrals, site, r)?;
            }
            for test in &contact.tests {
                let mut t = fields(json!({"contact_id": cid, "test": test.test, "result": test.result,
                    "linked_to_care": test.linked_to_care}));
                if let Some(client) = client_id {
                    t.insert("client_id".into(), json!(client.to_string()));
                }
                b.create(Collection::TestResults, site, t)?;
            }
            if let Some(od) = &contact.overdose {
                let mut report = overdose_fields(od);
                report.insert("contact_id".into(), json!(cid));
                b.create(Collection::OverdoseReports, site, report)?;
            }
            Ok(SavedContact { contact_id, client_id })
        })
    })
}

/// Referrals of this tablet's site still waiting for their outcome, oldest first; `client`
/// narrows them to one client (shown when a returning client is found).
#[tauri::command]
pub fn open_referrals(state: State<'_, Arc<AppState>>, client: Option<String>) -> Result<Vec<OpenReferral>> {
    let client = client.as_deref().map(parse_id).transpose()?;
    state.with_store(|store| {
        let site = site_of(store)?;
        store.open_referrals(site, client, 200)
    })
}

/// Records a referral's outcome: `attended`, `declined` or `lost` (or back to `issued`), dated
/// now. Field-level merge keeps the latest outcome if two tablets follow the same referral up.
#[tauri::command]
pub fn update_referral(state: State<'_, Arc<AppState>>, id: String, status: String) -> Result<()> {
    let id = parse_id(&id)?;
    let status = ReferralStatus::ALL.iter().copied().find(|s| *s == status).ok_or_else(|| {
        CommandError::invalid(format!("{status:?} is not a referral status (issued, attended, declined, lost)"))
    })?;
    state.with_store(|store| {
        let current = store.get(Collection::Referrals, id)?;
        if current.as_ref().is_none_or(|c| c.deleted.is_some()) {
            return Err(outpost_device::StoreError::NotFound { collection: Collection::Referrals, id });
        }
        store.update(Collection::Referrals, id, fields(json!({"status": status, "status_at": now_rfc3339()})))
    })
}

fn field_error(field: &str, code: &'static str, message: &str) -> outpost_core::FieldError {
    outpost_core::FieldError { field: field.into(), code, message: message.into() }
}

/// Whether `contact` may still be corrected: `Err(locked)` once its edit window has passed
/// (the window counts from when this tablet first recorded it). Unknown contacts are `not_found`.
fn edit_window(store: &DeviceStore, contact: RecordId) -> std::result::Result<Result<()>, outpost_device::StoreError> {
    let visit = store
        .get(Collection::Contacts, contact)?
        .filter(|v| v.deleted.is_none())
        .ok_or(outpost_device::StoreError::NotFound { collection: Collection::Contacts, id: contact })?;
    let created = visit.fields.values().map(|f| f.stamp.wall_ms).min().unwrap_or(0);
    if store.now_ms().saturating_sub(created) > CONTACT_EDIT_WINDOW_MS {
        return Ok(Err(CommandError::new("locked", "this contact is locked: it was recorded more than 72 hours ago")));
    }
    Ok(Ok(()))
}

/// Sets, changes or (with `None`) removes the overdose report of a contact still in its edit
/// window; the report is validated like any record.
#[tauri::command]
pub fn update_overdose(
    state: State<'_, Arc<AppState>>,
    contact_id: String,
    overdose: Option<OverdoseInput>,
) -> Result<()> {
    let contact = parse_id(&contact_id)?;
    let report = overdose.map(|od| overdose_fields(&od));
    state.with_store(|store| {
        if let Err(locked) = edit_window(store, contact)? {
            return Ok(Err(locked));
        }
        store.set_overdose(contact, report).map(Ok)
    })?
}

fn overdose_fields(od: &OverdoseInput) -> Map<String, Value> {
    fields(json!({"naloxone_doses": od.naloxone_doses, "emergency_called": od.emergency_called,
        "stayed_with_person": od.stayed_with_person, "outcome": od.outcome}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactEdit {
    pub note: Option<String>,
    pub setting: Option<String>,
}

#[tauri::command]
pub fn update_contact(state: State<'_, Arc<AppState>>, id: String, fields: ContactEdit) -> Result<()> {
    let id = parse_id(&id)?;
    state.with_store(|store| {
        if let Err(locked) = edit_window(store, id)? {
            return Ok(Err(locked));
        }
        let mut edit = Map::new();
        if let Some(note) = fields.note {
            edit.insert("note".into(), if note.trim().is_empty() { Value::Null } else { json!(note.trim()) });
        }
        if let Some(setting) = fields.setting {
            edit.insert("setting".into(), json!(setting));
        }
        store.update(Collection::Contacts, id, edit).map(Ok)
    })?
}

#[tauri::command]
pub fn reverse_line(
    state: State<'_, Arc<AppState>>,
    contact_id: String,
    commodity: String,
    quantity: u32,
) -> Result<()> {
    let contact = parse_id(&contact_id)?;
    state.with_store(|store| {
        if let Err(locked) = edit_window(store, contact)? {
            return Ok(Err(locked));
        }
        let site = store.record_site(Collection::Contacts, contact)?;
        let given = store.contact_lines(contact)?.into_iter().filter(|l| l.commodity == commodity).collect::<Vec<_>>();
        let net: i64 =
            given.iter().map(|l| if l.reverses.is_some() { -(l.quantity as i64) } else { l.quantity as i64 }).sum();
        let original = given.iter().find(|l| l.reverses.is_none()).map(|l| l.id);
        let Some(original) = original.filter(|_| quantity > 0 && i64::from(quantity) <= net) else {
            return Err(outpost_device::StoreError::Invalid(vec![field_error(
                "quantity",
                "out_of_range",
                &format!("at most {net} {commodity} can be reversed in this contact"),
            )]));
        };
        store.create(
            Collection::DistributionLines,
            site,
            fields(json!({"contact_id": contact.to_string(), "commodity": commodity, "quantity": quantity,
                "reverses": original.to_string()})),
        )?;
        Ok(Ok(()))
    })?
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyInput {
    pub setting: String,
    pub event_name: Option<String>,
    pub people: Vec<Value>,
    #[serde(default)]
    pub items: Vec<Value>,
}

#[tauri::command]
pub fn save_group_tally(state: State<'_, Arc<AppState>>, tally: TallyInput) -> Result<()> {
    let people: Vec<Value> =
        tally.people.into_iter().filter(|c| c.get("count").and_then(Value::as_u64).unwrap_or(0) > 0).collect();
    let items: Vec<Value> =
        tally.items.into_iter().filter(|c| c.get("quantity").and_then(Value::as_u64).unwrap_or(0) > 0).collect();
    let mut record =
        fields(json!({"setting": tally.setting, "occurred_at": now_rfc3339(), "people": people, "items": items}));
    if let Some(name) = tally.event_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
        record.insert("event_name".into(), json!(name));
    }
    state.with_store(|store| {
        let site = site_of(store)?;
        store.create(Collection::GroupTallies, site, record).map(|_| ())
    })
}

#[tauri::command]
pub fn save_survey(state: State<'_, Arc<AppState>>, answers: Map<String, Value>) -> Result<()> {
    if answers.len() > 40 {
        return Err(CommandError::invalid("too many answers"));
    }
    let record = fields(
        json!({"survey_id": "cbm_default", "survey_version": 1, "occurred_at": now_rfc3339(), "answers": answers}),
    );
    state.with_store(|store| {
        let site = site_of(store)?;
        store.create(Collection::SurveyResponses, site, record).map(|_| ())
    })
}

#[tauri::command]
pub fn stock_levels(state: State<'_, Arc<AppState>>) -> Result<Vec<StockLevel>> {
    state.with_store(|store| {
        let site = site_of(store)?;
        store.stock_levels(site)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovementInput {
    pub commodity: String,
    pub quantity: i64,
    pub kind: String,
    pub batch: Option<String>,
    pub expiry_date: Option<String>,
    pub grant_code: Option<String>,
}

#[tauri::command]
pub fn record_stock_movement(state: State<'_, Arc<AppState>>, movement: MovementInput) -> Result<()> {
    let mut record = fields(json!({"commodity": movement.commodity, "quantity": movement.quantity,
        "kind": movement.kind, "occurred_at": now_rfc3339()}));
    for (key, value) in
        [("batch", movement.batch), ("expiry_date", movement.expiry_date), ("grant_code", movement.grant_code)]
    {
        if let Some(v) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            record.insert(key.into(), json!(v));
        }
    }
    state.with_store(|store| {
        let site = site_of(store)?;
        store.create(Collection::StockMovements, site, record).map(|_| ())
    })
}

#[derive(Debug, Serialize)]
pub struct SyncSummary {
    pub pushed: u64,
    pub rejected: u64,
    pub pulled: u64,
}

#[tauri::command]
pub async fn sync_now(app: tauri::AppHandle, state: State<'_, Arc<AppState>>) -> Result<SyncSummary> {
    let report = crate::sync::run(&app, Arc::clone(&state)).await?;
    Ok(SyncSummary { pushed: report.pushed, rejected: report.rejected, pulled: report.pulled })
}

/// A change the server refused, as the Sync screen lists it: kept on the tablet for the
/// coordinator, never sent again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RejectedChange {
    pub op_seq: u64,
    pub collection: String,
    pub record_id: RecordId,
    /// `create`, `update` or `delete`.
    pub kind: OpKind,
    /// When the change was made on the tablet (its stamp's wall clock).
    pub at_ms: u64,
    /// The server's code (`record_purged`, `out_of_range`, `site_mismatch`, ...).
    pub code: String,
    /// The server's sentence, cut to [`MESSAGE_CHARS`].
    pub message: String,
    /// What the change set, in a few words: see [`change_summary`].
    pub summary: String,
}

/// At most this many fields are named in a summary; the rest are counted.
const SUMMARY_FIELDS: usize = 8;
/// Texts (a note, an event name) are cut to this many characters: the summary only reminds.
const SUMMARY_TEXT_CHARS: usize = 24;
/// At most this many values of a list of plain values are shown.
const SUMMARY_LIST_VALUES: usize = 4;
/// The fields named in a summary take at most this many characters.
const SUMMARY_CHARS: usize = 240;
/// The server's message is at most this long.
const MESSAGE_CHARS: usize = 300;

/// `text` on one line (runs of white space and control characters become one space), cut to
/// `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    let line = text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>();
    let line = line.join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// One value of a summary: plain values as they are (texts cut, record ids to their first
/// eight characters), a cleared value as `—`, lists of plain values in brackets, and records
/// within the record (lines of a tally, survey answers) only counted, as `(n)`.
fn summary_value(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() == 36 && s.parse::<RecordId>().is_ok() => {
            format!("{}…", s.chars().take(8).collect::<String>())
        }
        Value::String(s) => shorten(s, SUMMARY_TEXT_CHARS),
        Value::Array(list) if list.iter().all(|v| !v.is_array() && !v.is_object()) => {
            let mut shown: Vec<String> = list.iter().take(SUMMARY_LIST_VALUES).map(summary_value).collect();
            if list.len() > SUMMARY_LIST_VALUES {
                shown.push("…".into());
            }
            format!("[{}]", shown.join(", "))
        }
        Value::Array(list) => format!("({})", list.len()),
        Value::Object(map) => format!("({})", map.len()),
    }
}

/// A short summary of the fields a change set, by field name: `commodity: syringe_1ml,
/// quantity: 10`. Never the whole of a long text; at most [`SUMMARY_FIELDS`] fields in about
/// [`SUMMARY_CHARS`] characters, the others counted (`+3`); empty for a deletion.
pub fn change_summary(fields: &Map<String, Value>) -> String {
    let mut names: Vec<&String> = fields.keys().collect();
    names.sort();
    let mut parts: Vec<String> = Vec::new();
    let mut length = 0;
    for (shown, name) in names.iter().enumerate() {
        let part = format!("{}: {}", shorten(name, SUMMARY_TEXT_CHARS), summary_value(&fields[name.as_str()]));
        length += part.chars().count() + 2;
        if shown == SUMMARY_FIELDS || length > SUMMARY_CHARS {
            parts.push(format!("+{}", names.len() - shown));
            break;
        }
        parts.push(part);
    }
    parts.join(", ")
}

/// Every change the server refused, newest first.
pub fn rejected_changes_in(
    store: &DeviceStore,
) -> std::result::Result<Vec<RejectedChange>, outpost_device::StoreError> {
    let mut changes: Vec<RejectedChange> = store
        .rejected_ops()?
        .into_iter()
        .map(|r| RejectedChange {
            op_seq: r.op.op_seq,
            summary: change_summary(&r.op.fields),
            collection: r.op.collection,
            record_id: r.op.record_id,
            kind: r.op.kind,
            at_ms: r.op.stamp.wall_ms,
            code: r.code,
            message: shorten(&r.message, MESSAGE_CHARS),
        })
        .collect();
    changes.sort_by_key(|c| std::cmp::Reverse(c.op_seq));
    Ok(changes)
}

/// The changes the server refused (what, when, why), newest first, so nothing is lost unseen.
#[tauri::command]
pub fn rejected_changes(state: State<'_, Arc<AppState>>) -> Result<Vec<RejectedChange>> {
    state.with_store(|store| rejected_changes_in(store))
}

#[tauri::command]
pub fn set_language(state: State<'_, Arc<AppState>>, language: String) -> Result<()> {
    if !["en", "ru", "uk"].contains(&language.as_str()) {
        return Err(CommandError::invalid("languages: en, ru, uk"));
    }
    let mut inner = state.guard();
    let mut lock_file = inner.lock.clone();
    lock_file.language = language;
    state.save_lock(&lock_file)?;
    inner.lock = lock_file;
    Ok(())
}

/// Sets how many wrong PINs in a row wipe the local data (3 to 20). Only while unlocked: a
/// locked tablet must not raise its own limit.
#[tauri::command]
pub fn set_wipe_after(state: State<'_, Arc<AppState>>, attempts: u32) -> Result<()> {
    let attempts = lock::check_max_attempts(attempts).map_err(CommandError::invalid)?;
    let mut inner = state.guard();
    if inner.store.is_none() {
        return Err(CommandError::locked());
    }
    let mut lock_file = inner.lock.clone();
    lock_file.max_attempts = attempts;
    state.save_lock(&lock_file)?;
    inner.lock = lock_file;
    Ok(())
}

#[tauri::command]
pub fn set_idle_lock(state: State<'_, Arc<AppState>>, minutes: u32) -> Result<()> {
    if !(1..=60).contains(&minutes) {
        return Err(CommandError::invalid("the idle lock is 1 to 60 minutes"));
    }
    let mut inner = state.guard();
    let mut lock_file = inner.lock.clone();
    lock_file.idle_lock_minutes = minutes;
    state.save_lock(&lock_file)?;
    inner.lock = lock_file;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::wire::SiteRef;
    use outpost_core::{DeviceId, OrgId};

    #[test]
    fn a_summary_names_the_fields_with_their_small_values() {
        let summary = change_summary(&fields(json!({
            "quantity": 10, "commodity": "syringe_1ml", "linked_to_care": false, "birth_year": null,
        })));
        assert_eq!(summary, "birth_year: —, commodity: syringe_1ml, linked_to_care: false, quantity: 10");
        assert_eq!(change_summary(&Map::new()), "", "a deletion sets nothing");
        assert_eq!(change_summary(&fields(json!({"uic": "MAIV287"}))), "uic: MAIV287", "client codes are shown");
    }

    #[test]
    fn a_summary_never_dumps_long_text_or_structures() {
        let note = "Met at the station.\nSaid the new supply is very strong; gave naloxone and explained twice.";
        let summary = change_summary(&fields(json!({
            "note": note,
            "contact_id": "01936a1e-6f0b-7c3a-9d4e-0123456789ab",
            "services": ["kit", "counselling", "information", "testing", "referral"],
            "key_groups": ["sex_work"],
            "items": [{"commodity": "foil", "quantity": 5}, {"commodity": "condom_external", "quantity": 2}],
            "answers": {"q1": "yes", "q2": 3},
        })));
        assert_eq!(
            summary,
            "answers: (2), contact_id: 01936a1e…, items: (2), key_groups: [sex_work], \
             note: Met at the station. Sai…, services: [kit, counselling, information, testing, …]"
        );
        assert!(!summary.contains("naloxone") && !summary.contains('\n'));
    }

    #[test]
    fn a_summary_is_short_however_many_fields_were_set() {
        let many: Map<String, Value> = (0..30).map(|i| (format!("field_{i:02}"), json!("x".repeat(200)))).collect();
        let summary = change_summary(&many);
        assert!(summary.chars().count() <= SUMMARY_CHARS + ", +99".len(), "{summary}");
        assert!(summary.starts_with("field_00: xxxxxxxxxxxxxxxxxxxxxxx…, field_01: "), "{summary}");
        assert!(summary.ends_with("field_05: xxxxxxxxxxxxxxxxxxxxxxx…, +24"), "the rest is counted: {summary}");
        let short: Map<String, Value> = (0..12).map(|i| (format!("f{i:02}"), json!(i))).collect();
        assert_eq!(change_summary(&short), "f00: 0, f01: 1, f02: 2, f03: 3, f04: 4, f05: 5, f06: 6, f07: 7, +4");
        assert_eq!(shorten("  a\tb\u{7}  c ", 10), "a b c");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn the_code_builder_asks_the_questions_of_the_organisations_scheme() {
        let asked = |scheme: &UicScheme| {
            uic_questions(scheme).into_iter().map(|q| format!("{}:{}", q.question, q.kind)).collect::<Vec<_>>()
        };
        assert_eq!(
            asked(&UicScheme::central_asia()),
            ["mother_first_name:letters", "father_first_name:letters", "sex:sex", "birth_year:birth_year"]
        );
        assert_eq!(
            asked(&UicScheme::surname_day_year()),
            ["surname:letters", "sex:sex", "birth_day:birth_day", "birth_year:birth_year"]
        );
        assert_eq!(
            asked(&UicScheme::gender_letters_year()),
            ["sex:sex", "mother_first_name:letters", "birth_place:letters", "birth_year:birth_year"]
        );
    }

    fn enrolled_store() -> (DeviceStore, SiteId) {
        let mut store = DeviceStore::open_in_memory().expect("store");
        let site: SiteId = "01936a1e-0000-7000-8000-000000000001".parse().expect("site id");
        let device: DeviceId = "01936a1e-0000-7000-8000-000000000002".parse().expect("device id");
        store
            .save_enrollment(
                "http://server",
                &outpost_core::wire::EnrollResponse {
                    device_id: device,
                    token: "t".into(),
                    org_id: OrgId::nil(),
                    org_name: "Org".into(),
                    sites: vec![SiteRef { id: site, name: "Site".into() }],
                    uic_scheme: UicScheme::central_asia(),
                    server_time_ms: 0,
                },
            )
            .expect("enrol");
        (store, site)
    }

    #[test]
    fn corrections_are_allowed_for_72_hours_and_only_on_live_contacts() {
        let (mut store, site) = enrolled_store();
        let contact = store
            .create(
                Collection::Contacts,
                site,
                fields(json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"})),
            )
            .expect("contact");
        assert!(matches!(edit_window(&store, contact), Ok(Ok(()))));
        store.set_clock_offset_ms(CONTACT_EDIT_WINDOW_MS as i64 - 60_000);
        assert!(matches!(edit_window(&store, contact), Ok(Ok(()))), "still open a minute before the end");
        store.set_clock_offset_ms(CONTACT_EDIT_WINDOW_MS as i64 + 60_000);
        let locked = edit_window(&store, contact).expect("read");
        assert!(
            matches!(&locked, Err(e) if e.code == "locked"
                && e.message == "this contact is locked: it was recorded more than 72 hours ago"),
            "{locked:?}"
        );
        store.set_clock_offset_ms(0);
        store.delete(Collection::Contacts, contact).expect("delete");
        assert!(matches!(edit_window(&store, contact), Err(outpost_device::StoreError::NotFound { .. })));
        let unknown = RecordId::from_parts(1, [7; 10]);
        assert!(matches!(edit_window(&store, unknown), Err(outpost_device::StoreError::NotFound { .. })));
    }

    #[test]
    fn refused_changes_are_listed_newest_first_with_their_reason() {
        let (mut store, site) = enrolled_store();
        let contact = store
            .create(
                Collection::Contacts,
                site,
                fields(json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z", "note": "x".repeat(500)})),
            )
            .expect("contact");
        store
            .create(
                Collection::DistributionLines,
                site,
                fields(json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 10})),
            )
            .expect("line");
        store
            .create(
                Collection::Contacts,
                site,
                fields(json!({"setting": "window", "occurred_at": "2026-11-25T11:00:00Z"})),
            )
            .expect("kept");
        let ops = store.pending_ops(10).expect("outbox");
        assert_eq!(ops.len(), 3);
        store.quarantine(ops[0].op_seq, "record_purged", "the record was deleted and cleaned up").expect("set aside");
        store
            .quarantine(ops[1].op_seq, "out_of_range", &format!("quantity: {}", "too many ".repeat(100)))
            .expect("set aside");

        let changes = rejected_changes_in(&store).expect("list");
        assert_eq!(changes.len(), 2, "only the refused ones");
        assert_eq!(
            changes.iter().map(|c| c.op_seq).collect::<Vec<_>>(),
            [ops[1].op_seq, ops[0].op_seq],
            "newest first"
        );
        let (line, visit) = (&changes[0], &changes[1]);
        assert_eq!(
            (line.collection.as_str(), line.kind, line.code.as_str()),
            ("distribution_lines", OpKind::Create, "out_of_range")
        );
        assert_eq!(line.at_ms, ops[1].stamp.wall_ms);
        assert!(
            line.summary.contains("commodity: syringe_1ml") && line.summary.contains("quantity: 10"),
            "{}",
            line.summary
        );
        assert!(line.message.chars().count() <= MESSAGE_CHARS);
        assert_eq!((visit.record_id, visit.code.as_str()), (contact, "record_purged"));
        assert!(visit.summary.contains("note: xxx") && visit.summary.chars().count() < 120, "{}", visit.summary);

        let json = serde_json::to_value(line).expect("json");
        assert_eq!(json["kind"], "create");
        assert_eq!(json["record_id"], ops[1].record_id.to_string());
        let mut keys = json.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        keys.sort();
        assert_eq!(keys, ["at_ms", "code", "collection", "kind", "message", "op_seq", "record_id", "summary"]);
    }
}
