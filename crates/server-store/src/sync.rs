//! What devices do: enrol with a one-time code, authenticate with their token, push batches and
//! pull pages. Every write of records goes through [`write_records`] with sequence numbers from
//! [`take_seqs`], so a pull never skips a change that commits late.

use crate::backend::{Tx, TxMode};
use crate::error::DbError;
use crate::plan::{Key, PushPlan, Stored, plan_push};
use crate::sql::{RowExt, Sql, Statement, json};
use crate::{Store, params};
use outpost_core::merge::RecordState;
use outpost_core::uic::UicScheme;
use outpost_core::wire::{Op, SiteRef};
use outpost_core::{Collection, DeviceId, OrgId, RecordId, SiteId};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A device, as known after its token was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuth {
    pub device_id: DeviceId,
    pub org_id: OrgId,
    pub sites: Vec<SiteId>,
    /// The organisation's client code scheme, to validate codes in pushed records.
    pub uic_scheme: UicScheme,
    /// The organisation's name and default language, sent with every pulled page.
    pub org_name: String,
    pub default_language: String,
    /// Whether the organisation's client index is on: pulls carry other sites' clients too.
    pub client_index: bool,
}

impl DeviceAuth {
    /// What the device is told of its organisation with each pulled page.
    pub fn org_info(&self) -> outpost_core::wire::OrgInfo {
        outpost_core::wire::OrgInfo {
            name: self.org_name.clone(),
            default_language: self.default_language.clone(),
            uic_scheme: self.uic_scheme.clone(),
            client_index: self.client_index,
        }
    }
}

/// The result of looking a token up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(DeviceAuth),
    Unknown,
    Expired,
    Revoked,
}

/// What enrolment hands back.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub device_id: DeviceId,
    pub org_id: OrgId,
    pub org_name: String,
    pub sites: Vec<SiteRef>,
    pub uic_scheme: UicScheme,
}

/// A device about to be enrolled.
#[derive(Clone, Debug)]
pub struct NewDevice {
    pub name: String,
    pub app_version: String,
    pub token_hash: String,
    pub token_expires_ms: u64,
}

/// A record of a pull page, its state kept as the stored JSON text so the server can send it
/// without decoding and re-encoding it.
#[derive(Clone, Debug)]
pub struct RawRecord {
    pub seq: u64,
    pub collection: String,
    pub record_id: RecordId,
    pub site_id: Option<SiteId>,
    /// A `RecordState` as JSON.
    pub state_json: String,
}

/// A page of changes.
#[derive(Clone, Debug)]
pub struct Page {
    pub records: Vec<RawRecord>,
    /// Zero when no more records follow; otherwise an upper bound of how many do.
    pub remaining: u64,
    /// The cursor for the next pull: the last record's sequence number, or on the last page
    /// at least the newest cleaned-up deletion (so a device whose sites saw no change since
    /// is not sent into a resync for deletions it never had to see).
    pub next_cursor: u64,
    /// The device's replay mark (see `PullResponse::applied_through`).
    pub applied_through: u64,
}

/// What a pull finds.
#[derive(Clone, Debug)]
pub enum Pulled {
    Page(Page),
    /// Deletions the device has not seen were cleaned up: it must pull everything from 0.
    ResyncRequired,
}

/// Takes `count` sequence numbers and returns the first. On PostgreSQL the counter's row stays
/// locked until commit, so numbers become visible in the order they were handed out.
pub(crate) async fn take_seqs(tx: &mut Tx, count: usize) -> Result<u64, DbError> {
    let rows = tx
        .query(Statement::query(
            "UPDATE counters SET value = value + ? WHERE name = 'seq' RETURNING value",
            params![count],
        ))
        .await?;
    let last: u64 = rows.first().ok_or_else(|| DbError::Corrupt("the sequence counter is missing".into()))?.col(0)?;
    Ok(last + 1 - count as u64)
}

/// A record to write with its sequence number.
pub(crate) struct RecordWrite<'a> {
    pub collection: &'a str,
    pub id: RecordId,
    pub site_id: Option<SiteId>,
    pub state: &'a RecordState,
    pub seq: u64,
}

/// Rows per multi-row insert (each row binds nine values, well below both backends' limits).
const ROWS_PER_INSERT: usize = 500;

