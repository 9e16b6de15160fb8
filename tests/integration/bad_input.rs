//! Every kind of bad request gets a specific 4xx, nothing of its batch is applied, and the
//! server keeps serving.

use outpost_core::hlc::Hlc;
use outpost_core::wire::{ErrorBody, Op, OpKind, PushResponse};
use outpost_core::{Collection, RecordId};
use outpost_device::DeviceStore;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SITE_B, SimDevice, TestServer, fast_retries, object};
use serde_json::{Value, json};

type Result = anyhow::Result<()>;

struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
    device: SimDevice,
}

impl Api {
    async fn new(server: &TestServer) -> anyhow::Result<Self> {
        let device = SimDevice::enroll(server, SITE_A).await?;
        let token =
            device.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
        Ok(Self { http: reqwest::Client::new(), url: server.url(), token, device })
    }

    fn op(&self, seq: u64, collection: &str, kind: OpKind, fields: Value) -> Op {
        let identity = self.device.with(|s| s.identity().cloned()).expect("enrolled");
        Op {
            op_seq: seq,
            collection: collection.into(),
            record_id: RecordId(uuid::Uuid::now_v7()),
            site_id: self.device.site_id(),
            kind,
            stamp: Hlc::new(outpost_server::time::now_ms(), 0, identity.device_id),
            fields: object(fields),
            bases: Default::default(),
        }
    }

    async fn push_raw(&self, body: impl Into<reqwest::Body>, token: Option<&str>) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .post(format!("{}/api/v1/sync/push", self.url))
            .header("content-type", "application/json")
            .header("outpost-protocol", "1")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        Ok((response.status().as_u16(), response.json().await.unwrap_or(Value::Null)))
    }

    async fn push(&self, ops: &[Op]) -> anyhow::Result<(u16, Value)> {
        self.push_raw(serde_json::to_vec(&json!({ "ops": ops }))?, Some(&self.token)).await
    }
}

fn code(body: &Value) -> &str {
    body.get("code").and_then(Value::as_str).unwrap_or("<none>")
}

fn detail_codes(body: &Value) -> Vec<(Option<String>, String)> {
    let parsed: Option<ErrorBody> = serde_json::from_value(body.clone()).ok();
    parsed.map(|b| b.details.into_iter().map(|d| (d.field, d.code)).collect()).unwrap_or_default()
}

async fn count_records(server: &TestServer, collection: &str) -> anyhow::Result<usize> {
    Ok(server.storage.snapshot().await?.iter().filter(|r| r.collection == collection).count())
}

async fn malformed_and_mistyped_bodies(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let api = Api::new(&server).await?;
    let token = Some(api.token.as_str());
    let cases: Vec<(&str, u16, &str)> = vec![
        ("{\"ops\": [", 400, "malformed_json"),
        ("not json at all", 400, "malformed_json"),
        ("{\"ops\": 5}", 422, "invalid_body"),
        ("{\"ops\": [{\"op_seq\": \"one\"}]}", 422, "invalid_body"),
        ("{\"ops\": [], \"extra\": true}", 422, "invalid_body"),
        ("[]", 422, "invalid_body"),
    ];
    for (body, status, expect) in cases {
        let (got, reply) = api.push_raw(body.to_string(), token).await?;
        assert_eq!((got, code(&reply)), (status, expect), "{body}");
        assert!(reply.get("message").and_then(Value::as_str).is_some_and(|m| !m.is_empty()));
    }
    // An invalid UUID as record id is a decoding error of the operation.
    let mut op = serde_json::to_value(api.op(
        1,
        "contacts",
        OpKind::Create,
        json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}),
    ))?;
    op["record_id"] = json!("not-a-uuid");
    let (status, reply) = api.push_raw(serde_json::to_vec(&json!({"ops": [op]}))?, token).await?;
    assert_eq!((status, code(&reply)), (422, "invalid_body"));
    // Without a JSON content type.
    let response = api
        .http
        .post(format!("{}/api/v1/sync/push", api.url))
        .bearer_auth(&api.token)
        .header("outpost-protocol", "1")
        .body("{}")
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 415);
    assert_eq!(count_records(&server, "contacts").await?, 0);
    server.stop().await
}

