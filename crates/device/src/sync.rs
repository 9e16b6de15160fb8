//! The sync client: enrolment, push of the outbox, pull of pages, retries with back-off, and
//! progress reporting.
//!
//! Push deletes outbox entries only after the server acknowledged them; pull applies a page and
//! advances the cursor in one local transaction. Both are safe to repeat after any failure:
//! the server ignores operations it has already applied, and a page applied twice changes
//! nothing. A push the server refuses for some operations moves exactly those operations to the
//! device's rejected list and sends the rest again.

use crate::error::StoreError;
use crate::store::{DeviceStore, OutboxBatch};
use outpost_core::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, ErrorDetail, MAX_PULL_LIMIT, MAX_RESTORE_RECORDS, PROTOCOL_HEADER,
    PROTOCOL_VERSION, PullResponse, PushRequest, PushResponse, RestoreRequest, RestoreResponse, UNSENT_HEADER,
};
use reqwest::StatusCode;
use std::sync::Mutex;
use std::time::Duration;
use thiserror::Error;

/// How long an interrupted full resync may be continued where it stopped; after this it starts
/// again from cursor 0. Far below the days a server keeps tombstones (180 by default), so no
/// deletion can be cleaned up between a record's page and the resync's end.
pub const RESYNC_WINDOW_MS: u64 = 7 * 24 * 3600 * 1000;

/// Why a sync stopped. The app shows each with its own message.
#[derive(Debug, Error)]
pub enum SyncError {
    #[error("the server cannot be reached: {0}")]
    Offline(String),
    #[error("the server is busy or failing ({status}): {message}")]
    Server {
        status: u16,
        message: String,
        /// Seconds the server asked the device to wait (`Retry-After`), if it said.
        retry_after_s: Option<u64>,
    },
    #[error("this device's access was revoked or has expired: {message}")]
    Unauthorized {
        /// `device_revoked`, `token_expired`, `invalid_token` or `missing_token`.
        code: String,
        message: String,
    },
    #[error("this app is too old for the server: {0}")]
    AppTooOld(String),
    #[error("the server refused the request ({code}): {message}")]
    Rejected { code: String, message: String },
    #[error("the server refused {} operation(s) of the batch", .0.len())]
    RejectedOps(Vec<ErrorDetail>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the local store is in use by a crashed thread")]
    Poisoned,
}

impl SyncError {
    fn is_transient(&self) -> bool {
        matches!(self, SyncError::Offline(_) | SyncError::Server { .. })
    }
}

/// Tuning for one sync run.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Operations per push request.
    pub push_batch: usize,
    /// Records per pull page.
    pub pull_limit: u32,
    /// Attempts per request before giving up on a transient failure.
    pub max_attempts: u32,
    /// First back-off delay; doubled after each failed attempt, with jitter.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            push_batch: 500,
            pull_limit: MAX_PULL_LIMIT,
            max_attempts: 6,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Which half of a sync is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPhase {
    Push,
    Pull,
}

/// Progress reported to the callback after every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub phase: SyncPhase,
    pub done: u64,
    pub total: u64,
}

/// What one sync run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: u64,
    pub rejected: u64,
    pub pulled: u64,
    pub retries: u32,
    /// The server asked for a full resync and this run did it.
    pub resynced: bool,
    /// Bytes of push request bodies sent, as sent (compressed or not; each batch counted once,
    /// retries not included).
    pub bytes_sent: u64,
    /// Records sent back to a server restored from an older backup that it did not hold as
    /// this device does (0 when the server was not restored).
    pub restored: u64,
}

/// Why a server address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    #[error("the server address starts with https:// (for example https://outpost.example.org)")]
    NotAnAddress,
    #[error(
        "the server address must start with https://: plain http:// would send the tablet's data unencrypted (http:// is allowed only for localhost, when testing)"
    )]
    PlainHttp,
}

/// The server address a tablet may enrol with, trimmed and without a trailing `/`: `https://`,
/// or plain `http://` only to this machine (`localhost`, `127.0.0.1`, `[::1]`: development).
pub fn server_url(text: &str) -> Result<String, ServerUrlError> {
    let url = text.trim().trim_end_matches('/');
    if url.len() > 300 {
        return Err(ServerUrlError::NotAnAddress);
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| ServerUrlError::NotAnAddress)?;
    if parsed.host_str().is_none_or(str::is_empty) || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ServerUrlError::NotAnAddress);
    }
    match parsed.scheme() {
        "https" => Ok(url.to_string()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
            let local = host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if local { Ok(url.to_string()) } else { Err(ServerUrlError::PlainHttp) }
        }
        _ => Err(ServerUrlError::NotAnAddress),
    }
}

