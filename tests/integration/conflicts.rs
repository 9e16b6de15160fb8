//! Conflict review under concurrency: coordinators reverting several conflicts at once each get
//! their change applied (the server device's `op_seq` is taken inside the revert's one
//! transaction), and the same conflict resolved twice at once is resolved exactly once.

use futures::future::join_all;
use outpost_core::Collection;
use outpost_server::services::accounts::Role;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, WebClient, assert_converged};
use serde_json::{Value, json};

const RECORDS: usize = 6;

async fn concurrent_reverts_each_apply_once(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let mut clients = Vec::new();
    for n in 0..RECORDS {
        clients.push(a.create(Collection::Clients, json!({"uic": format!("MAIV28{n}"), "gender": "not_stated"}))?);
    }
    a.sync().await?;
    b.sync().await?;
    // Both tablets change every client; B's later edits win and A's values are kept for review.
    for id in &clients {
        a.update(Collection::Clients, *id, json!({"gender": "woman"}))?;
    }
    a.sync().await?;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    for id in &clients {
        b.update(Collection::Clients, *id, json!({"gender": "man"}))?;
    }
    b.sync().await?;

    let web = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    let open = web.get_json("/api/v1/dashboard/conflicts").await?;
    let ids: Vec<i64> = open.as_array().into_iter().flatten().filter_map(|c| c["id"].as_i64()).collect();
    assert_eq!(ids.len(), RECORDS, "one conflict per client: {open}");

    // Every conflict reverted at once, and the first one twice.
    let mut requests: Vec<i64> = ids.clone();
    requests.push(ids[0]);
    let replies =
        join_all(
            requests.iter().map(|id| {
                let web = &web;
                async move {
                    web.post(&format!("/api/v1/dashboard/conflicts/{id}/resolve"), &json!({"action": "revert"})).await
                }
            }),
        )
        .await;
    let mut reverted = Vec::new();
    let mut refused = 0;
    for reply in replies {
        let (status, body) = reply?;
        match status {
            200 => reverted.push(body["id"].as_i64().unwrap_or(0)),
            409 => {
                assert_eq!(body["code"], "conflict", "{body}");
                refused += 1;
            }
            other => anyhow::bail!("unexpected reply {other}: {body}"),
        }
    }
    reverted.sort_unstable();
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(reverted, expected, "each conflict is reverted exactly once");
    assert_eq!(refused, 1, "the second revert of the same conflict is refused");

    // Every revert was applied: each client has A's value back, stamped by the server's device,
    // whose operations are numbered 1, 2, 3... with none lost as a "replay".
    for id in &clients {
        let state = server.storage.record("clients", *id).await?.ok_or_else(|| anyhow::anyhow!("client"))?;
        assert_eq!(state.values()["gender"], Value::from("woman"), "{id} was not reverted");
    }
    let devices = server.storage.list_devices().await?;
    let server_device = devices.iter().find(|d| d.is_server()).ok_or_else(|| anyhow::anyhow!("no server device"))?;
    assert_eq!(server_device.max_op_seq, RECORDS as i64);
    assert_eq!(devices.iter().filter(|d| d.is_server()).count(), 1, "one server device, however many reverts");
    assert_eq!(web.get_json("/api/v1/dashboard/conflicts").await?, json!([]));
    a.sync().await?;
    b.sync().await?;
    assert_converged(&server, &[&a, &b]).await?;
    server.stop().await
}

on_both_backends!(concurrent_reverts_each_apply_once);