async fn invalid_operations_reject_the_whole_batch_and_name_each_problem(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let api = Api::new(&server).await?;
    let good =
        api.op(1, "contacts", OpKind::Create, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}));
    let contact = good.record_id.to_string();
    let cases: Vec<(Op, Option<&str>, &str)> = vec![
        (api.op(2, "people", OpKind::Create, json!({})), None, "unknown_collection"),
        (api.op(2, "commodities", OpKind::Create, json!({"code": "x"})), None, "read_only_collection"),
        (
            api.op(2, "client_merges", OpKind::Create, json!({"from_client": contact, "into_client": contact})),
            None,
            "read_only_collection",
        ),
        (
            api.op(2, "clients", OpKind::Create, json!({"uic": "maiv287", "gender": "woman"})),
            Some("uic"),
            "invalid_uic",
        ),
        (api.op(2, "clients", OpKind::Create, json!({"uic": "MAIV287", "gender": 3})), Some("gender"), "wrong_type"),
        (
            api.op(2, "clients", OpKind::Update, json!({"first_seen_site": "nope"})),
            Some("first_seen_site"),
            "invalid_uuid",
        ),
        (
            api.op(
                2,
                "distribution_lines",
                OpKind::Create,
                json!({"contact_id": contact, "commodity": "syringe_1ml", "quantity": -5}),
            ),
            Some("quantity"),
            "out_of_range",
        ),
        (
            api.op(
                2,
                "distribution_lines",
                OpKind::Create,
                json!({"contact_id": contact, "commodity": "syringe_1ml", "quantity": 50_000_000}),
            ),
            Some("quantity"),
            "out_of_range",
        ),
        (api.op(2, "contacts", OpKind::Create, json!({"setting": "window"})), Some("occurred_at"), "required"),
        (api.op(2, "contacts", OpKind::Delete, json!({"note": "x"})), None, "fields_on_delete"),
        (api.op(0, "contacts", OpKind::Delete, json!({})), None, "invalid_op_seq"),
        (api.op(2, "clients", OpKind::Update, json!({"gender": "man"})), None, "unknown_record"),
        (
            api.op(2_000_000, "contacts", OpKind::Create, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"})),
            None,
            "op_seq_gap",
        ),
        (api.op(2, "contacts", OpKind::Delete, json!({})), None, "unknown_record"),
        (api.op(2, "survey_responses", OpKind::Create, json!({"survey_id": "cbm_default", "survey_version": 1, "occurred_at": "2026-11-25T10:00:00Z", "answers": {"q8": "a\u{0000}"}})), Some("answers"), "control_characters"),
        (api.op(1, "contacts", OpKind::Delete, json!({})), None, "op_seq_order"),
    ];
    for (bad, field, expect) in cases {
        let (status, reply) = api.push(&[good.clone(), bad.clone()]).await?;
        assert_eq!((status, code(&reply)), (422, "invalid_batch"), "{expect}: {reply}");
        assert_eq!(detail_codes(&reply), vec![(field.map(str::to_string), expect.to_string())], "{reply}");
        assert_eq!(reply["details"][0]["index"], json!(1));
        assert_eq!(count_records(&server, "contacts").await?, 0, "the good op of a refused batch is not applied");
    }
    // Merge-time refusals (append-only records cannot change) roll back the whole batch too.
    let line = api.op(
        3,
        "distribution_lines",
        OpKind::Create,
        json!({"contact_id": contact, "commodity": "condom_external", "quantity": 3}),
    );
    assert_eq!(api.push(&[good.clone(), line.clone()]).await?.0, 200);
    let mut changed = line.clone();
    changed.op_seq = 5;
    changed.fields.insert("quantity".into(), json!(30));
    let third =
        api.op(4, "contacts", OpKind::Create, json!({"setting": "window", "occurred_at": "2026-11-25T11:00:00Z"}));
    let (status, reply) = api.push(&[third, changed]).await?;
    assert_eq!((status, detail_codes(&reply)), (422, vec![(None, "immutable_record".to_string())]));
    assert_eq!(count_records(&server, "contacts").await?, 1);
    server.stop().await
}

