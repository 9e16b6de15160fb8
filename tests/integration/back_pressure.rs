//! Back-pressure on sync (issue 19): beyond the server's sync capacity a push or pull is refused
//! at once with `503 server_busy` and `Retry-After` (which the tablet's client reads), instead
//! of waiting without bound; requests other than sync still answer, and the sync that held the
//! slot completes.

use outpost_device::SyncError;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_beyond_capacity_get_503_with_retry_after_and_the_rest_still_answers() -> anyhow::Result<()> {
    let settings = Settings { sync_concurrency: 1, sync_queue: 0, ..Settings::default() };
    let server = TestServer::start_on(Backend::Sqlite, settings).await?;
    let device = SimDevice::enroll(&server, SITE_A).await?;
    let token = device.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;

    // A push whose body the test hands over piece by piece holds the only sync slot.
    let (pieces, receiver) = tokio::sync::mpsc::channel::<&'static str>(4);
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|piece| (Ok::<_, std::io::Error>(piece.as_bytes().to_vec()), receiver))
    });
    pieces.send("{\"ops\": [").await?;
    let http = reqwest::Client::new();
    let held = tokio::spawn(
        http.post(format!("{}/api/v1/sync/push", server.url()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("outpost-protocol", "1")
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // The next sync request is refused at once, saying when to come back.
    let started = std::time::Instant::now();
    let refused = http
        .get(format!("{}/api/v1/sync/pull?after=0&limit=10", server.url()))
        .bearer_auth(&token)
        .header("outpost-protocol", "1")
        .send()
        .await?;
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "refused without a long wait");
    assert_eq!(refused.status().as_u16(), 503);
    let retry_after = refused.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(String::from);
    assert_eq!(retry_after.as_deref(), Some("10"));
    let reply: Value = refused.json().await?;
    assert_eq!(reply["code"], "server_busy", "{reply}");
    assert!(reply["message"].as_str().is_some_and(|m| m.contains("busy")), "{reply}");
    // The tablet's client reads the wait it is asked for.
    match device.client.pull(&token, 0, 10, false).await {
        Err(SyncError::Server { status: 503, retry_after_s: Some(10), .. }) => {}
        other => anyhow::bail!("expected a busy refusal, got {other:?}"),
    }
    // What is not sync is not held back.
    let health = http.get(format!("{}/healthz", server.url())).send().await?;
    assert_eq!(health.status().as_u16(), 200);

    // The held push completes (an empty batch), and sync is served again.
    pieces.send("]}").await?;
    drop(pieces);
    let held = held.await??;
    assert_ne!(held.status().as_u16(), 503, "the push that held the slot was served");
    let page = device.client.pull(&token, 0, 10, false).await?;
    assert!(!page.has_more || page.records.len() == 10);
    server.stop().await
}
