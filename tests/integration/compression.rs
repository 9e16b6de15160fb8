//! Compressed bodies on the wire (issue 19): replies compressed when the client asks, request
//! bodies compressed once the server has said it decodes them, old clients still served plain
//! JSON, and every bad compressed body refused with a specific error while the server keeps
//! serving. Transport only, so SQLite alone.

use outpost_core::Collection;
use outpost_core::wire::{PushRequest, PushResponse};
use outpost_device::SyncClient;
use outpost_server::settings::Settings;
use outpost_tests::faults::FaultProxy;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

type Result = anyhow::Result<()>;

fn code(body: &Value) -> &str {
    body.get("code").and_then(Value::as_str).unwrap_or("<none>")
}

/// Records the server holds in `collection`.
async fn count(server: &TestServer, collection: &str) -> anyhow::Result<usize> {
    Ok(server.storage.snapshot().await?.iter().filter(|r| r.collection == collection).count())
}

/// A push body creating `n` contacts (each one valid on its own), numbered from
/// `next` on, which moves past them.
fn push_body(device: &SimDevice, next: &mut u64, n: u64) -> anyhow::Result<Vec<u8>> {
    let identity = device.with(|s| s.identity().cloned()).ok_or_else(|| anyhow::anyhow!("not enrolled"))?;
    let first = *next;
    *next += n;
    let next = first;
    let ops: Vec<Value> = (0..n)
        .map(|i| {
            json!({"op_seq": next + i, "collection": "contacts", "record_id": uuid::Uuid::now_v7(),
                "site_id": device.site_id(), "kind": "create",
                "fields": {"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"},
                "stamp": outpost_core::hlc::Hlc::new(outpost_server::time::now_ms(), 0, identity.device_id)})
        })
        .collect();
    Ok(serde_json::to_vec(&json!({ "ops": ops }))?)
}

fn zstd(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    Ok(zstd::bulk::compress(bytes, 3)?)
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_compress_both_ways_and_old_clients_get_plain_json() -> Result {
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    let proxy = FaultProxy::start(server.addr).await?;
    let mut a = SimDevice::enroll(&server, SITE_A).await?;
    a.client = SyncClient::new(&proxy.url())?;
    assert!(!a.client.compresses_requests(), "a new client compresses nothing before the server has said it may");

    // The first sync learns from the server's replies; the second one compresses its pushes.
    a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}))?;
    a.sync().await?;
    assert!(a.client.compresses_requests(), "the server's replies say it decodes zstd");
    let visit = a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T11:00:00Z"}))?;
    for i in 0..300 {
        a.create(
            Collection::DistributionLines,
            json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 1 + i % 20}),
        )?;
    }
    let (up_before, _) = proxy.bytes();
    let report = a.sync().await?;
    let (up_after, _) = proxy.bytes();
    assert_eq!(report.pushed, 301);
    let json_size = 301 * 250;
    assert!(
        report.bytes_sent < json_size / 3 && up_after - up_before < json_size / 2,
        "the push went compressed: {} bytes of body, {} on the wire",
        report.bytes_sent,
        up_after - up_before
    );
    assert_eq!(count(&server, "distribution_lines").await?, 300, "every compressed record arrived");

    // A fresh tablet pulls it all, compressed, and holds the same records.
    let mut b = SimDevice::enroll(&server, SITE_A).await?;
    b.client = SyncClient::new(&proxy.url())?;
    let (_, down_before) = proxy.bytes();
    b.sync().await?;
    let (_, down_after) = proxy.bytes();
    assert_eq!(b.with(|s| s.list(Collection::DistributionLines))?.len(), 300);
    assert!(down_after - down_before < 300 * 150, "the pull went compressed: {} bytes", down_after - down_before);

    // The reply is compressed only when asked: an old client without Accept-Encoding reads
    // plain JSON; one that asks for zstd or gzip gets it.
    let token = b.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
    let plain_client = reqwest::Client::builder().no_gzip().no_zstd().build()?;
    let pull = |accept: Option<&'static str>| {
        let mut request = plain_client
            .get(format!("{}/api/v1/sync/pull?after=0&limit=1000", server.url()))
            .bearer_auth(&token)
            .header("outpost-protocol", "1");
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        request.send()
    };
    let old = pull(None).await?;
    assert_eq!(old.status(), 200);
    assert!(old.headers().get("content-encoding").is_none());
    assert_eq!(old.headers().get("accept-encoding").and_then(|v| v.to_str().ok()), Some("zstd, gzip"));
    let plain: Value = old.json().await?;
    let lines =
        plain["records"].as_array().map_or(0, |r| r.iter().filter(|r| r["collection"] == "distribution_lines").count());
    assert_eq!(lines, 300, "the plain page holds every line");
    for (accept, coding) in [("zstd", "zstd"), ("gzip", "gzip")] {
        let reply = pull(Some(accept)).await?;
        assert_eq!(reply.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some(coding));
        let packed = reply.bytes().await?;
        let unpacked: Value = match coding {
            "zstd" => serde_json::from_slice(&zstd::stream::decode_all(&packed[..])?)?,
            _ => serde_json::from_reader(flate2::read::GzDecoder::new(&packed[..]))?,
        };
        assert!(unpacked["records"] == plain["records"], "the same page, {coding}-compressed");
    }
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_compressed_bodies_are_refused_and_nothing_is_applied() -> Result {
    let settings = Settings { max_body_bytes: 256 * 1024, ..Settings::default() };
    let server = TestServer::start_on(Backend::Sqlite, settings).await?;
    let device = SimDevice::enroll(&server, SITE_A).await?;
    let token = device.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
    let http = reqwest::Client::new();
    let push = |body: Vec<u8>, coding: Option<&'static str>| {
        let mut request = http
            .post(format!("{}/api/v1/sync/push", server.url()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("outpost-protocol", "1")
            .body(body);
        if let Some(coding) = coding {
            request = request.header("content-encoding", coding);
        }
        async move {
            let reply = request.send().await?;
            let status = reply.status().as_u16();
            let accepts = reply.headers().get("accept-encoding").and_then(|v| v.to_str().ok()).map(String::from);
            anyhow::Ok((status, reply.json::<Value>().await.unwrap_or(Value::Null), accepts))
        }
    };

    // A coding the server does not decode: 415, naming what it does decode.
    let mut seq = 1;
    let body = push_body(&device, &mut seq, 3)?;
    seq = 1;
    for coding in ["br", "deflate", "zstd, br", "x-unknown"] {
        let (status, reply, accepts) = push(body.clone(), Some(coding)).await?;
        assert_eq!((status, code(&reply)), (415, "unsupported_encoding"), "{coding}: {reply}");
        assert!(reply["message"].as_str().is_some_and(|m| m.contains("zstd or gzip")), "{reply}");
        assert_eq!(accepts.as_deref(), Some("zstd, gzip"));
    }
    // Bytes that are not what the header says: a specific 400, not a dropped connection.
    for coding in ["zstd", "gzip"] {
        let (status, reply, _) = push(b"this is not compressed at all".to_vec(), Some(coding)).await?;
        assert_eq!((status, code(&reply)), (400, "unreadable_body"), "{coding}: {reply}");
        let mut cut = match coding {
            "zstd" => zstd(&body)?,
            _ => gzip(&body)?,
        };
        cut.truncate(cut.len() / 2);
        let (status, reply, _) = push(cut, Some(coding)).await?;
        assert_eq!((status, code(&reply)), (400, "unreadable_body"), "{coding} cut in half: {reply}");
    }
    // A small body that unpacks into more than the limit (4 MB of spaces in a few hundred
    // bytes): refused as too large, and the server reads no more of it than the limit.
    let mut bomb = b"{\"ops\": [], \"pad\": \"".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 4 * 1024 * 1024));
    bomb.extend(b"\"}");
    for (coding, packed) in [("zstd", zstd(&bomb)?), ("gzip", gzip(&bomb)?)] {
        assert!(packed.len() < 10 * 1024, "{coding}: {}", packed.len());
        let (status, reply, _) = push(packed, Some(coding)).await?;
        assert_eq!((status, code(&reply)), (413, "payload_too_large"), "{coding}: {reply}");
    }
    assert_eq!(count(&server, "contacts").await?, 0, "nothing of a refused body was applied");

    // The server keeps serving, and a good body in either coding is applied.
    for coding in ["zstd", "gzip"] {
        let body = push_body(&device, &mut seq, 3)?;
        let packed = if coding == "zstd" { zstd(&body)? } else { gzip(&body)? };
        let (status, reply, _) = push(packed, Some(coding)).await?;
        assert_eq!(status, 200, "{coding}: {reply}");
        let reply: PushResponse = serde_json::from_value(reply)?;
        assert_eq!(reply.acked.len(), 3);
    }
    assert_eq!(count(&server, "contacts").await?, 6, "both good bodies were applied");
    server.stop().await
}

