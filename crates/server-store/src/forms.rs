//! Published forms: one `forms` reference record per version of a form, written by the server's
//! device like the catalogue, so every tablet of the organisation receives it at its next pull.
//! A version is never changed; publishing again makes the next version.

use crate::backend::TxMode;
use crate::error::DbError;
use crate::records::{SERVER_DEVICE, ServerRecord, only_org, reference_state, server_record_statements};
use crate::reference::change_reference_in;
use crate::sql::{RowExt, Statement};
use crate::sync::take_seqs;
use crate::{Store, params};
use outpost_core::forms::Form;
use outpost_core::merge::RecordState;
use outpost_core::records::{FormStatus, PublishedForm};
use outpost_core::{Collection, Hlc, OrgId, RecordId};

/// Serialises publications (PostgreSQL advisory lock key; SQLite's writes are serialised already).
const PUBLISH_LOCK: i64 = 0x0f0f_0001;

/// The typed form of a `forms` record's state.
fn published(state: &RecordState) -> Result<PublishedForm, DbError> {
    Ok(serde_json::from_value(serde_json::Value::Object(state.values()))?)
}

impl Store {
    /// The organisation this server holds (forms, like sites, need exactly one).
    pub async fn the_org(&self) -> Result<OrgId, DbError> {
        self.transaction(TxMode::Autocommit, |tx| Box::pin(async move { only_org(tx, "forms").await })).await
    }

    /// Every version of every form of `org` that is not deleted, by form id and version.
    pub async fn forms(&self, org: OrgId) -> Result<Vec<(RecordId, PublishedForm)>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT id, state FROM records WHERE collection = ? AND org_id = ? AND deleted = ?",
                params![Collection::Forms.name(), org, false],
            ))
            .await?;
        let mut out = rows
            .iter()
            .map(|r| Ok((r.col::<RecordId>(0)?, published(&r.col::<RecordState>(1)?)?)))
            .collect::<Result<Vec<_>, DbError>>()?;
        out.sort_by(|a, b| (a.1.form_id.as_str(), a.1.version).cmp(&(b.1.form_id.as_str(), b.1.version)));
        Ok(out)
    }

    /// Every version of every form of `org` (not deleted) as (record id, form id, version), read
    /// from the records' fields without decoding their definitions (the push path's cheap list).
    pub async fn form_versions(&self, org: OrgId) -> Result<Vec<(RecordId, String, u32)>, DbError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT r.id, {form}, {version} FROM records r WHERE r.collection = ? AND r.org_id = ? AND r.deleted = ?",
            form = d.field("r", "form_id"),
            version = d.field_int("r", "version"),
        );
        let rows = self.query(Statement::query(&sql, params![Collection::Forms.name(), org, false])).await?;
        rows.iter()
            .map(|r| {
                let version: i64 = r.col(2)?;
                let version =
                    u32::try_from(version).map_err(|_| DbError::Corrupt(format!("form version {version}")))?;
                Ok((r.col::<RecordId>(0)?, r.col::<String>(1)?, version))
            })
            .collect()
    }

    /// One published form version by its record id.
    pub async fn published_form(&self, id: RecordId) -> Result<Option<PublishedForm>, DbError> {
        self.record(Collection::Forms.name(), id).await?.map(|state| published(&state)).transpose()
    }

    /// Publishes `form` as the next version of its id in the organisation (the only one on this
    /// server), in one transaction; returns the version. With `only_if_new`, publishes nothing
    /// (`Ok(None)`) when the organisation has any version of that id, published or retired: how
    /// the shipped default forms are offered once without coming back after a coordinator
    /// retired them.
    pub async fn publish_form(
        &self,
        form: Form,
        now_ms: u64,
        published_at: String,
        only_if_new: bool,
    ) -> Result<Option<u32>, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                if let Some(lock) = tx.dialect().advisory_lock(PUBLISH_LOCK) {
                    tx.run(vec![lock]).await?;
                }
                let org = only_org(tx, "forms").await?;
                let d = tx.dialect();
                let sql = format!(
                    "SELECT COALESCE(MAX({version}), 0) FROM records r WHERE r.collection = ? AND r.org_id = ? AND {form} = ?",
                    form = d.field("r", "form_id"),
                    version = d.field_int("r", "version"),
                );
                let rows = tx
                    .query(Statement::query(&sql, params![Collection::Forms.name(), org, form.id.as_str()]))
                    .await?;
                let latest: i64 = rows.first().map_or(Ok(0), |r| r.col(0))?;
                if only_if_new && latest > 0 {
                    return Ok(None);
                }
                let version = u32::try_from(latest + 1)
                    .map_err(|_| DbError::Corrupt(format!("form {} has version {latest}", form.id)))?;
                let record = PublishedForm {
                    form_id: form.id.clone(),
                    version,
                    source_version: Some(form.version.clone()).filter(|v| !v.is_empty()),
                    definition: form,
                    status: FormStatus::Published,
                    published_at,
                };
                let fields = match serde_json::to_value(&record)? {
                    serde_json::Value::Object(map) => map,
                    _ => return Err(DbError::Corrupt("a form did not encode as an object".into())),
                };
                let record = ServerRecord {
                    collection: Collection::Forms,
                    id: RecordId(uuid::Uuid::now_v7()),
                    site_id: None,
                    state: reference_state(fields, Hlc::new(now_ms, 0, SERVER_DEVICE)),
                };
                let first = take_seqs(tx, 1).await?;
                tx.run(server_record_statements(org, std::slice::from_ref(&record), first, now_ms)?).await?;
                Ok(Some(version))
            })
        })
        .await
    }

    /// Retires version `version` of form `form_id`: tablets stop offering it at their next pull;
    /// responses to it are still accepted and reported. `Ok(false)` when it was retired already.
    pub async fn retire_form(&self, form_id: &str, version: u32, now_ms: u64) -> Result<bool, DbError> {
        let form_id = form_id.to_string();
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(Statement::query(
                        "SELECT id, state FROM records WHERE collection = ? AND deleted = ?",
                        params![Collection::Forms.name(), false],
                    ))
                    .await?;
                let mut found = None;
                for row in &rows {
                    let state: RecordState = row.col(1)?;
                    let form = published(&state)?;
                    if form.form_id == form_id && form.version == version {
                        found = Some((row.col::<RecordId>(0)?, form.status));
                    }
                }
                let Some((id, status)) = found else {
                    return Err(DbError::NotFound(format!("form {form_id} has no version {version}")));
                };
                if status == FormStatus::Retired {
                    return Ok(false);
                }
                let status = [("status".to_string(), serde_json::to_value(FormStatus::Retired)?)].into_iter().collect();
                change_reference_in(tx, Collection::Forms, id, status, &[], now_ms).await?;
                Ok(true)
            })
        })
        .await
    }
}
