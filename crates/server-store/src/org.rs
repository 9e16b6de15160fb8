//! The organisation's own settings: its name, default language and client-code scheme. Tablets
//! receive them with every pulled page (`DeviceAuth::org_info`).

use crate::backend::TxMode;
use crate::error::DbError;
use crate::sql::{RowExt, Statement};
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
}

impl Store {
    /// The organisation (the only one on this server) and how many clients it holds.
    pub async fn org_settings(&self) -> Result<OrgSettings, DbError> {
        let out = self
            .query_all(vec![
                Statement::query("SELECT id, name, default_language, uic_scheme, retention_days FROM orgs", vec![]),
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
        })
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