/// A server (or a proxy in front of it) that says it decodes zstd but refuses compressed bodies:
/// the tablet sends the batch again uncompressed, and no more compressed bodies after that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_compressed_body_is_sent_again_plain() -> Result {
    let compressed = Arc::new(AtomicUsize::new(0));
    let plain = Arc::new(AtomicUsize::new(0));
    let app = {
        let (compressed, plain) = (compressed.clone(), plain.clone());
        axum::Router::new().route(
            "/api/v1/sync/push",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (compressed, plain) = (compressed.clone(), plain.clone());
                async move {
                    let says = [("accept-encoding", "zstd, gzip")];
                    if headers.contains_key("content-encoding") {
                        compressed.fetch_add(1, Ordering::SeqCst);
                        let error = json!({"code": "unsupported_encoding", "message": "no"});
                        return (axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, says, axum::Json(error));
                    }
                    plain.fetch_add(1, Ordering::SeqCst);
                    let request: PushRequest = serde_json::from_slice(&body).unwrap_or(PushRequest { ops: vec![] });
                    let acked: Vec<u64> = request.ops.iter().map(|o| o.op_seq).collect();
                    let reply = json!({"acked": acked, "clamped": [], "server_time_ms": 0});
                    (axum::http::StatusCode::OK, says, axum::Json(reply))
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });

    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    let device = SimDevice::enroll(&server, SITE_A).await?;
    let token = device.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
    let client = SyncClient::new(&url)?;
    let mut seq = 1;
    for round in 0..3u64 {
        let body = client.wire_body(push_body(&device, &mut seq, 20)?);
        assert_eq!(body.is_compressed(), round == 1, "round {round}: compressed only once the server said so");
        let reply = client.push_body(&token, &body).await?;
        assert_eq!(reply.acked.len(), 20, "round {round}");
    }
    assert_eq!((compressed.load(Ordering::SeqCst), plain.load(Ordering::SeqCst)), (1, 3));
    assert!(!client.compresses_requests(), "after a refusal, this client sends plain bodies");
    serving.abort();
    server.stop().await
}