async fn tokens_missing_forged_expired_and_protocol_versions(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let api = Api::new(&server).await?;
    let body = || serde_json::to_vec(&json!({"ops": []})).unwrap_or_default();
    assert_eq!(
        api.push_raw(body(), None).await.map(|(s, b)| (s, code(&b).to_string()))?,
        (401, "missing_token".into())
    );
    let forged = "A".repeat(43);
    assert_eq!(
        api.push_raw(body(), Some(&forged)).await.map(|(s, b)| (s, code(&b).to_string()))?,
        (401, "invalid_token".into())
    );
    let response = api
        .http
        .get(format!("{}/api/v1/sync/pull", api.url))
        .header("authorization", "Basic abc")
        .header("outpost-protocol", "1")
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 401);

    let pull = |protocol: &'static str| {
        api.http
            .get(format!("{}/api/v1/sync/pull", api.url))
            .bearer_auth(&api.token)
            .header("outpost-protocol", protocol)
            .send()
    };
    assert_eq!(pull("0").await?.status().as_u16(), 426);
    assert_eq!(pull("99").await?.status().as_u16(), 426);
    assert_eq!(pull("one").await?.status().as_u16(), 400);
    let no_header = api.http.get(format!("{}/api/v1/sync/pull", api.url)).bearer_auth(&api.token).send().await?;
    assert_eq!(no_header.status().as_u16(), 400);
    // The device client turns 426 into "app too old".
    assert_eq!(pull("1").await?.status().as_u16(), 200);

    let device_id = api.device.with(|s| s.identity().map(|i| i.device_id)).ok_or_else(|| anyhow::anyhow!("no id"))?;
    server.storage.expire_token(device_id).await?;
    let (status, reply) = api.push_raw(body(), Some(&api.token)).await?;
    assert_eq!((status, code(&reply)), (401, "token_expired"));
    let err = api.device.sync().await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("revoked or has expired"), "{err}");
    server.stop().await
}

async fn pull_parameters_are_checked(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let api = Api::new(&server).await?;
    for (query, expect) in [
        ("limit=0", "invalid_limit"),
        ("limit=100000", "invalid_limit"),
        ("limit=abc", "invalid_query"),
        ("after=-1", "invalid_query"),
        ("bogus=1", "invalid_query"),
    ] {
        let response = api
            .http
            .get(format!("{}/api/v1/sync/pull?{query}", api.url))
            .bearer_auth(&api.token)
            .header("outpost-protocol", "1")
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: Value = response.json().await?;
        assert_eq!(code(&body), expect, "{query}");
    }
    server.stop().await
}

async fn records_of_a_site_the_device_is_not_enrolled_for_are_refused(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let api = Api::new(&server).await?;
    let other = SimDevice::enroll(&server, SITE_B).await?;
    let mut op =
        api.op(1, "contacts", OpKind::Create, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}));
    op.site_id = other.site_id();
    let (status, reply) = api.push(&[op]).await?;
    assert_eq!((status, detail_codes(&reply)), (403, vec![(None, "site_not_enrolled".to_string())]));

    // Editing another site's record by reusing its id, under one's own site, is refused too.
    let theirs = other
        .create(Collection::Contacts, json!({"setting": "street_outreach", "occurred_at": "2026-11-25T10:00:00Z"}))?;
    other.sync().await?;
    let mut hijack = api.op(2, "contacts", OpKind::Update, json!({"note": "mine now"}));
    hijack.record_id = theirs;
    let (status, reply) = api.push(&[hijack]).await?;
    assert_eq!((status, detail_codes(&reply)), (403, vec![(None, "site_mismatch".to_string())]));

    // A stamp naming another device is a forgery.
    let mut forged =
        api.op(3, "contacts", OpKind::Create, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}));
    forged.stamp = Hlc::new(forged.stamp.wall_ms, 0, outpost_core::DeviceId::nil());
    let (status, reply) = api.push(&[forged]).await?;
    assert_eq!((status, detail_codes(&reply)), (403, vec![(None, "stamp_device_mismatch".to_string())]));
    assert_eq!(count_records(&server, "contacts").await?, 1);
    server.stop().await
}

