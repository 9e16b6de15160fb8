//! Work the server does by itself while it runs, a minute after start and every six hours after
//! that: the organisation's retention period, the tombstone clean-up, and a signed checkpoint of the audit chain's head written to the
//! server's log (outside the database, so `audit verify --since` can find a log cut short).

use crate::time::now_ms;
use outpost_server_store::Store;
use outpost_server_store::audit::Checkpoint;
use std::time::Duration;

/// Applies the retention period, removes tombstones older than `retention_days` (never when 0)
/// and logs a checkpoint, for as long as it runs. A failed run is logged and tried again next time.
pub async fn purge_loop(store: Store, retention_days: u64) {
    tokio::time::sleep(Duration::from_secs(60)).await;
    loop {
        let now = now_ms();
        if let Err(e) = crate::services::admin::erasure::apply_retention(&store, now).await {
            tracing::error!(error = %e, "the retention period could not be applied; it runs again in six hours");
        }
        let before = now.saturating_sub(retention_days.saturating_mul(24 * 3600 * 1000));
        if retention_days > 0
            && let Err(e) = store.purge_tombstones(before, now).await
        {
            tracing::error!(error = %e, "tombstone clean-up failed; it runs again in six hours");
        }
        log_checkpoint(&store, now).await;
        tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
    }
}

/// Writes a signed checkpoint of the audit chain's head to the log.
async fn log_checkpoint(store: &Store, now: u64) {
    match store.audit_head().await {
        Ok(Some(head)) => {
            let at_ms = i64::try_from(now).unwrap_or(i64::MAX);
            let checkpoint = Checkpoint::sign(store.key(), &head, at_ms);
            match serde_json::to_string(&checkpoint) {
                Ok(line) => {
                    tracing::info!(checkpoint = %line, "audit checkpoint (keep a copy: `audit verify --since`)")
                }
                Err(e) => tracing::error!(error = %e, "could not write the audit checkpoint"),
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "could not read the audit chain's head for its checkpoint"),
    }
}
