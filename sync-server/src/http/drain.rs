//! Early replies a client can read. A handler may answer before reading the request's body: a
//! push with an expired token is refused by its extractor, a body over the limit by its
//! `Content-Length`. Closing the connection then would reset it while the client is still
//! sending, and the client would see a broken connection instead of the reply (a tablet would
//! retry for ever instead of re-enrolling on `token_expired`). So the body is handed to the
//! handler through a shared slot, and whatever it left unread is read and thrown away before the
//! reply goes out, up to [`drain_cap`] bytes and [`DRAIN_TIME`]; beyond that the connection is
//! closed as before (a client sending that much is not one of ours).

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The longest the server keeps reading a body nobody needs.
pub const DRAIN_TIME: Duration = Duration::from_secs(30);

/// The most bytes of an unread body read and thrown away: twice the body limit, so an upload a
/// little over the limit still gets its `413`.
pub fn drain_cap(body_limit: usize) -> usize {
    body_limit.saturating_mul(2)
}

/// The request body as the handler sees it, read from the slot the middleware keeps.
struct SharedBody(Arc<Mutex<Option<Body>>>);

impl HttpBody for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut slot = match self.0.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        match slot.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self.0.lock() {
            Ok(slot) => slot.as_ref().map(HttpBody::size_hint).unwrap_or_default(),
            Err(_) => SizeHint::default(),
        }
    }
}

/// The middleware: runs the handler over a shared body, then reads what it left unread.
pub async fn drain_unread_body(State(body_limit): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let slot = Arc::new(Mutex::new(Some(body)));
    let response = next.run(Request::from_parts(parts, Body::new(SharedBody(slot.clone())))).await;
    let rest = match slot.lock() {
        Ok(mut slot) => slot.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    if let Some(mut body) = rest {
        let cap = drain_cap(body_limit);
        let drain = async {
            let mut read = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                read += frame.data_ref().map_or(0, Bytes::len);
                if read > cap {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    }
    response
}
