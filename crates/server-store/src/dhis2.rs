//! What the server keeps for sending reports to DHIS2: the connection (address and personal
//! access token, the token sealed with the server key and unsealed only to send) and, per
//! indicator set, the mapping an admin imported (its CSV as uploaded, who saved it and when).
//! Reading and checking the mapping is the server's business (`services::dhis2`).

use crate::{DbError, RowExt, Statement, Store, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// The DHIS2 server reports are sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dhis2Connection {
    pub url: String,
    /// Whether a token is stored (the token itself is never read out but to send).
    pub token_set: bool,
}

/// A mapping as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMapping {
    pub csv: String,
    pub saved_by: String,
    pub saved_ms: i64,
}

impl Store {
    /// The connection, if an admin set one.
    pub async fn dhis2_connection(&self) -> Result<Option<Dhis2Connection>, DbError> {
        let rows = self.query(Statement::query("SELECT dhis2_url, dhis2_token FROM orgs", vec![])).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let url: Option<String> = row.col(0)?;
        let token: Option<String> = row.col(1)?;
        Ok(url.map(|url| Dhis2Connection { url, token_set: token.is_some() }))
    }

    /// The stored token, unsealed (to send, and nothing else).
    pub async fn dhis2_token(&self) -> Result<Option<Zeroizing<String>>, DbError> {
        let rows = self.query(Statement::query("SELECT dhis2_token FROM orgs", vec![])).await?;
        let sealed: Option<String> = match rows.first() {
            Some(row) => row.col(0)?,
            None => None,
        };
        sealed.map(|s| self.key().unseal(&s).map_err(|e| DbError::Corrupt(format!("the DHIS2 token: {e}")))).transpose()
    }

    /// Sets the address and, when given, a new token (sealed); `None` keeps the stored token.
    pub async fn set_dhis2_connection(&self, url: &str, token: Option<&str>) -> Result<(), DbError> {
        let statement = match token {
            Some(token) => {
                let sealed = self.key().seal(token);
                Statement::exec("UPDATE orgs SET dhis2_url = ?, dhis2_token = ?", params![url.to_string(), sealed])
            }
            None => Statement::exec("UPDATE orgs SET dhis2_url = ?", params![url.to_string()]),
        };
        self.execute(vec![statement]).await?;
        Ok(())
    }

    /// Every saved mapping, by set.
    pub async fn dhis2_mappings(&self) -> Result<BTreeMap<String, SavedMapping>, DbError> {
        let rows = self.query(Statement::query("SELECT dhis2_mappings FROM orgs", vec![])).await?;
        let text: Option<String> = match rows.first() {
            Some(row) => row.col(0)?,
            None => None,
        };
        Ok(match text {
            Some(text) => serde_json::from_str(&text)?,
            None => BTreeMap::new(),
        })
    }

    /// Saves the mapping of `set` (replacing the one before), in one transaction.
    pub async fn set_dhis2_mapping(&self, set: &str, mapping: SavedMapping) -> Result<(), DbError> {
        let set = set.to_string();
        self.transaction(crate::TxMode::Write, move |tx| {
            Box::pin(async move {
                let d = tx.dialect();
                let rows = tx
                    .query(Statement::query(format!("SELECT dhis2_mappings FROM orgs{}", d.for_update()), vec![]))
                    .await?;
                let text: Option<String> = match rows.first() {
                    Some(row) => row.col(0)?,
                    None => None,
                };
                let mut all: BTreeMap<String, SavedMapping> = match text {
                    Some(text) => serde_json::from_str(&text)?,
                    None => BTreeMap::new(),
                };
                all.insert(set, mapping);
                tx.exec(Statement::exec("UPDATE orgs SET dhis2_mappings = ?", params![serde_json::to_string(&all)?]))
                    .await?;
                Ok(())
            })
        })
        .await
    }
}
