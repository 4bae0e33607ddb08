//! The service boundary: an HTTP request in, an HTTP response out, with the handler behind the
//! layers. The handler is any `Fn(FcRequest) -> impl Future<Output = Reply>`, like
//! `lambda_runtime::service_fn`, so tests can put a different one behind the same layers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

use super::body::ReadLimits;
use super::context;
use super::handler::FcRequest;
use super::layers::{self, RequestLine};
use super::reply::Reply;
use super::routes::Route;

/// A boxed reply future.
pub(crate) type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'static>>;

/// What the layers wrap: one request in, one reply out.
pub(crate) trait Handler: Send + Sync + 'static {
    fn call(&self, req: FcRequest) -> ReplyFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(FcRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    fn call(&self, req: FcRequest) -> ReplyFuture {
        Box::pin(self(req))
    }
}

/// Serves one request through the layers; its body must arrive within `read`.
pub(crate) async fn call<H: Handler + ?Sized>(
    handler: Arc<H>,
    req: Request<Incoming>,
    read: ReadLimits,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let request_id = context::request_id(&parts.headers);
    let route = Route::of(&parts.method, parts.uri.path(), &parts.headers);
    let line = RequestLine::new(&parts.method, parts.uri.path(), route, started);
    let fc_req = FcRequest {
        route,
        request_id: request_id.clone(),
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        read,
    };
    let id = request_id.clone();
    let pipeline = layers::in_request_span(&request_id, async move {
        let handled = handler.call(fc_req);
        layers::fc_markers(
            route,
            &id,
            layers::access_log(line, layers::catch_panic(route, &id, handled)),
        )
        .await
    });
    // The pipeline is a task of its own so that a caller hanging up (hyper then drops this
    // future) does not cut it short: every Start marker gets its End line and every request
    // its log line.
    let reply = match tokio::spawn(pipeline).await {
        Ok(reply) => reply,
        Err(e) => layers::failure(route, &request_id, e.is_panic()),
    };
    reply.into_response()
}
