//! Every way a request can fail, and its HTTP status, in one place: the resources' and the access check's
//! own errors map here.

use std::fmt;

use crate::access::limits::{Limit, PERIOD_SECONDS};
use crate::access::{AccessError, AuthError};
use crate::http::routing::Route;
use crate::ingest::webhook::BodyError;
use crate::ingest::IngestError;
use crate::platform::PlatformError;
use crate::report::answer_size::TooBig;
use crate::report::parameters::ParamError;
use crate::report::ReportError;

/// The 413's message (`MAX_BODY_BYTES`, in MiB: a test ties the two).
const PAYLOAD_TOO_LARGE: &str = "Request body too large: a webhook may send at most 10 MiB";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// Bad percent-encoding, or bytes that are not UTF-8 once decoded.
    MalformedQuery,
    BadRequest(ParamError),
    /// An answer too big to hold (400).
    TooBig(TooBig),
    /// A webhook body that can never be counted (400).
    BadBody(BodyError),
    /// A body that is not UTF-8 text (400).
    NotUtf8,
    /// A body longer than a webhook may send (413).
    PayloadTooLarge,
    Auth(AuthError),
    NotFound,
    MethodNotAllowed(Route),
    /// Over a rate limit (429).
    RateLimited(Limit),
    /// Something on our side failed; the detail is logged, never sent.
    Internal(String),
    /// A call we could not accept durably (503: its sender tries again); the detail is logged.
    Unavailable(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::MalformedQuery
            | ApiError::BadRequest(_)
            | ApiError::TooBig(_)
            | ApiError::BadBody(_)
            | ApiError::NotUtf8 => 400,
            ApiError::PayloadTooLarge => 413,
            ApiError::Unavailable(_) => 503,
            ApiError::Auth(auth) => auth.status(),
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::RateLimited(_) => 429,
            ApiError::Internal(_) => 500,
        }
    }

    /// The `message` of the error envelope. `request_id` lets a caller quote a 500 to the operators.
    pub fn public_message(&self, request_id: &str) -> String {
        match self {
            ApiError::MalformedQuery => {
                "The query string is malformed: it has an invalid percent-encoding or is not UTF-8".to_owned()
            }
            ApiError::BadRequest(param) => param.to_string(),
            ApiError::TooBig(too_big) => too_big.to_string(),
            ApiError::BadBody(error) => error.to_string(),
            ApiError::NotUtf8 => "Invalid body: expected UTF-8 text".to_owned(),
            ApiError::PayloadTooLarge => PAYLOAD_TOO_LARGE.to_owned(),
            ApiError::Unavailable(_) => {
                format!("The call was not accepted (request id {request_id}): send it again")
            }
            ApiError::Auth(auth) => auth.to_string(),
            ApiError::NotFound => "Not found".to_owned(),
            ApiError::MethodNotAllowed(route) => {
                format!("Method not allowed; use {}", route.allow())
            }
            ApiError::RateLimited(limit) => limit.message(),
            ApiError::Internal(_) => format!("Internal server error (request id {request_id})"),
        }
    }

    /// Headers the status calls for: `WWW-Authenticate` on 401/403, `Allow` on 405, `Retry-After` on 429.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::Auth(auth) => vec![("WWW-Authenticate", auth.challenge().to_owned())],
            ApiError::MethodNotAllowed(route) => vec![("Allow", route.allow().to_owned())],
            ApiError::RateLimited(_) => vec![("Retry-After", PERIOD_SECONDS.to_string())],
            ApiError::Unavailable(_) => vec![("Retry-After", "1".to_owned())],
            _ => Vec::new(),
        }
    }

    /// What the operators need to see in the log, and the caller must not.
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            ApiError::Internal(detail)
            | ApiError::Unavailable(detail)
            | ApiError::Auth(AuthError::UnreadableRecord(detail)) => Some(detail),
            _ => None,
        }
    }

    pub fn internal(context: &str, error: impl fmt::Display) -> Self {
        ApiError::Internal(format!("{context}: {error}"))
    }
}

impl From<ParamError> for ApiError {
    fn from(error: ParamError) -> Self {
        ApiError::BadRequest(error)
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        ApiError::Auth(error)
    }
}

impl From<PlatformError> for ApiError {
    fn from(error: PlatformError) -> Self {
        ApiError::Internal(error.0)
    }
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::Auth(auth) => ApiError::Auth(auth),
            AccessError::RateLimited(limit) => ApiError::RateLimited(limit),
            AccessError::Platform(platform) => platform.into(),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Body(body) => ApiError::BadBody(body),
            IngestError::Queue(queue) => ApiError::Unavailable(queue.0),
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::Parameters(param) => ApiError::BadRequest(param),
            ReportError::TooBig(too_big) => ApiError::TooBig(too_big),
            ReportError::Rows(detail) => ApiError::Internal(detail),
            ReportError::Platform(platform) => platform.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_each_error_to_its_status() {
        assert_eq!(ApiError::from(ParamError::EmptyRange).status(), 400);
        assert_eq!(ApiError::from(AuthError::UnknownKey).status(), 401);
        assert_eq!(ApiError::from(AuthError::InsufficientRole(crate::access::Role::SuperAdmin)).status(), 403);
        assert_eq!(ApiError::MalformedQuery.status(), 400);
        assert_eq!(ApiError::NotFound.status(), 404);
        assert_eq!(
            ApiError::MethodNotAllowed(Route::CallsByPhoneNumber).status(),
            405
        );
        assert_eq!(ApiError::RateLimited(Limit::ClientIp).status(), 429);
        assert_eq!(ApiError::Internal("boom".into()).status(), 500);
    }

    #[test]
    fn the_413_says_how_much_a_webhook_may_send() {
        use crate::ingest::MAX_BODY_BYTES;
        assert_eq!(ApiError::PayloadTooLarge.status(), 413);
        assert!(PAYLOAD_TOO_LARGE.ends_with(&format!("at most {} MiB", MAX_BODY_BYTES >> 20)));
        assert_eq!(MAX_BODY_BYTES % (1 << 20), 0);
    }

    #[test]
    fn never_sends_internal_detail() {
        let error = ApiError::internal("D1 query failed", "no such table: calls");
        let message = error.public_message("req-1");
        assert_eq!(message, "Internal server error (request id req-1)");
        assert_eq!(
            error.log_detail(),
            Some("D1 query failed: no such table: calls")
        );
        let unreadable = ApiError::Auth(AuthError::UnreadableRecord("not JSON".into()));
        assert_eq!(unreadable.public_message("r"), "Invalid API key");
        assert_eq!(unreadable.log_detail(), Some("not JSON"));
    }

    #[test]
    fn adds_the_headers_the_status_calls_for() {
        assert_eq!(
            ApiError::from(AuthError::MissingCredentials).headers(),
            vec![("WWW-Authenticate", "Bearer".to_owned())]
        );
        assert_eq!(
            ApiError::MethodNotAllowed(Route::CallsByPhoneNumber).headers(),
            vec![("Allow", "GET, OPTIONS".to_owned())]
        );
        assert_eq!(
            ApiError::RateLimited(Limit::ApiKey).headers(),
            vec![("Retry-After", "60".to_owned())]
        );
        assert!(ApiError::NotFound.headers().is_empty());
    }
}
