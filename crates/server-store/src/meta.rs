//! What the database records about itself (`server_meta`): the fingerprint of the server key it
//! is written with, so storage opened with another key is refused ([`crate::Store::new`]), and
//! the sealing of second-factor secrets written in clear before there was a key.

use crate::error::DbError;
use crate::params;
use crate::sql::{RowExt, Statement};
use zeroize::Zeroizing;

impl crate::Store {
    /// Records the key's fingerprint in a database that has none, refuses a database written
    /// with another key, and seals second-factor secrets still stored in clear (databases
    /// written before they were sealed, or imported from such an export).
    pub(crate) async fn bind_key(&self) -> Result<(), DbError> {
        let given = self.key().fingerprint();
        let stored = self
            .query(Statement::query("SELECT value FROM server_meta WHERE name = 'key_fingerprint'", vec![]))
            .await?;
        match stored.first() {
            Some(row) => {
                let stored: String = row.col(0)?;
                if stored != given {
                    return Err(DbError::WrongKey { stored, given });
                }
            }
            None => {
                self.execute(vec![Statement::exec(
                    "INSERT INTO server_meta (name, value) VALUES ('key_fingerprint', ?) ON CONFLICT (name) DO NOTHING",
                    params![given.clone()],
                )])
                .await?;
                // Two instances starting together: the first one's key is the database's.
                let stored = self
                    .query(Statement::query("SELECT value FROM server_meta WHERE name = 'key_fingerprint'", vec![]))
                    .await?;
                let stored: String = stored.first().map_or(Ok(given.clone()), |r| r.col(0))?;
                if stored != given {
                    return Err(DbError::WrongKey { stored, given });
                }
            }
        }
        self.seal_clear_secrets().await
    }

    /// Seals every second-factor secret still stored in clear.
    pub(crate) async fn seal_clear_secrets(&self) -> Result<(), DbError> {
        let clear = self
            .query(Statement::query(
                "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'sealed1:%'",
                vec![],
            ))
            .await?;
        if clear.is_empty() {
            return Ok(());
        }
        let mut statements = Vec::with_capacity(clear.len());
        for row in &clear {
            let id: uuid::Uuid = row.col(0)?;
            let secret: Zeroizing<String> = Zeroizing::new(row.col(1)?);
            statements.push(Statement::exec(
                "UPDATE users SET totp_secret = ? WHERE id = ? AND totp_secret = ?",
                params![self.key().seal(&secret), id, secret.to_string()],
            ));
        }
        self.execute(statements).await?;
        tracing::info!(accounts = clear.len(), "sealed second-factor secrets stored in clear");
        Ok(())
    }
}