async fn a_device_sets_refused_operations_aside_and_syncs_the_rest(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_B).await?;
    // The device believes it also serves site B (say, its assignment was just removed).
    let mut identity = a.with(|s| s.identity().cloned()).ok_or_else(|| anyhow::anyhow!("no identity"))?;
    identity.sites.push(b.site.clone());
    let enrolled = outpost_core::wire::EnrollResponse {
        device_id: identity.device_id,
        token: identity.token.clone(),
        org_id: outpost_core::OrgId::nil(),
        org_name: identity.org_name.clone(),
        sites: identity.sites.clone(),
        uic_scheme: identity.scheme.clone(),
        server_time_ms: 0,
    };
    a.with(|s| s.save_enrollment(&server.url(), &enrolled))?;
    let kept = a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}))?;
    let refused = a.with(|s| {
        s.create(
            Collection::Contacts,
            b.site_id(),
            object(json!({"setting": "window", "occurred_at": "2026-11-25T10:05:00Z"})),
        )
    })?;
    let later = a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:10:00Z"}))?;

    let report = a.client.sync(&a.store, &fast_retries(), &mut |_| {}).await?;
    assert_eq!((report.pushed, report.rejected), (2, 1));
    let rejected = a.with(|s| s.rejected_ops())?;
    assert_eq!(rejected.len(), 1);
    assert_eq!((rejected[0].op.record_id, rejected[0].code.as_str()), (refused, "site_not_enrolled"));
    for id in [kept, later] {
        assert!(server.storage.record("contacts", id).await?.is_some());
    }
    assert!(server.storage.record("contacts", refused).await?.is_none());
    assert!(a.with(|s| s.get(Collection::Contacts, refused))?.is_none(), "the refused record left the local data too");
    server.stop().await
}

async fn stamps_far_in_the_future_are_clamped_and_flagged(backend: Backend) -> Result {
    // A short limit keeps the test quick: stamps more than 2 s ahead are clamped.
    let settings = Settings { max_clock_ahead_ms: 2_000, ..Settings::default() };
    let server = TestServer::start_on(backend, settings).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let client = b.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "man"}))?;
    b.sync().await?;
    a.sync().await?;
    // a's clock runs three years ahead; its edit must not freeze the field for three years.
    a.with(|s| s.set_clock_offset_ms(3 * 365 * 24 * 3600 * 1000));
    a.update(Collection::Clients, client, json!({"gender": "woman"}))?;
    let token = a.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
    let ops = a.with(|s| s.pending_ops(10))?;
    let reply: PushResponse = a.client.push(&token, &outpost_core::wire::PushRequest { ops: ops.clone() }).await?;
    assert_eq!(reply.clamped, vec![ops[0].op_seq]);
    let stored = server.storage.record("clients", client).await?.ok_or_else(|| anyhow::anyhow!("missing"))?;
    assert!(stored.fields["gender"].stamp.wall_ms <= outpost_server::time::now_ms() + 2_000);
    a.sync().await?;

    // Two edits of one field from a clock a few minutes fast: the first within the limit, the
    // correction beyond it. Clamping must not put the correction before the first edit.
    let device = a.with(|s| s.identity().map(|i| i.device_id)).ok_or_else(|| anyhow::anyhow!("no id"))?;
    let now = outpost_server::time::now_ms();
    let edit = |seq: u64, ahead_ms: u64, gender: &str| outpost_core::wire::Op {
        op_seq: seq,
        collection: "clients".into(),
        record_id: client,
        site_id: a.site_id(),
        kind: OpKind::Update,
        stamp: Hlc::new(now + ahead_ms, 0, device),
        fields: object(json!({"gender": gender})),
        bases: Default::default(),
    };
    let next = a.with(|s| s.pending_ops(1).map(|o| o.len()))? as u64 + 1000;
    let reply = a
        .client
        .push(
            &token,
            &outpost_core::wire::PushRequest {
                ops: vec![edit(next, 1_000, "man"), edit(next + 1, 10 * 60_000, "trans_man")],
            },
        )
        .await?;
    assert_eq!(reply.clamped, vec![next + 1]);
    let stored = server.storage.record("clients", client).await?.ok_or_else(|| anyhow::anyhow!("missing"))?;
    assert_eq!(stored.fields["gender"].value, json!("trans_man"), "the later edit still wins after clamping");

    // Once the clamped stamps are in the past, an edit from a correct clock wins again.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    b.sync().await?;
    b.update(Collection::Clients, client, json!({"gender": "non_binary"}))?;
    b.sync().await?;
    a.sync().await?;
    let on_a = a.with(|s| s.get(Collection::Clients, client))?.map(|s| s.fields["gender"].value.clone());
    assert_eq!(on_a, Some(json!("non_binary")), "a later edit with a correct clock wins");
    server.stop().await
}