/// Inserts or replaces records, a few hundred per statement.
pub(crate) fn write_records(org: OrgId, writes: &[RecordWrite<'_>], now_ms: u64) -> Result<Vec<Statement>, DbError> {
    let mut out = Vec::new();
    for chunk in writes.chunks(ROWS_PER_INSERT) {
        let mut params = Vec::with_capacity(chunk.len() * 9);
        for w in chunk {
            params.extend(params![
                w.collection,
                w.id,
                org,
                w.site_id,
                json(w.state)?,
                w.state.deleted.is_some(),
                w.seq,
                now_ms,
                now_ms
            ]);
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        out.push(Statement::exec(
            format!(
                "INSERT INTO records (collection, id, org_id, site_id, state, deleted, seq, created_ms, updated_ms)
                 VALUES {rows}
                 ON CONFLICT (collection, id) DO UPDATE SET
                   state = excluded.state, deleted = excluded.deleted, seq = excluded.seq, updated_ms = excluded.updated_ms"
            ),
            params,
        ));
    }
    Ok(out)
}

/// `keys` as one JSON parameter of `q`, as a table `(c, i)` named `k` (see
/// [`crate::sql::Dialect::keys_table`]).
fn keys_param(q: &mut Sql, d: crate::sql::Dialect, keys: &[Key]) -> Result<String, DbError> {
    let pairs: Vec<(&str, RecordId)> = keys.iter().map(|(c, id)| (c.name(), *id)).collect();
    Ok(format!("{} k", d.keys_table(&q.bind(json(&pairs)?))))
}

/// The stored records among `keys`, locked until commit (in a fixed order, so two pushes
/// never wait on each other in a circle).
pub(crate) async fn load_records(tx: &mut Tx, keys: &[Key]) -> Result<HashMap<Key, Stored>, DbError> {
    let d = tx.dialect();
    let mut q = Sql::new();
    let k = keys_param(&mut q, d, keys)?;
    // The keys first (CROSS JOIN keeps SQLite from scanning records), each found by primary key.
    let rows = tx
        .query(q.query(&format!(
            "SELECT r.collection, r.id, r.org_id, r.site_id, r.state FROM {k} CROSS JOIN records r
             WHERE r.collection = k.c AND r.id = k.i ORDER BY r.collection, r.id{}",
            d.for_update_of("r")
        )))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let collection: String = row.col(0)?;
        let collection = Collection::from_name(&collection)
            .ok_or_else(|| DbError::Corrupt(format!("unknown stored collection {collection:?}")))?;
        out.insert((collection, row.col(1)?), Stored { org_id: row.col(2)?, site_id: row.col(3)?, state: row.col(4)? });
    }
    Ok(out)
}

/// The keys among `keys` whose tombstones were cleaned up.
pub(crate) async fn purged_among(tx: &mut Tx, org: OrgId, keys: &[Key]) -> Result<HashSet<Key>, DbError> {
    let d = tx.dialect();
    let mut q = Sql::new();
    let k = keys_param(&mut q, d, keys)?;
    let org = q.bind(org);
    let rows = tx
        .query(q.query(&format!(
            "SELECT p.collection, p.id FROM {k} CROSS JOIN purged_records p
             WHERE p.collection = k.c AND p.id = k.i AND p.org_id = {org}"
        )))
        .await?;
    let mut out = HashSet::new();
    for row in rows {
        if let Some(collection) = Collection::from_name(&row.col::<String>(0)?) {
            out.insert((collection, row.col(1)?));
        }
    }
    Ok(out)
}

/// The statements that store a plan's changed records (numbered from `first_seq`) and its
/// conflicts.
pub(crate) fn plan_statements(
    org: OrgId,
    plan: &PushPlan,
    first_seq: u64,
    now_ms: u64,
) -> Result<Vec<Statement>, DbError> {
    let writes: Vec<RecordWrite<'_>> = plan
        .writes
        .iter()
        .zip(first_seq..)
        .map(|(w, seq)| RecordWrite {
            collection: w.collection.name(),
            id: w.id,
            site_id: Some(w.site_id),
            state: &w.state,
            seq,
        })
        .collect();
    let mut out = write_records(org, &writes, now_ms)?;
    for chunk in plan.conflicts.chunks(ROWS_PER_INSERT) {
        let mut params = Vec::with_capacity(chunk.len() * 8);
        for c in chunk {
            params.extend(params![
                c.collection.name(),
                c.record_id,
                org,
                c.site_id,
                c.entry.field.as_str(),
                json(&c.entry.winner)?,
                json(&c.entry.loser)?,
                now_ms
            ]);
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        out.push(Statement::exec(
            format!(
                "INSERT INTO conflicts (collection, record_id, org_id, site_id, field, winner, loser, detected_ms) VALUES {rows}"
            ),
            params,
        ));
    }
    Ok(out)
}

/// The highest `op_seq` committed for `device` (at or below it an operation is a replay), its row
/// locked until commit so the device's pushes take turns.
pub(crate) async fn replay_mark(tx: &mut Tx, device: DeviceId) -> Result<u64, DbError> {
    let d = tx.dialect();
    let rows = tx
        .query(Statement::query(
            format!("SELECT max_op_seq FROM devices WHERE id = ?{}", d.for_update()),
            params![device],
        ))
        .await?;
    rows.first().map(|r| r.col(0)).transpose()?.ok_or_else(|| DbError::NotFound(format!("no device {device}")))
}

/// Plans `ops` of `device` against the stored records and stores the result: the body of a
/// push, and of a conflict revert (a change by the server's own device).
pub(crate) async fn push_in(tx: &mut Tx, device: &DeviceAuth, ops: &[Op], now_ms: u64) -> Result<Vec<u64>, DbError> {
    let applied = replay_mark(tx, device.device_id).await?;
    let mut keys: Vec<Key> =
        ops.iter().filter_map(|op| Collection::from_name(&op.collection).map(|c| (c, op.record_id))).collect();
    keys.sort();
    keys.dedup();
    let (stored, purged) = if keys.is_empty() {
        (HashMap::new(), HashSet::new())
    } else {
        (load_records(tx, &keys).await?, purged_among(tx, device.org_id, &keys).await?)
    };
    let plan = plan_push(device.org_id, applied, ops, &stored, &purged).map_err(DbError::Batch)?;
    let first_seq = if plan.writes.is_empty() { 0 } else { take_seqs(tx, plan.writes.len()).await? };
    let mut writes = plan_statements(device.org_id, &plan, first_seq, now_ms)?;
    if let Some(max) = plan.max_op_seq {
        writes.push(Statement::exec(
            "UPDATE devices SET max_op_seq = ? WHERE id = ? AND max_op_seq < ?",
            params![max, device.device_id, max],
        ));
    }
    tx.run(writes).await?;
    Ok(plan.acked)
}

/// An enrolment code not used yet, as the administration pages list it (the code itself is
/// never stored, only its hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenCode {
    /// The first 16 hex digits of the code's hash: names the code without revealing it.
    pub id: String,
    pub site: SiteRef,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// The worker the tablet will be tied to.
    pub worker: Option<String>,
}

/// The id of a code by its stored hash.
pub fn code_id(hash: &str) -> String {
    hash.chars().take(16).collect()
}

impl Store {
    /// Stores a one-time enrolment code (hashed) for a site that is not retired, optionally
    /// for the worker (a user id) the tablet will be tied to.
    pub async fn create_enrollment_code(
        &self,
        site: SiteId,
        code_hash: &str,
        expires_ms: u64,
        now_ms: u64,
        user_id: Option<uuid::Uuid>,
    ) -> Result<SiteRef, DbError> {
        let code_hash = code_hash.to_string();
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(Statement::query(
                        "SELECT s.org_id, s.name, r.state FROM sites s
                         LEFT JOIN records r ON r.collection = 'sites' AND r.id = s.id WHERE s.id = ?",
                        params![site],
                    ))
                    .await?;
                let Some(row) = rows.first() else {
                    return Err(DbError::NotFound(format!("no site {site}")));
                };
                let (org, name, state): (OrgId, String, Option<RecordState>) = (row.col(0)?, row.col(1)?, row.col(2)?);
                if state.is_some_and(|s| s.values().get("retired") == Some(&serde_json::Value::Bool(true))) {
                    return Err(DbError::Conflict(format!("the site {name:?} is retired: it takes no new tablets")));
                }
                tx.exec(Statement::exec(
                    "INSERT INTO enrollment_codes (code_hash, org_id, site_id, created_ms, expires_ms, user_id)
                     VALUES (?, ?, ?, ?, ?, ?)",
                    params![code_hash.as_str(), org, site, now_ms, expires_ms, user_id],
                ))
                .await?;
                Ok(SiteRef { id: site, name })
            })
        })
        .await
    }

    /// The codes not used yet and not expired at `now_ms`, newest first.
    pub async fn open_enrollment_codes(&self, now_ms: u64) -> Result<Vec<OpenCode>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT c.code_hash, s.id, s.name, c.created_ms, c.expires_ms, u.username
                 FROM enrollment_codes c JOIN sites s ON s.id = c.site_id LEFT JOIN users u ON u.id = c.user_id
                 WHERE c.used_ms IS NULL AND c.expires_ms > ? ORDER BY c.created_ms DESC, c.code_hash",
                params![now_ms],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                let hash: String = r.col(0)?;
                Ok(OpenCode {
                    id: code_id(&hash),
                    site: SiteRef { id: r.col(1)?, name: r.col(2)? },
                    created_ms: r.col(3)?,
                    expires_ms: r.col(4)?,
                    worker: r.col(5)?,
                })
            })
            .collect()
    }

    /// Cancels an open code by its id (`OpenCode::id`): it expires now. Returns the code as it
    /// was; `NotFound` when no open code has that id.
    pub async fn cancel_enrollment_code(&self, id: &str, now_ms: u64) -> Result<OpenCode, DbError> {
        let open = self.open_enrollment_codes(now_ms).await?;
        let code = open.into_iter().find(|c| c.id == id).ok_or_else(|| {
            DbError::NotFound(format!("no open enrolment code {id:?} (used, expired or cancelled already)"))
        })?;
        let pattern = format!("{id}%");
        self.execute(vec![Statement::exec(
            "UPDATE enrollment_codes SET expires_ms = ? WHERE code_hash LIKE ? AND used_ms IS NULL",
            params![now_ms, pattern.as_str()],
        )])
        .await?;
        Ok(code)
    }

    /// Consumes a code and registers the device, atomically: a code works once.
    pub async fn enroll(&self, code_hash: &str, device: NewDevice, now_ms: u64) -> Result<Enrolled, DbError> {
        let code_hash = code_hash.to_string();
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let device_id = DeviceId(uuid::Uuid::now_v7());
                // Consuming the code is the first write: a second enrolment with it finds it used.
                let code = tx
                    .query(Statement::query(
                        "UPDATE enrollment_codes SET used_ms = ?, device_id = ?
                         WHERE code_hash = ? AND used_ms IS NULL AND expires_ms > ?
                         RETURNING org_id, site_id, user_id",
                        params![now_ms, device_id, code_hash.as_str(), now_ms],
                    ))
                    .await?;
                let Some(code) = code.first() else { return Err(DbError::CodeInvalid) };
                let (org, site): (OrgId, SiteId) = (code.col(0)?, code.col(1)?);
                let user: Option<uuid::Uuid> = code.col(2)?;
                let out = tx
                    .run(vec![
                        // A code issued for a worker ties the device to them: removing the worker
                        // from a site later removes the site from their devices.
                        Statement::exec(
                            "INSERT INTO devices (id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms,
                                                  token_expires_ms, user_id)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            params![
                                device_id,
                                org,
                                device.name.as_str(),
                                device.app_version.as_str(),
                                device.token_hash.as_str(),
                                now_ms,
                                now_ms,
                                device.token_expires_ms,
                                user
                            ],
                        ),
                        Statement::exec(
                            "INSERT INTO device_sites (device_id, site_id) VALUES (?, ?)",
                            params![device_id, site],
                        ),
                        Statement::query("SELECT name, uic_scheme FROM orgs WHERE id = ?", params![org]),
                        Statement::query("SELECT name FROM sites WHERE id = ?", params![site]),
                    ])
                    .await?;
                let org_row =
                    out[2].rows.first().ok_or_else(|| DbError::Corrupt("the code's organisation is gone".into()))?;
                let site_name: String =
                    out[3].rows.first().ok_or_else(|| DbError::Corrupt("the code's site is gone".into()))?.col(0)?;
                Ok(Enrolled {
                    device_id,
                    org_id: org,
                    org_name: org_row.col(0)?,
                    sites: vec![SiteRef { id: site, name: site_name }],
                    uic_scheme: serde_json::from_str(&org_row.col::<String>(1)?)?,
                })
            })
        })
        .await
    }

    /// Looks a device token (hashed) up and, when valid, extends its expiry (at most once a
    /// minute, to spare the disk).
    ///
    /// `unsent`: the changes the device says it holds unsent (its pulls report them), stored when
    /// they differ from what it said last.
    pub async fn authenticate(
        &self,
        token_hash: &str,
        now_ms: u64,
        ttl_ms: u64,
        unsent: Option<u64>,
    ) -> Result<TokenCheck, DbError> {
        let out = self
            .backend
            .run_once(
                TxMode::Autocommit,
                vec![
                    Statement::query(
                        "SELECT d.id, d.org_id, d.last_seen_ms, d.token_expires_ms, d.revoked_ms, o.uic_scheme,
                            o.name, o.default_language, d.unsent_ops, o.client_index
                     FROM devices d JOIN orgs o ON o.id = d.org_id WHERE d.token_hash = ?",
                        params![token_hash],
                    ),
                    Statement::query(
                        "SELECT ds.site_id FROM device_sites ds JOIN devices d ON d.id = ds.device_id
                     WHERE d.token_hash = ? ORDER BY ds.site_id",
                        params![token_hash],
                    ),
                ],
            )
            .await?;
        let Some(row) = out[0].rows.first() else { return Ok(TokenCheck::Unknown) };
        let (id, org, last_seen, expires): (DeviceId, OrgId, u64, u64) =
            (row.col(0)?, row.col(1)?, row.col(2)?, row.col(3)?);
        if !row[4].is_null() {
            return Ok(TokenCheck::Revoked);
        }
        if expires <= now_ms {
            return Ok(TokenCheck::Expired);
        }
        let mut updates = Vec::new();
        if now_ms.saturating_sub(last_seen) > 60_000 {
            updates.push(Statement::exec(
                "UPDATE devices SET last_seen_ms = ?, token_expires_ms = ? WHERE id = ?",
                params![now_ms, now_ms.saturating_add(ttl_ms), id],
            ));
        }
        let known: i64 = row.col(8)?;
        if let Some(unsent) = unsent.and_then(|n| i64::try_from(n).ok()).filter(|n| *n != known) {
            updates.push(Statement::exec("UPDATE devices SET unsent_ops = ? WHERE id = ?", params![unsent, id]));
        }
        if !updates.is_empty() {
            self.execute(updates).await?;
        }
        let sites = out[1].rows.iter().map(|r| r.col(0)).collect::<Result<Vec<SiteId>, _>>()?;
        Ok(TokenCheck::Valid(DeviceAuth {
            device_id: id,
            org_id: org,
            sites,
            uic_scheme: serde_json::from_str(&row.col::<String>(5)?)?,
            org_name: row.col(6)?,
            default_language: row.col(7)?,
            client_index: row.col(9)?,
        }))
    }

    /// Merges a batch in one transaction. Operations already applied for this device are
    /// skipped; returns the acknowledged `op_seq`s. If any operation cannot be merged, nothing
    /// is applied and `DbError::Batch` names every refused one.
    pub async fn push(&self, device: &DeviceAuth, ops: Vec<Op>, now_ms: u64) -> Result<Vec<u64>, DbError> {
        let device = device.clone();
        self.transaction(TxMode::Write, move |tx| Box::pin(async move { push_in(tx, &device, &ops, now_ms).await }))
            .await
    }

    /// Records whose latest change has a sequence number above `after`, in order, limited to the
    /// device's sites and organisation-wide reference data; or, when deletions the device may
    /// not have seen were cleaned up since `after`, the news that it must resync.
    ///
    /// A device in the middle of a full resync says so (`resync`): it drops whatever the resync
    /// did not bring, so cleaned-up deletions beyond its cursor are no reason to start again
    /// (without this, a resync could never pass a page below the newest clean-up).
    ///
    /// With the organisation's client index on, the page also carries other sites' clients,
    /// reduced to the index's fields by core's [`outpost_core::people::index_state`], and those
    /// sites' reference records.
    pub async fn pull(&self, device: &DeviceAuth, after: u64, limit: u32, resync: bool) -> Result<Pulled, DbError> {
        let mut q = Sql::new();
        // The index: other sites' clients, and their sites' records (names, to say where a
        // client was registered).
        let index = if device.client_index { " OR collection IN ('clients', 'sites')" } else { "" };
        let page = format!(
            "SELECT seq, collection, id, site_id, state, (SELECT value FROM counters WHERE name = 'seq') FROM records
             WHERE org_id = {org} AND seq > {after} AND (site_id IS NULL OR site_id IN {sites}{index})
             ORDER BY seq LIMIT {limit}",
            org = q.bind(device.org_id),
            after = q.bind(after),
            sites = q.list(device.sites.iter().copied()),
            // One row more than asked tells whether more follow.
            limit = q.bind(u64::from(limit) + 1),
        );
        let out = self
            .backend
            .run_once(
                TxMode::Autocommit,
                vec![
                    // The newest purged deletion: a cursor below it may have missed one.
                    Statement::query("SELECT max(seq) FROM purged_records WHERE org_id = ?", params![device.org_id]),
                    Statement::query("SELECT value FROM counters WHERE name = 'seq'", vec![]),
                    Statement::query("SELECT max_op_seq FROM devices WHERE id = ?", params![device.device_id]),
                    q.query(&page),
                ],
            )
            .await?;
        let horizon: Option<u64> = out[0].rows.first().map(|r| r.col(0)).transpose()?.flatten();
        let horizon = horizon.unwrap_or(0);
        let counter: Option<u64> = out[1].rows.first().map(|r| r.col(0)).transpose()?;
        if !resync && after > 0 && after < horizon {
            return Ok(Pulled::ResyncRequired);
        }
        // A cursor beyond every sequence number given out: the database was restored from a
        // backup older than this device's last pull, and the numbers given out since will be
        // given again to other records. Only a pull from 0 is sure to bring them.
        if after > counter.unwrap_or(0) {
            return Ok(Pulled::ResyncRequired);
        }
        let applied_through: u64 = out[2].rows.first().map(|r| r.col(0)).transpose()?.unwrap_or(0);
        let rows = &out[3].rows;
        let has_more = rows.len() > limit as usize;
        let mut records = Vec::with_capacity(rows.len().min(limit as usize));
        let mut newest = 0u64;
        for row in rows.iter().take(limit as usize) {
            newest = row.col(5)?;
            let (collection, site_id): (String, Option<SiteId>) = (row.col(1)?, row.col(3)?);
            let mut state_json: String = row.col(4)?;
            if collection == "clients" && site_id.is_some_and(|s| !device.sites.contains(&s)) {
                // Another site's client, through the index: the index's fields only.
                let state: outpost_core::RecordState = serde_json::from_str(&state_json)?;
                state_json = serde_json::to_string(&outpost_core::people::index_state(&state))?;
            }
            records.push(RawRecord { seq: row.col(0)?, collection, record_id: row.col(2)?, site_id, state_json });
        }
        // The remainder is estimated from the sequence counter (an upper bound: it also counts
        // other sites' changes), since counting exactly on every page would make a long pull
        // quadratic.
        let last = records.last().map_or(after, |r| r.seq);
        let remaining = if has_more { newest.saturating_sub(last).max(1) } else { 0 };
        // On the last page every record up to the horizon the device may see has been sent
        // (sequence numbers are taken in commit order), so the cursor may move past it.
        let next_cursor = if has_more { last } else { last.max(horizon) };
        Ok(Pulled::Page(Page { records, remaining, next_cursor, applied_through }))
    }

    /// Notes that a device's clock ran ahead and its stamps were clamped.
    pub async fn flag_clock_skew(&self, device: DeviceId, skew_ms: i64) -> Result<(), DbError> {
        self.execute(vec![Statement::exec(
            "UPDATE devices SET clock_skew_ms = ?, clamped_count = clamped_count + 1 WHERE id = ?",
            params![skew_ms, device],
        )])
        .await?;
        Ok(())
    }
}
