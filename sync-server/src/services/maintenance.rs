//! Work the server does by itself while it runs: the tombstone clean-up, a minute after start
//! and every six hours after that.

use crate::time::now_ms;
use outpost_server_store::Store;
use std::time::Duration;

/// Removes tombstones older than `retention_days` (never when 0), for as long as it runs. A
/// failed run is logged and tried again next time.
pub async fn purge_loop(store: Store, retention_days: u64) {
    if retention_days == 0 {
        return;
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
    loop {
        let now = now_ms();
        let before = now.saturating_sub(retention_days.saturating_mul(24 * 3600 * 1000));
        if let Err(e) = store.purge_tombstones(before, now).await {
            tracing::error!(error = %e, "tombstone clean-up failed; it runs again in six hours");
        }
        tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
    }
}
