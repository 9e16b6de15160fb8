//! Compressed bodies, both ways. Tablets sync over 2G and 3G, and a pull page or a push batch
//! is a thousand records of the same shape, which zstd shrinks several times over.
//!
//! * Replies are compressed (zstd or gzip) when the client asks with `Accept-Encoding`, the
//!   usual negotiation: an old client that does not ask gets plain JSON as before.
//! * Request bodies may be sent with `Content-Encoding: zstd` or `gzip`; every reply says so
//!   with `Accept-Encoding: zstd, gzip` (RFC 7694), which is how a tablet learns that it may
//!   compress. Any other coding is refused with `415 unsupported_encoding` before the body is
//!   read. The body limit applies to the decompressed body (the extractors count what the
//!   decoder yields), so a small compressed body cannot unpack into more than the limit.

use crate::http::error::ApiError;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What the server accepts in `Content-Encoding`, as advertised in `Accept-Encoding` replies.
pub const ACCEPTED_REQUEST_ENCODINGS: &str = "zstd, gzip";

/// The codings a request body may use (besides none).
const DECODED: [&str; 3] = ["zstd", "gzip", "identity"];

/// Refuses a request body in a coding the server cannot decode, with a message saying which it
/// can; lets the rest through to the decoder.
pub async fn refuse_unknown_encoding(request: Request, next: Next) -> Response {
    let refused = request.headers().get_all(header::CONTENT_ENCODING).iter().find_map(|value| {
        let text = value.to_str().unwrap_or("?");
        text.split(',')
            .map(|coding| coding.trim().to_ascii_lowercase())
            .find(|coding| !DECODED.contains(&coding.as_str()))
            .map(|coding| if coding.is_empty() { text.to_string() } else { coding })
    });
    match refused {
        Some(coding) => {
            let mut response = ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_encoding",
                format!(
                    "the body is sent with Content-Encoding {coding:?}, which this server cannot decode: send it uncompressed, or compressed with zstd or gzip"
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::ACCEPT_ENCODING, HeaderValue::from_static(ACCEPTED_REQUEST_ENCODINGS));
            response
        }
        None => next.run(request).await,
    }
}