async fn oversized_bodies_and_batches_are_refused(backend: Backend) -> Result {
    let settings = Settings { max_body_bytes: 64 * 1024, ..Settings::default() };
    let server = TestServer::start_on(backend, settings).await?;
    let api = Api::new(&server).await?;
    let big = format!("{{\"ops\": [], \"pad\": \"{}\"}}", "x".repeat(100 * 1024));
    let (status, reply) = api.push_raw(big, Some(&api.token)).await?;
    assert_eq!((status, code(&reply)), (413, "payload_too_large"));
    let ops: Vec<Op> = (1..=1001).map(|i| api.op(i, "contacts", OpKind::Delete, json!({}))).collect();
    let small_ops: Vec<Value> = ops.iter().map(|o| json!({"op_seq": o.op_seq, "collection": "contacts", "record_id": o.record_id, "site_id": o.site_id, "kind": "delete", "stamp": o.stamp})).collect();
    let server2 = TestServer::start_on(backend, Settings::default()).await?;
    let api2 = Api::new(&server2).await?;
    let (status, reply) = api2.push_raw(serde_json::to_vec(&json!({"ops": small_ops}))?, Some(&api2.token)).await?;
    assert_eq!((status, code(&reply)), (413, "too_many_ops"));
    server2.stop().await?;
    server.stop().await
}

async fn enrolment_codes_work_once_and_bad_enrolments_are_refused(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let http = reqwest::Client::new();
    let code_text = server.enrollment_code(SITE_A).await?;
    let enroll = |body: Value| http.post(format!("{}/api/v1/enroll", server.url())).json(&body).send();
    let ok =
        json!({"code": code_text.to_lowercase(), "device_name": "Van tablet", "app_version": "0.1.0", "protocol": 1});
    assert_eq!(enroll(ok.clone()).await?.status().as_u16(), 200);
    let again = enroll(ok.clone()).await?;
    assert_eq!(again.status().as_u16(), 401);
    assert_eq!(code(&again.json().await?), "enrollment_code_invalid");
    let fresh = server.enrollment_code(SITE_A).await?;
    for (body, status, expect) in [
        (json!({"code": fresh, "device_name": "", "app_version": "0.1.0", "protocol": 1}), 422, "invalid_field"),
        (
            json!({"code": fresh, "device_name": "x".repeat(101), "app_version": "0.1.0", "protocol": 1}),
            422,
            "invalid_field",
        ),
        (json!({"code": fresh, "device_name": "Tab", "app_version": "0.1.0", "protocol": 0}), 426, "upgrade_required"),
        (json!({"code": fresh, "device_name": "Tab"}), 422, "invalid_body"),
        (
            json!({"code": "AAAA-BBBB-CCCC", "device_name": "Tab", "app_version": "1", "protocol": 1}),
            401,
            "enrollment_code_invalid",
        ),
    ] {
        let response = enroll(body.clone()).await?;
        assert_eq!(response.status().as_u16(), status, "{body}");
        assert_eq!(code(&response.json().await?), expect, "{body}");
    }
    // The unused code still works after the refusals.
    let body = json!({"code": fresh, "device_name": "Tab", "app_version": "0.1.0", "protocol": 1});
    assert_eq!(enroll(body).await?.status().as_u16(), 200);
    server.stop().await
}

