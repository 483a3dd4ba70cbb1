//! A keep-alive connection stays usable after any answer. hyper closes a connection whose
//! request body the server did not read, without telling the client, whose next request on it
//! then fails. So the answers that need no body (a path or a method this server does not
//! serve) read it, within the body limit, and any response sent before its request's body was
//! read to the end says `Connection: close`.
use crate::error::ApiError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, Uri, Version};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// A request body that notes when it has been read to its end.
struct Tracked {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The outermost layer: `Connection: close` on a response to an HTTP/1 request whose body was
/// left unread (too large, or of a handler that takes none).
pub async fn close_unless_read(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = Arc::new(AtomicBool::new(body.is_end_stream()));
    let http1 = matches!(parts.version, Version::HTTP_10 | Version::HTTP_11);
    let request = Request::from_parts(parts, Body::new(Tracked { inner: body, read: read.clone() }));
    let mut response = next.run(request).await;
    if http1 && !read.load(Ordering::Relaxed) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// 404 for a path this server does not serve, once its body is read.
pub async fn unknown_path(_body: Result<Bytes, BytesRejection>) -> ApiError {
    ApiError::UnknownPath
}

/// 405 for a method the path does not take, once its body is read; a function takes no
/// write of a table's (PostgREST's `PGRST101`).
pub async fn unsupported_method(method: Method, uri: Uri, _body: Result<Bytes, BytesRejection>) -> ApiError {
    let writes_a_table = matches!(method, Method::PUT | Method::PATCH | Method::DELETE);
    match uri.path().starts_with("/rpc/") && writes_a_table {
        true => ApiError::RpcMethod(method.to_string()),
        false => ApiError::UnsupportedMethod(method.to_string()),
    }
}