/// HTTP client for one server.
#[derive(Clone, Debug)]
pub struct SyncClient {
    http: reqwest::Client,
    base_url: String,
    /// Changes this tablet holds that the server has not accepted (its outbox), told to the
    /// server with each pull (`outpost-unsent`) so the dashboard shows work waiting on tablets.
    unsent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Whether the server decodes zstd request bodies ([`UNKNOWN`], [`DECODES`], [`REFUSED`]):
    /// learnt from the `Accept-Encoding` header of its replies (RFC 7694), so an old server is
    /// never sent a body it cannot read.
    request_coding: std::sync::Arc<std::sync::atomic::AtomicU8>,
}

/// No reply has said yet whether the server decodes zstd request bodies: send them plain.
const UNKNOWN: u8 = 0;
/// The server's replies say it decodes zstd request bodies.
const DECODES: u8 = 1;
/// A compressed body was refused (`415`) although the server said it decodes them (a proxy
/// in between, say): plain bodies from now on, whatever later replies say.
const REFUSED: u8 = 2;

/// Request bodies shorter than this go uncompressed (the saving would not pay for the work).
const COMPRESS_ABOVE: usize = 1024;

/// zstd's level for request bodies: its default, fast on a tablet and several times smaller
/// than the JSON for a batch of records.
const ZSTD_LEVEL: i32 = 3;

/// A request body as it goes on the wire.
#[derive(Clone, Debug)]
pub struct WireBody {
    bytes: bytes::Bytes,
    /// The JSON itself, kept to send again uncompressed if the server refuses the coding.
    plain: bytes::Bytes,
    /// `Some("zstd")` when compressed.
    encoding: Option<&'static str>,
    /// Whether it was made while the client compressed bodies (a body left plain then was too
    /// small or would not shrink).
    made_compressing: bool,
}

impl WireBody {
    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the body is compressed.
    pub fn is_compressed(&self) -> bool {
        self.encoding.is_some()
    }
}

impl SyncClient {
    /// A client for the server at `base_url` (`https://outpost.example.org`).
    pub fn new(base_url: &str) -> Result<Self, SyncError> {
        Self::with_timeout(base_url, Duration::from_secs(60))
    }

