//! Which kind of request FC (or an HTTP-trigger caller) sent.
//!
//! Routing looks at the method and path first, then at FC's `x-fc-control-path` header: FC 3.0
//! sends event invocations to `POST /invoke`, but the header is the documented signal and is
//! kept as a fallback. An `x-fc-base-path` prefix (FC 2.0's
//! `/2016-08-15/proxy/<service>/<function>/`) is stripped first when the path starts with it.

use hyper::header::HeaderMap;
use hyper::Method;

/// A request kind. Each has one handler function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /invoke`: an event invocation (console Test, SDK, timer trigger).
    Invoke,
    /// `POST /initialize`: the initializer hook.
    Initialize,
    /// `GET /pre-stop`: the pre-stop hook.
    PreStop,
    /// `GET /pre-freeze`: FC 2.0's pre-freeze hook.
    PreFreeze,
    /// `GET|HEAD /healthz`: liveness for FC's health check.
    Healthz,
    /// `GET|POST /probe`: an HTTP-trigger probe.
    Probe,
    /// `GET /metrics`: the process's counters, in the Prometheus text format.
    Metrics,
    /// Anything else.
    NotFound,
}

impl Route {
    /// Routes a request head.
    pub(crate) fn of(method: &Method, path: &str, headers: &HeaderMap) -> Self {
        let path = strip_base_path(path, header(headers, "x-fc-base-path"));
        // `/probe/` is the same resource as `/probe`; callers add the slash by habit.
        let path = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p,
            _ => path,
        };
        let by_path = match (method, path) {
            (&Method::POST, "/invoke") => Self::Invoke,
            (&Method::POST, "/initialize") => Self::Initialize,
            (&Method::GET, "/pre-stop") => Self::PreStop,
            (&Method::GET, "/pre-freeze") => Self::PreFreeze,
            (&Method::GET | &Method::HEAD, "/healthz") => Self::Healthz,
            (&Method::GET | &Method::POST, "/probe") => Self::Probe,
            (&Method::GET, "/metrics") => Self::Metrics,
            _ => Self::NotFound,
        };
        if by_path != Self::NotFound {
            return by_path;
        }
        match header(headers, "x-fc-control-path") {
            Some("/invoke") if method == Method::POST => Self::Invoke,
            Some("/initialize") if method == Method::POST => Self::Initialize,
            _ => Self::NotFound,
        }
    }

    /// True for the routes FC uses for event invocations, whose errors are signalled with
    /// 404 + `x-fc-status: 404`.
    pub(crate) fn is_event_invocation(self) -> bool {
        self == Self::Invoke
    }

    /// A short, stable name for logs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Invoke => "invoke",
            Self::Initialize => "initialize",
            Self::PreStop => "pre-stop",
            Self::PreFreeze => "pre-freeze",
            Self::Healthz => "healthz",
            Self::Probe => "probe",
            Self::Metrics => "metrics",
            Self::NotFound => "not-found",
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Strips `base` from the front of `path` when `path` starts with it, keeping a leading `/`.
fn strip_base_path<'a>(path: &'a str, base: Option<&str>) -> &'a str {
    let Some(base) = base.map(|b| b.trim_end_matches('/')) else {
        return path;
    };
    if base.is_empty() {
        return path;
    }
    match path.strip_prefix(base) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        // `/proxyX` does not start with the base `/proxy`: only whole segments count.
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn route(method: Method, path: &str, headers: &[(&'static str, &'static str)]) -> Route {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        Route::of(&method, path, &map)
    }

    #[test]
    fn routes_on_method_and_path() {
        assert_eq!(route(Method::POST, "/invoke", &[]), Route::Invoke);
        assert_eq!(route(Method::POST, "/initialize", &[]), Route::Initialize);
        assert_eq!(route(Method::GET, "/pre-stop", &[]), Route::PreStop);
        assert_eq!(route(Method::GET, "/pre-freeze", &[]), Route::PreFreeze);
        assert_eq!(route(Method::GET, "/healthz", &[]), Route::Healthz);
        assert_eq!(route(Method::GET, "/probe", &[]), Route::Probe);
        assert_eq!(route(Method::POST, "/probe/", &[]), Route::Probe);
        assert_eq!(route(Method::GET, "/metrics", &[]), Route::Metrics);
        assert_eq!(route(Method::POST, "/metrics", &[]), Route::NotFound);
        assert_eq!(route(Method::GET, "/invoke", &[]), Route::NotFound);
        assert_eq!(route(Method::DELETE, "/probe", &[]), Route::NotFound);
        assert_eq!(route(Method::GET, "/", &[]), Route::NotFound);
    }

    #[test]
    fn falls_back_to_control_path() {
        let h = [("x-fc-control-path", "/invoke")];
        assert_eq!(route(Method::POST, "/", &h), Route::Invoke);
        let h = [("x-fc-control-path", "/initialize")];
        assert_eq!(route(Method::POST, "/anything", &h), Route::Initialize);
        // An HTTP-trigger request is routed by its own path.
        let h = [("x-fc-control-path", "/http-invoke")];
        assert_eq!(route(Method::GET, "/probe", &h), Route::Probe);
        assert_eq!(route(Method::GET, "/other", &h), Route::NotFound);
    }

    #[test]
    fn strips_base_path_by_whole_segments() {
        let base = [("x-fc-base-path", "/2016-08-15/proxy/svc/fn/")];
        assert_eq!(
            route(Method::GET, "/2016-08-15/proxy/svc/fn/probe", &base),
            Route::Probe
        );
        assert_eq!(route(Method::GET, "/probe", &base), Route::Probe);
        assert_eq!(strip_base_path("/a/bc", Some("/a/b")), "/a/bc");
        assert_eq!(strip_base_path("/a/b", Some("/a/b/")), "/");
        assert_eq!(strip_base_path("/x", Some("/")), "/x");
    }
}