async fn the_server_keeps_serving_after_bad_requests(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let api = Api::new(&server).await?;
    for body in ["{", "[1,2", "{\"ops\": null}", "\u{0}\u{1}"] {
        let _ = api.push_raw(body.to_string(), Some(&api.token)).await?;
    }
    let response = api.http.get(format!("{}/nowhere", api.url)).send().await?;
    assert_eq!(response.status().as_u16(), 404);
    let response = api.http.delete(format!("{}/api/v1/sync/push", api.url)).send().await?;
    assert_eq!(response.status().as_u16(), 405);
    let response = api.http.get(format!("{}/healthz", api.url)).send().await?;
    for (name, value) in [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(response.headers().get(name).and_then(|v| v.to_str().ok()), Some(value), "{name}");
    }
    let health: Value = response.json().await?;
    assert_eq!(health["status"], json!("ok"));
    api.device.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}))?;
    api.device.sync().await?;
    assert_eq!(count_records(&server, "contacts").await?, 1);
    server.stop().await
}

/// A request whose body never finishes arriving gets `408` once the request timeout passes, with
/// the same security headers as every other reply (the timeout sits inside the header layers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_gets_408_with_the_security_headers() -> Result {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let settings = Settings { request_timeout_secs: 1, ..Settings::default() };
    let server = TestServer::start_on(Backend::Sqlite, settings).await?;
    let address = server.url().trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await?;
    stream
        .write_all(b"POST /api/v1/enroll HTTP/1.1\r\nHost: outpost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await?;
    let mut reply = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await?;
            reply.extend_from_slice(&buf[..n]);
            if n == 0 || reply.windows(4).any(|w| w == b"\r\n\r\n") {
                return std::io::Result::Ok(());
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no reply within 10 s");
    let head = String::from_utf8_lossy(&reply).to_lowercase();
    assert!(head.starts_with("http/1.1 408"), "{head}");
    for header in [
        "cache-control: no-store",
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy: no-referrer",
    ] {
        assert!(head.contains(header), "{header} missing from {head}");
    }
    server.stop().await
}

#[test]
fn a_wrong_key_cannot_open_the_device_store_and_the_file_holds_no_plaintext() -> Result {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("device.db");
    let key = outpost_device::StoreKey::from_bytes([7; 32]);
    {
        let store = DeviceStore::open(&path, &key)?;
        drop(store);
    }
    let wrong = outpost_device::StoreKey::from_bytes([8; 32]);
    assert!(matches!(DeviceStore::open(&path, &wrong), Err(outpost_device::StoreError::BadKey)));
    let bytes = std::fs::read(&path)?;
    assert!(!bytes.windows(6).any(|w| w == b"SQLite"), "the header is encrypted");
    assert!(!bytes.windows(7).any(|w| w == b"outbox"), "schema text is encrypted");
    let _ = Collection::Clients;
    Ok(())
}

async fn repeated_failed_enrolments_are_rate_limited(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let http = reqwest::Client::new();
    let enroll = |code: String| {
        http.post(format!("{}/api/v1/enroll", server.url()))
            .json(&json!({"code": code, "device_name": "Tab", "app_version": "1", "protocol": 1}))
            .send()
    };
    for _ in 0..outpost_server::http::limits::MAX_FAILURES {
        assert_eq!(enroll("AAAA-BBBB-CCCC".into()).await?.status().as_u16(), 401);
    }
    let good = server.enrollment_code(SITE_A).await?;
    let response = enroll(good.clone()).await?;
    assert_eq!(response.status().as_u16(), 429);
    let body: Value = response.json().await?;
    assert_eq!(code(&body), "rate_limited");
    // The limited attempt did not consume the code, and syncing devices are not affected.
    let device = SimDevice::enroll(&server, SITE_A).await;
    assert!(device.is_err(), "new enrolments from this address wait");
    // Each failure is audited, and the lockout once, when it happens (not every refusal after it).
    let rows = server.storage.audit_log().await?;
    let count = |action: &str| rows.iter().filter(|r| r.action == action).count();
    assert_eq!((count("enroll.failed"), count("enroll.lockout")), (outpost_server::http::limits::MAX_FAILURES, 1));
    server.stop().await
}

on_both_backends!(
    repeated_failed_enrolments_are_rate_limited,
    malformed_and_mistyped_bodies,
    invalid_operations_reject_the_whole_batch_and_name_each_problem,
    tokens_missing_forged_expired_and_protocol_versions,
    pull_parameters_are_checked,
    records_of_a_site_the_device_is_not_enrolled_for_are_refused,
    a_device_sets_refused_operations_aside_and_syncs_the_rest,
    stamps_far_in_the_future_are_clamped_and_flagged,
    oversized_bodies_and_batches_are_refused,
    enrolment_codes_work_once_and_bad_enrolments_are_refused,
    the_server_keeps_serving_after_bad_requests
);

/// A body sent slowly, in `chunks` pieces of 64 KiB: the server has long answered by the time the
/// last one is written.
fn slow_body(chunks: usize) -> reqwest::Body {
    let stream = futures::stream::unfold(0usize, move |sent| async move {
        if sent == chunks {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        Some((Ok::<_, std::io::Error>(vec![b' '; 64 * 1024]), sent + 1))
    });
    reqwest::Body::wrap_stream(stream)
}

/// Issue 18, item 4: a reply sent before the body was read reaches the client. A tablet whose
/// token expired pushes 3 MB: it must read `token_expired` (and re-enrol), not a reset
/// connection (and retry for ever); an upload over the body limit reads its `413`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_refusals_of_large_bodies_are_readable() -> Result {
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    let device = SimDevice::enroll(&server, SITE_A).await?;
    let (id, token) = device
        .with(|s| s.identity().map(|i| (i.device_id, i.token.clone())))
        .ok_or_else(|| anyhow::anyhow!("not enrolled"))?;
    server.storage.expire_token(id).await?;
    let http = reqwest::Client::new();
    let push = http
        .post(format!("{}/api/v1/sync/push", server.url()))
        .bearer_auth(&token)
        .header("outpost-protocol", "1")
        .header("content-type", "application/json")
        .header("content-length", (48 * 64 * 1024).to_string())
        .body(slow_body(48))
        .send()
        .await?;
    assert_eq!(push.status().as_u16(), 401);
    let body: ErrorBody = push.json().await?;
    assert_eq!(body.code, "token_expired");
    // And many at once, each sent as fast as the machine can (the usual tablet on Wi-Fi).
    let pushes = (0..24).map(|_| {
        let request = http
            .post(format!("{}/api/v1/sync/push", server.url()))
            .bearer_auth(&token)
            .header("outpost-protocol", "1")
            .header("content-type", "application/json")
            .body(vec![b' '; 3 * 1024 * 1024]);
        async move {
            let reply = request.send().await?;
            let status = reply.status().as_u16();
            let body: ErrorBody = reply.json().await?;
            anyhow::Ok((status, body.code))
        }
    });
    for outcome in futures::future::join_all(pushes).await {
        assert_eq!(outcome?, (401, "token_expired".to_string()), "a 3 MB push with an expired token");
    }

    let web = outpost_tests::WebClient::logged_in(
        &server,
        "coord",
        outpost_server::services::accounts::Role::Coordinator,
        &[SITE_A],
    )
    .await?;
    let limit = Settings::default().max_body_bytes;
    let chunks = limit / (64 * 1024) + 16;
    let upload = web
        .http
        .post(format!("{}/api/v1/dashboard/forms/check", server.url()))
        .header("cookie", web.cookie.clone().unwrap_or_default())
        .header("x-csrf-token", web.csrf.clone().unwrap_or_default())
        .header("content-type", "application/octet-stream")
        .header("content-length", (chunks * 64 * 1024).to_string())
        .body(slow_body(chunks))
        .send()
        .await?;
    assert_eq!(upload.status().as_u16(), 413, "over the body limit, and readable");
    assert_eq!(reqwest::get(format!("{}/healthz", server.url())).await?.status().as_u16(), 200);
    server.stop().await
}
