//! The organisation's own settings: its name, default language, client-code scheme and whether
//! its client index is on. Tablets receive them with every pulled page (`DeviceAuth::org_info`).

use crate::backend::TxMode;
use crate::error::DbError;
use crate::sql::{RowExt, Statement};
use crate::sync::take_seqs;
use crate::{Store, params};
use outpost_core::OrgId;
use outpost_core::uic::UicScheme;

/// The organisation as its settings page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrgSettings {
    pub id: OrgId,
    pub name: String,
    pub default_language: String,
    pub uic_scheme: UicScheme,
    /// Client records it holds (a scheme cannot change once there are any).
    pub clients: i64,
    /// Days after which people not seen, and contacts and survey responses, are erased; none
    /// keeps everything.
    pub retention_days: Option<u32>,
    /// Whether tablets receive every site's clients (code, gender, year of birth).
    pub client_index: bool,
    /// The programme's needle-syringe target per PWID per year; none: the default.
    pub nsp_target: Option<u32>,
}

/// Clients given new sequence numbers per statement batch when the client index is turned on.
const RESEQUENCE_CHUNK: usize = 500;

impl Store {
    /// The organisation (the only one on this server) and how many clients it holds.
    pub async fn org_settings(&self) -> Result<OrgSettings, DbError> {
        let out = self
            .query_all(vec![
                Statement::query(
                    "SELECT id, name, default_language, uic_scheme, retention_days, client_index, nsp_target FROM orgs",
                    vec![],
                ),
                Statement::query("SELECT count(*) FROM records WHERE collection = 'clients'", vec![]),
            ])
            .await?;
        let [org] = out[0].as_slice() else {
            return Err(DbError::NotFound(crate::records::org_count_problem(out[0].len(), "settings")));
        };
        let clients: i64 = out[1].first().map_or(Ok(0), |r| r.col(0))?;
        Ok(OrgSettings {
            id: org.col(0)?,
            name: org.col(1)?,
            default_language: org.col(2)?,
            uic_scheme: serde_json::from_str(&org.col::<String>(3)?)?,
            clients,
            retention_days: org.col::<Option<i64>>(4)?.and_then(|d| u32::try_from(d).ok()),
            client_index: org.col(5)?,
            nsp_target: org.col::<Option<i64>>(6)?.and_then(|t| u32::try_from(t).ok()),
        })
    }

    /// The programme's service packages as JSON (none: the shipped defaults).
    pub async fn service_packages(&self) -> Result<Option<String>, DbError> {
        let rows = self.query(Statement::query("SELECT service_packages FROM orgs", vec![])).await?;
        match rows.first() {
            Some(row) => row.col(0),
            None => Ok(None),
        }
    }

    /// Sets the programme's service packages (JSON; none: back to the defaults).
    pub async fn set_service_packages(&self, json: Option<String>) -> Result<(), DbError> {
        self.execute(vec![Statement::exec("UPDATE orgs SET service_packages = ?", params![json])]).await?;
        Ok(())
    }

    /// Sets the programme's needle-syringe target (none: the default).
    pub async fn set_nsp_target(&self, target: Option<u32>) -> Result<(), DbError> {
        self.execute(vec![Statement::exec("UPDATE orgs SET nsp_target = ?", params![target.map(i64::from)])]).await?;
        Ok(())
    }

    /// Turns the organisation's client index on or off, in one transaction. Turning it on
    /// gives every client and site record a new sequence number, so every tablet, whatever its
    /// cursor, pulls the clients of the other sites (reduced to the index's fields) and those
    /// sites' names at its next sync;
    /// turning it off tells tablets with the next page, and they drop them.
    pub async fn set_client_index(&self, on: bool) -> Result<(), DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let d = tx.dialect();
                let rows = tx
                    .query(Statement::query(format!("SELECT id, client_index FROM orgs{}", d.for_update()), vec![]))
                    .await?;
                let [org] = rows.as_slice() else {
                    return Err(DbError::NotFound(crate::records::org_count_problem(rows.len(), "settings")));
                };
                let (id, current): (OrgId, bool) = (org.col(0)?, org.col(1)?);
                if current == on {
                    return Ok(());
                }
                tx.exec(Statement::exec("UPDATE orgs SET client_index = ? WHERE id = ?", params![on, id])).await?;
                if !on {
                    return Ok(());
                }
                let clients = tx
                    .query(Statement::query(
                        "SELECT collection, id FROM records WHERE collection IN ('clients', 'sites') AND org_id = ?
                         ORDER BY seq",
                        params![id],
                    ))
                    .await?;
                let ids = clients
                    .iter()
                    .map(|r| Ok((r.col(0)?, r.col(1)?)))
                    .collect::<Result<Vec<(String, outpost_core::RecordId)>, DbError>>()?;
                if ids.is_empty() {
                    return Ok(());
                }
                let first = take_seqs(tx, ids.len()).await?;
                let mut updates = ids.iter().zip(first..).map(|((collection, id), seq)| {
                    Statement::exec(
                        "UPDATE records SET seq = ? WHERE collection = ? AND id = ?",
                        params![seq, collection.as_str(), *id],
                    )
                });
                loop {
                    let chunk: Vec<Statement> = updates.by_ref().take(RESEQUENCE_CHUNK).collect();
                    if chunk.is_empty() {
                        break;
                    }
                    tx.run(chunk).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Sets the organisation's retention period (none keeps everything).
    pub async fn set_retention(&self, days: Option<u32>) -> Result<(), DbError> {
        self.execute(vec![Statement::exec("UPDATE orgs SET retention_days = ?", params![days.map(i64::from)])]).await?;
        Ok(())
    }

    /// Changes the organisation's name, default language and scheme in one transaction. A new
    /// scheme is refused (`Conflict`) once the organisation holds a client: the codes already
    /// given out would no longer match it.
    pub async fn change_org(&self, name: &str, default_language: &str, scheme: &UicScheme) -> Result<(), DbError> {
        let (name, language, scheme) = (name.to_string(), default_language.to_string(), scheme.clone());
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let d = tx.dialect();
                let rows = tx
                    .query(Statement::query(format!("SELECT id, uic_scheme FROM orgs{}", d.for_update()), vec![]))
                    .await?;
                let [org] = rows.as_slice() else {
                    return Err(DbError::NotFound(format!("this server has {} organisations", rows.len())));
                };
                let (id, current): (OrgId, String) = (org.col(0)?, org.col(1)?);
                let current: UicScheme = serde_json::from_str(&current)?;
                if current != scheme {
                    let clients = tx
                        .query(Statement::query("SELECT count(*) FROM records WHERE collection = 'clients'", vec![]))
                        .await?;
                    let clients: i64 = clients.first().map_or(Ok(0), |r| r.col(0))?;
                    if clients > 0 {
                        return Err(DbError::Conflict(format!(
                            "the organisation holds {clients} client(s) whose codes follow the scheme {:?}: a new scheme would not match them (no migration of codes is offered: people would have to be registered again)",
                            current.name
                        )));
                    }
                }
                tx.exec(Statement::exec(
                    "UPDATE orgs SET name = ?, default_language = ?, uic_scheme = ? WHERE id = ?",
                    params![name.as_str(), language.as_str(), crate::sql::json(&scheme)?, id],
                ))
                .await?;
                Ok(())
            })
        })
        .await
    }
}
