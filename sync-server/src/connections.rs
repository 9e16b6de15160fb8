//! Accepting connections, with the limits that keep a few slow or idle clients from taking the
//! server down:
//!
//! * **header read timeout**: a request's headers must arrive within it, and a kept-alive
//!   connection waiting for its next request is closed after it (hyper's own timer);
//! * **idle timeout**: a connection that moves no byte either way for this long while none of
//!   its requests is being handled (a client that stopped reading its reply) is closed;
//! * **connection limit**: at most this many connections are open; further ones wait in the
//!   kernel's queue until one closes, and the server says so once in its log each time the
//!   limit is reached.
//!
//! The request timeout (an answer within a time, bodies included) is the router's
//! ([`crate::http::app`]); the open-file limit is raised at start by [`raise_open_file_limit`].

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// File descriptors kept free for the database, the log and the dashboard's files.
const RESERVED_FILES: u64 = 64;

/// How long a shutdown waits for requests in flight before it closes their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Raises the process's soft open-file limit to its hard limit where the system allows it, and
/// returns the limit in effect (`None` where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft)
        }
    }
}

/// The connection limit that fits in `open_files` (keeping some for the server's own files).
pub fn fitting_limit(wanted: usize, open_files: Option<u64>) -> usize {
    let Some(files) = open_files else { return wanted };
    let room = usize::try_from(files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX).max(1);
    wanted.min(room)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting and lets requests in flight finish (for a short while).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    // Said once each time the limit is reached, not for every connection that waits.
    let mut at_limit = false;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                at_limit = false;
                slot
            }
            Err(_) => {
                if !at_limit {
                    tracing::warn!(
                        limit = limits.max_connections,
                        "connection limit reached: new connections wait until one closes (see --connection-limit)"
                    );
                }
                at_limit = true;
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.map_err(io::Error::other)?,
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before it was accepted: wait
                    // a little (the next accept would fail the same way at once) and go on.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let busy = Arc::new(AtomicUsize::new(0));
        let io = TokioIo::new(IdleLimited::new(stream, limits.idle_timeout, busy.clone()));
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = Busy::start(busy.clone());
            let reply = router.clone().oneshot(request);
            async move {
                let reply = reply.await;
                drop(busy);
                reply
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true)
            .serve_connection(io, service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}: their connections are closed");
    }
    Ok(())
}

/// Counts a request being handled on its connection while it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn start(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A socket that fails with `TimedOut` once no byte moved either way for `idle` while none of
/// its requests is being handled.
struct IdleLimited {
    inner: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    busy: Arc<AtomicUsize>,
}

impl IdleLimited {
    fn new(inner: TcpStream, idle: Duration, busy: Arc<AtomicUsize>) -> Self {
        Self { inner, idle, deadline: Box::pin(tokio::time::sleep(idle)), busy }
    }

    fn moved(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// Whether the connection has been idle too long (registers the waker otherwise).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        if self.busy.load(Ordering::SeqCst) > 0 {
            // A handler is working: its own timeout applies, not this one.
            self.moved();
            return false;
        }
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn idle_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
}

impl AsyncRead for IdleLimited {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.moved();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(idle_error())),
            other => other,
        }
    }
}

impl IdleLimited {
    /// A write's outcome: bytes written count as movement; waiting counts against the limit.
    fn wrote(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(idle_error())),
            other => other,
        }
    }
}

impl AsyncWrite for IdleLimited {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, data);
        this.wrote(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, data);
        this.wrote(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_leaves_room_for_the_servers_own_files() {
        assert_eq!(fitting_limit(1024, None), 1024);
        assert_eq!(fitting_limit(1024, Some(1_048_576)), 1024);
        assert_eq!(fitting_limit(1024, Some(256)), 192);
        assert_eq!(fitting_limit(1024, Some(10)), 1);
    }
}