    /// A client whose requests give up after `timeout` (a hung connection becomes a retry).
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, SyncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .timeout(timeout)
            .user_agent(concat!("outpost-device/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Offline(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            unsent: Default::default(),
            request_coding: std::sync::Arc::new(std::sync::atomic::AtomicU8::new(UNKNOWN)),
        })
    }

    /// Whether this client compresses request bodies (a reply of the server has said it can
    /// decode them).
    pub fn compresses_requests(&self) -> bool {
        self.request_coding.load(std::sync::atomic::Ordering::Relaxed) == DECODES
    }

    /// `json` as it will be sent: zstd-compressed when the server decodes zstd and the body is
    /// worth compressing, else as is.
    pub fn wire_body(&self, json: impl Into<bytes::Bytes>) -> WireBody {
        let json = json.into();
        let compressing = self.compresses_requests();
        if json.len() > COMPRESS_ABOVE && compressing {
            match zstd::bulk::compress(&json, ZSTD_LEVEL) {
                Ok(packed) if packed.len() < json.len() => {
                    return WireBody {
                        bytes: packed.into(),
                        plain: json,
                        encoding: Some("zstd"),
                        made_compressing: true,
                    };
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not compress a request body; sending it as is"),
            }
        }
        WireBody { bytes: json.clone(), plain: json, encoding: None, made_compressing: compressing }
    }

    /// Posts `body` (JSON) to `path` with the device's token and the protocol headers. A
    /// compressed body refused as `415 unsupported_encoding` (a proxy in front of the server
    /// that does not pass the coding through, say) is sent again uncompressed, and later bodies
    /// go uncompressed.
    async fn post_json<R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &WireBody,
    ) -> Result<R, SyncError> {
        let send = |body: &WireBody| {
            let mut request = self
                .http
                .post(format!("{}{path}", self.base_url))
                .bearer_auth(token)
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .header(UNSENT_HEADER, self.unsent.load(std::sync::atomic::Ordering::Relaxed).to_string())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.bytes.clone());
            if let Some(encoding) = body.encoding {
                request = request.header(reqwest::header::CONTENT_ENCODING, encoding);
            }
            request.send()
        };
        let response = send(body).await.map_err(offline)?;
        if body.is_compressed() && response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            tracing::warn!(path, "the server refused a compressed body; sending it uncompressed");
            self.request_coding.store(REFUSED, std::sync::atomic::Ordering::Relaxed);
            let plain = WireBody {
                bytes: body.plain.clone(),
                plain: body.plain.clone(),
                encoding: None,
                made_compressing: false,
            };
            let response = send(&plain).await.map_err(offline)?;
            return self.decode(response).await;
        }
        self.decode(response).await
    }

    /// Learns from a reply whether the server decodes compressed request bodies, then reads it.
    async fn decode<T: serde::de::DeserializeOwned>(&self, response: reqwest::Response) -> Result<T, SyncError> {
        if let Some(accepted) = response.headers().get(reqwest::header::ACCEPT_ENCODING) {
            let zstd = accepted
                .to_str()
                .unwrap_or_default()
                .split(',')
                .any(|coding| coding.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("zstd"));
            let learnt = if zstd { DECODES } else { UNKNOWN };
            // A refusal stays for the life of this client (the app keeps one until it restarts).
            let _ = self.request_coding.fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |now| (now != REFUSED).then_some(learnt),
            );
        }
        decode(response).await
    }

    /// Exchanges a one-time enrolment code for a device token and saves the enrolment.
    pub async fn enroll(
        &self,
        store: &Mutex<DeviceStore>,
        code: &str,
        device_name: &str,
    ) -> Result<EnrollResponse, SyncError> {
        self.enroll_and_save(store, code, device_name, DeviceStore::save_enrollment).await
    }

    /// Enrols an already used store again (its token expired or was lost), keeping every
    /// record and every operation not yet sent (see [`DeviceStore::re_enroll`]).
    pub async fn re_enroll(
        &self,
        store: &Mutex<DeviceStore>,
        code: &str,
        device_name: &str,
    ) -> Result<EnrollResponse, SyncError> {
        self.enroll_and_save(store, code, device_name, |s, url, e| s.re_enroll(url, e).map(drop)).await
    }

    async fn enroll_and_save(
        &self,
        store: &Mutex<DeviceStore>,
        code: &str,
        device_name: &str,
        save: impl FnOnce(&mut DeviceStore, &str, &EnrollResponse) -> Result<(), StoreError>,
    ) -> Result<EnrollResponse, SyncError> {
        let enrolled = self.request_enrollment(code, device_name).await?;
        save(&mut *store.lock().map_err(|_| SyncError::Poisoned)?, &self.base_url, &enrolled)?;
        Ok(enrolled)
    }

    /// Exchanges a one-time enrolment code for a device identity and token, saving nothing.
    pub async fn request_enrollment(&self, code: &str, device_name: &str) -> Result<EnrollResponse, SyncError> {
        let request = EnrollRequest {
            code: code.trim().to_string(),
            device_name: device_name.to_string(),
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            protocol: PROTOCOL_VERSION,
        };
        let response = self
            .http
            .post(format!("{}/api/v1/enroll", self.base_url))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&request)
            .send()
            .await
            .map_err(offline)?;
        self.decode(response).await
    }

    /// Posts `body` as JSON to the sync endpoint `path` with the device's token.
    async fn post_sync<B: serde::Serialize, R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &B,
    ) -> Result<R, SyncError> {
        let json =
            serde_json::to_vec(body).map_err(|e| SyncError::Offline(format!("could not encode the body: {e}")))?;
        self.post_json(path, token, &self.wire_body(json)).await
    }

    /// Pushes one batch.
    pub async fn push(&self, token: &str, request: &PushRequest) -> Result<PushResponse, SyncError> {
        self.post_sync("/api/v1/sync/push", token, request).await
    }

    /// Pulls one page of changes after `after`.
    pub async fn pull(&self, token: &str, after: u64, limit: u32, resync: bool) -> Result<PullResponse, SyncError> {
        let mut query = vec![("after", after.to_string()), ("limit", limit.to_string())];
        if resync {
            query.push(("resync", "true".to_string()));
        }
        let response = self
            .http
            .get(format!("{}/api/v1/sync/pull", self.base_url))
            .query(&query)
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header(UNSENT_HEADER, self.unsent.load(std::sync::atomic::Ordering::Relaxed).to_string())
            .send()
            .await
            .map_err(offline)?;
        self.decode(response).await
    }

    /// Sends back part of what the device holds to a server restored from an older backup.
    pub async fn restore(&self, token: &str, request: &RestoreRequest) -> Result<RestoreResponse, SyncError> {
        self.post_sync("/api/v1/sync/restore", token, request).await
    }

    /// Sends back everything the device holds (but the server's reference data), page by page,
    /// then starts a full resync. Returns how many records the server did not hold as the
    /// device does.
    async fn send_back(
        &self,
        store: &Mutex<DeviceStore>,
        token: &str,
        options: &SyncOptions,
        report: &mut SyncReport,
    ) -> Result<u64, SyncError> {
        let lock = || store.lock().map_err(|_| SyncError::Poisoned);
        let acked_through = lock()?.acked_through()?;
        // Records of a site the device no longer serves stay here: the server would refuse them.
        let sites: Vec<_> = lock()?.identity().map(|i| i.sites.iter().map(|s| s.id).collect()).unwrap_or_default();
        let mut after = None;
        let mut restored = 0;
        let mut kept = Vec::new();
        loop {
            let page = lock()?.held_records(after.as_ref(), MAX_RESTORE_RECORDS)?;
            let Some(last) = page.last() else { break };
            after = Some((last.collection.clone(), last.record_id));
            let full = page.len() == MAX_RESTORE_RECORDS;
            let mut request = RestoreRequest {
                acked_through,
                records: page.into_iter().filter(|r| sites.contains(&r.site_id)).collect(),
            };
            // A record the server refuses (its rules changed since it was written, say) is left
            // out and the rest sent again: one bad record must not keep the others from the
            // server for ever. Each round leaves at least one out, so this ends.
            while !request.records.is_empty() {
                match self.with_retry(options, report, || self.restore(token, &request)).await {
                    Ok(reply) => {
                        restored += reply.restored;
                        break;
                    }
                    Err(SyncError::RejectedOps(details)) => {
                        let refused: std::collections::BTreeSet<usize> = details.iter().map(|d| d.index).collect();
                        if refused.is_empty() || refused.iter().all(|i| *i >= request.records.len()) {
                            return Err(SyncError::RejectedOps(details));
                        }
                        tracing::warn!(
                            refused = refused.len(),
                            "the server refused records sent back; sending the rest"
                        );
                        report.rejected += refused.len() as u64;
                        let (left_out, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut request.records)
                            .into_iter()
                            .enumerate()
                            .partition(|(i, _)| refused.contains(i));
                        kept.extend(left_out.into_iter().map(|(_, r)| (r.collection, r.record_id)));
                        request.records = rest.into_iter().map(|(_, r)| r).collect();
                    }
                    Err(e) => return Err(e),
                }
            }
            if !full {
                break;
            }
        }
        lock()?.finish_restore(&kept)?;
        tracing::warn!(restored, "sent back what the server had lost; pulling everything again");
        Ok(restored)
    }

    /// Pushes one batch spliced from the outbox (see [`OutboxBatch::request_body`]), as made
    /// ready for the wire by [`SyncClient::wire_body`].
    pub async fn push_body(&self, token: &str, body: &WireBody) -> Result<PushResponse, SyncError> {
        self.post_json("/api/v1/sync/push", token, body).await
    }

    /// The push half of a sync: sends the whole outbox, batch after batch, and removes what
    /// the server acknowledged.
    pub async fn push_outbox(
        &self,
        store: &Mutex<DeviceStore>,
        options: &SyncOptions,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<SyncReport, SyncError> {
        let token = store.lock().map_err(|_| SyncError::Poisoned)?.identity().map(|i| i.token.clone());
        let token = token.ok_or(StoreError::NotEnrolled)?;
        let mut report = SyncReport::default();
        self.push_outbox_with(store, &token, options, &mut report, progress).await?;
        Ok(report)
    }

    /// Pushes batches one at a time, in `op_seq` order: the server takes a device's operations
    /// in order (everything up to its replay mark counts as applied), so a batch is sent only
    /// once the previous one is acknowledged. The local work overlaps the network instead:
    /// while a batch is in flight the previous batch's acknowledgement is written and the next
    /// batch is read from the outbox.
    async fn push_outbox_with(
        &self,
        store: &Mutex<DeviceStore>,
        token: &str,
        options: &SyncOptions,
        report: &mut SyncReport,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<(), SyncError> {
        let lock = || store.lock().map_err(|_| SyncError::Poisoned);
        let limit = options.push_batch.max(1);
        let total = lock()?.pending_count()?;
        let unsent_at_start = lock()?.unsent_count()?;
        self.unsent.store(unsent_at_start, std::sync::atomic::Ordering::Relaxed);
        let mut done = 0;
        progress(Progress { phase: SyncPhase::Push, done, total });
        let mut unacked_local: Option<Vec<u64>> = None;
        let mut next = lock()?.pending_batch(0, limit)?;
        // The next batch's body, compressed while the batch before it was in flight.
        let mut next_body: Option<WireBody> = None;
        while !next.is_empty() {
            let batch = next;
            let body = match next_body.take() {
                // Made before the server's first reply said whether it decodes zstd: made again.
                Some(body) if body.made_compressing != self.compresses_requests() => self.wire_body(body.plain),
                Some(body) => body,
                None => self.wire_body(batch.request_body()),
            };
            report.bytes_sent += body.len() as u64;
            let mut retries = SyncReport::default();
            let local = async {
                if let Some(acked) = unacked_local.take() {
                    lock()?.ack(&acked)?;
                }
                let following = lock()?.pending_batch(batch.last_op_seq(), limit)?;
                let body = (!following.is_empty()).then(|| self.wire_body(following.request_body()));
                Ok::<_, SyncError>((following, body))
            };
            let (reply, following) =
                tokio::join!(self.with_retry(options, &mut retries, || self.push_body(token, &body)), local);
            report.retries += retries.retries;
            match reply {
                Ok(reply) => {
                    if reply.acked.is_empty() {
                        return Err(SyncError::Rejected {
                            code: "no_progress".into(),
                            message: "the server acknowledged nothing".into(),
                        });
                    }
                    report.pushed += reply.acked.len() as u64;
                    done += reply.acked.len() as u64;
                    let left = unsent_at_start.saturating_sub(done);
                    self.unsent.store(left, std::sync::atomic::Ordering::Relaxed);
                    let complete = reply.acked.len() >= batch.len();
                    unacked_local = Some(reply.acked);
                    next = if complete {
                        let (following, body) = following?;
                        next_body = body;
                        following
                    } else {
                        // Not everything was acknowledged: start again from the oldest entry.
                        if let Some(acked) = unacked_local.take() {
                            lock()?.ack(&acked)?;
                        }
                        lock()?.pending_batch(0, limit)?
                    };
                }
                Err(SyncError::RejectedOps(details)) => {
                    // Nothing of the batch was applied. Set the refused operations aside (they
                    // stay visible on the device) and send the rest again.
                    following?;
                    let set_aside = set_aside_refused(&mut *lock()?, &batch, &details)?;
                    report.rejected += set_aside;
                    done += set_aside;
                    next = lock()?.pending_batch(0, limit)?;
                }
                Err(e) => return Err(e),
            }
            progress(Progress { phase: SyncPhase::Push, done, total });
        }
        if let Some(acked) = unacked_local.take() {
            lock()?.ack(&acked)?;
        }
        Ok(())
    }

    /// A full sync: push the whole outbox, then pull until up to date.
    pub async fn sync(
        &self,
        store: &Mutex<DeviceStore>,
        options: &SyncOptions,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<SyncReport, SyncError> {
        let lock = || store.lock().map_err(|_| SyncError::Poisoned);
        let token = lock()?.identity().map(|i| i.token.clone()).ok_or(StoreError::NotEnrolled)?;
        let mut report = SyncReport::default();

        self.push_outbox_with(store, &token, options, &mut report, progress).await?;
        // What is left after the push (refused changes stay until a person looks at them).
        self.unsent.store(lock()?.unsent_count()?, std::sync::atomic::Ordering::Relaxed);

        // A restore that did not finish (the app stopped, the connection broke) is done again.
        if lock()?.restore_pending()? {
            report.restored += self.send_back(store, &token, options, &mut report).await?;
            report.resynced = true;
        }
        // A resync interrupted for long is begun again (see `DeviceStore::resync_fresh`).
        if lock()?.resync_in_progress()? && !lock()?.resync_fresh(RESYNC_WINDOW_MS)? {
            tracing::warn!("a full resync was interrupted for long; starting it again");
            lock()?.begin_resync()?;
            report.resynced = true;
        }
        let mut cursor = lock()?.cursor()?;
        let mut pulled = 0;
        let mut resync_started = false;
        let mut restore_done = false;
        // Read once: only this loop starts a resync (then it sets the flag itself), and pulling
        // acknowledges nothing.
        let mut resyncing = lock()?.resync_in_progress()?;
        let acked = lock()?.acked_through()?;
        // The next page is asked for while this one is applied (see `Prefetch`).
        let mut prefetched: Option<Prefetch> = None;
        loop {
            let fetched = match prefetched.take() {
                Some(prefetch) => prefetch.finish(&mut report).await,
                None => {
                    self.with_retry(options, &mut report, || self.pull(&token, cursor, options.pull_limit, resyncing))
                        .await
                }
            };
            let page = match fetched {
                // The server cleaned up deletions this device has not seen: pull everything
                // again and drop what the server no longer has (once per run).
                Err(SyncError::Rejected { code, .. }) if code == "resync_required" && !resync_started => {
                    tracing::warn!(cursor, "the server asks for a full resync");
                    lock()?.begin_resync()?;
                    resync_started = true;
                    resyncing = true;
                    report.resynced = true;
                    cursor = 0;
                    continue;
                }
                other => other?,
            };
            // The server holds fewer of this device's operations than it acknowledged: it was
            // restored from an older backup. Send back what it lost, then pull everything again.
            if let Some(mark) = page.applied_through
                && mark < acked
                && !restore_done
            {
                tracing::warn!(mark, acked, "the server was restored from an older backup");
                lock()?.begin_restore()?;
                report.restored += self.send_back(store, &token, options, &mut report).await?;
                report.resynced = true;
                restore_done = true;
                resyncing = true;
                cursor = 0;
                pulled = 0;
                continue;
            }
            if page.has_more {
                prefetched = Some(Prefetch::start(self, options, &token, page.next_cursor, resyncing));
            }
            lock()?.apply_pull(&page)?;
            pulled += page.records.len() as u64;
            cursor = page.next_cursor;
            progress(Progress { phase: SyncPhase::Pull, done: pulled, total: pulled + page.remaining });
            if !page.has_more {
                break;
            }
        }
        report.pulled = pulled;
        lock()?.mark_synced()?;
        Ok(report)
    }

    async fn with_retry<T, F, Fut>(
        &self,
        options: &SyncOptions,
        report: &mut SyncReport,
        mut call: F,
    ) -> Result<T, SyncError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SyncError>>,
    {
        let mut delay = options.initial_backoff;
        let mut attempt = 1;
        loop {
            match call().await {
                Err(e) if e.is_transient() && attempt < options.max_attempts => {
                    tracing::info!(attempt, error = %e, "sync request failed, retrying");
                    report.retries += 1;
                    attempt += 1;
                    // A busy server says how long to wait (`Retry-After`, at most the longest
                    // backoff); the jitter spreads a crowd refused at the same moment.
                    let asked = match &e {
                        SyncError::Server { retry_after_s: Some(s), .. } => {
                            Duration::from_secs(*s).min(options.max_backoff)
                        }
                        _ => Duration::ZERO,
                    };
                    let wait = delay.max(asked);
                    let jitter = Duration::from_millis(rand::random::<u64>() % (wait.as_millis() as u64 / 2 + 1));
                    tokio::time::sleep(wait + jitter).await;
                    delay = (delay * 2).min(options.max_backoff);
                }
                other => return other,
            }
        }
    }
}

/// The next pull page, asked for while the device applies the current one: the server's work,
/// the network and decoding the reply overlap the device's encrypted writes instead of
/// following them. Only a read is sent early: the cursor moves only when a page is applied, so
/// a page fetched but never applied (the apply failed, the sync was stopped) is asked for again
/// next time. Dropped unfinished, the request is cancelled.
struct Prefetch {
    task: tokio::task::JoinHandle<(Result<PullResponse, SyncError>, u32)>,
}

impl Prefetch {
    fn start(client: &SyncClient, options: &SyncOptions, token: &str, after: u64, resync: bool) -> Self {
        let (client, options, token) = (client.clone(), options.clone(), token.to_string());
        let task = tokio::spawn(async move {
            let mut report = SyncReport::default();
            let page = client
                .with_retry(&options, &mut report, || client.pull(&token, after, options.pull_limit, resync))
                .await;
            (page, report.retries)
        });
        Self { task }
    }

    /// The page (or the error that ended its retries), its retries counted into `report`.
    async fn finish(mut self, report: &mut SyncReport) -> Result<PullResponse, SyncError> {
        let (page, retries) = match (&mut self.task).await {
            Ok(done) => done,
            // A bug, not a network failure: let it be seen as one.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => return Err(SyncError::Offline(format!("pull stopped: {e}"))),
        };
        report.retries += retries;
        page
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Moves the operations a refused batch names to the rejected list; how many were moved.
fn set_aside_refused(store: &mut DeviceStore, batch: &OutboxBatch, details: &[ErrorDetail]) -> Result<u64, SyncError> {
    let mut by_op: std::collections::BTreeMap<usize, Vec<&ErrorDetail>> = Default::default();
    for detail in details {
        by_op.entry(detail.index).or_default().push(detail);
    }
    let mut set_aside = 0;
    for (index, problems) in by_op {
        if let Some(op_seq) = batch.op_seqs.get(index) {
            let code = problems.first().map_or("refused", |d| d.code.as_str());
            let message = problems
                .iter()
                .map(|d| match &d.field {
                    Some(field) => format!("{field}: {}", d.message),
                    None => d.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ");
            store.quarantine(*op_seq, code, &message)?;
            set_aside += 1;
        }
    }
    if set_aside == 0 {
        return Err(SyncError::Rejected {
            code: "invalid_batch".into(),
            message: "the server refused the batch without naming an operation".into(),
        });
    }
    Ok(set_aside)
}

fn offline(e: reqwest::Error) -> SyncError {
    SyncError::Offline(e.to_string())
}

async fn decode<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, SyncError> {
    let status = response.status();
    let retry_after_s = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if status.is_success() {
        return response.json().await.map_err(|e| SyncError::Offline(format!("reply cut or unreadable: {e}")));
    }
    let body: Option<ErrorBody> = response.json().await.ok();
    let (code, message) = body
        .as_ref()
        .map_or_else(|| (String::from("unknown"), status.to_string()), |b| (b.code.clone(), b.message.clone()));
    Err(match (status, body) {
        (s, Some(body)) if s.is_client_error() && !body.details.is_empty() => SyncError::RejectedOps(body.details),
        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => SyncError::Unauthorized { code, message },
        (StatusCode::UPGRADE_REQUIRED, _) => SyncError::AppTooOld(message),
        (StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT, _) => {
            SyncError::Server { status: status.as_u16(), message, retry_after_s }
        }
        (s, _) if s.is_server_error() => SyncError::Server { status: s.as_u16(), message, retry_after_s },
        (_, _) => SyncError::Rejected { code, message },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_address_is_https_or_this_machine() {
        for ok in [
            "https://outpost.example.org",
            " https://outpost.example.org/ ",
            "https://10.0.0.5:8443",
            "http://localhost:8080",
            "http://127.0.0.1:41234",
            "http://[::1]:8080",
        ] {
            assert!(server_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(server_url("https://outpost.example.org/").as_deref(), Ok("https://outpost.example.org"));
        for (bad, why) in [
            ("http://outpost.example.org", ServerUrlError::PlainHttp),
            ("http://192.168.1.10:8080", ServerUrlError::PlainHttp),
            ("http://localhost.evil.org", ServerUrlError::PlainHttp),
            ("outpost.example.org", ServerUrlError::NotAnAddress),
            ("ftp://outpost.example.org", ServerUrlError::NotAnAddress),
            ("https://user:pw@outpost.example.org", ServerUrlError::NotAnAddress),
            ("https://", ServerUrlError::NotAnAddress),
        ] {
            assert_eq!(server_url(bad), Err(why), "{bad}");
        }
        assert_eq!(server_url(&format!("https://{}.org", "a".repeat(300))), Err(ServerUrlError::NotAnAddress));
    }
}
