//! The `{success, message, data}` envelope and the headers every response carries.

use serde::Serialize;

use crate::cors;
use crate::error::ApiError;
use crate::params::ReportRequest;
use crate::report::PhoneNumberRow;

pub const SUCCESS_MESSAGE: &str = "Calls by phone number fetched successfully";

/// A response before it meets the runtime: status, headers and an optional body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    success: bool,
    message: &'a str,
    data: Option<T>,
}

/// `data` of a successful answer: the rows, and the range and filter that produced them.
#[derive(Debug, Serialize)]
pub struct ReportData<'a> {
    pub phone_numbers: Vec<PhoneNumberRow>,
    pub start_date: String,
    pub end_date: String,
    pub user_email: Option<&'a str>,
}

impl<'a> ReportData<'a> {
    pub fn new(request: &'a ReportRequest, phone_numbers: Vec<PhoneNumberRow>) -> Self {
        Self {
            phone_numbers,
            start_date: request.range.start_rfc3339(),
            end_date: request.range.end_rfc3339(),
            user_email: request.user_email.as_ref().map(|email| email.as_str()),
        }
    }
}

fn json<T: Serialize>(envelope: &Envelope<T>) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string(envelope).expect("envelope serializes")
}

impl Reply {
    pub fn report(data: &ReportData) -> Self {
        let body = json(&Envelope {
            success: true,
            message: SUCCESS_MESSAGE,
            data: Some(data),
        });
        Self {
            status: 200,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn error(error: &ApiError, request_id: &str) -> Self {
        let message = error.public_message(request_id);
        let body = json(&Envelope::<()> {
            success: false,
            message: &message,
            data: None,
        });
        Self {
            status: error.status(),
            headers: error.headers(),
            body: Some(body),
        }
    }

    /// A JSON document served as is (the OpenAPI document).
    pub fn document(json: &'static str) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body: Some(json.to_owned()),
        }
    }

    /// The diagnostics route's answer: the size of the wasm instance's linear memory, which only grows, so
    /// that a soak run can tell whether the worker's own memory grows under load.
    pub fn diagnostic(wasm_memory_bytes: u64) -> Self {
        #[derive(Serialize)]
        struct Memory {
            wasm_memory_bytes: u64,
        }
        let data = Memory { wasm_memory_bytes };
        let body = json(&Envelope {
            success: true,
            message: "static",
            data: Some(data),
        });
        Self {
            status: 200,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// The answer to a CORS preflight: the allowed method and header, for any origin the policy admits.
    pub fn preflight() -> Self {
        Self {
            status: 204,
            headers: vec![
                (
                    "Access-Control-Allow-Methods",
                    cors::ALLOW_METHODS.to_owned(),
                ),
                (
                    "Access-Control-Allow-Headers",
                    cors::ALLOW_HEADERS.to_owned(),
                ),
                ("Access-Control-Max-Age", cors::MAX_AGE_SECONDS.to_owned()),
            ],
            body: None,
        }
    }

    /// Adds what every response carries: the JSON content type, `no-store`, the request id, `Vary: Origin`,
    /// and, for an allowed origin, `Access-Control-Allow-Origin`.
    pub fn finish(mut self, request_id: &str, allow_origin: Option<String>) -> Self {
        self.headers.extend([
            ("Content-Type", "application/json".to_owned()),
            ("Cache-Control", "no-store".to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
            ("X-Request-Id", request_id.to_owned()),
            ("Vary", "Origin".to_owned()),
        ]);
        if let Some(origin) = allow_origin {
            self.headers.push(("Access-Control-Allow-Origin", origin));
            self.headers.push((
                "Access-Control-Expose-Headers",
                cors::EXPOSE_HEADERS.to_owned(),
            ));
        }
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthError;
    use crate::params::ParamError;

    fn body(reply: &Reply) -> serde_json::Value {
        serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn wraps_the_report_in_the_spec_envelope() {
        let request =
            ReportRequest::from_query("user_email=Alice@Example.com", 1_793_491_200_000).unwrap();
        let rows = vec![PhoneNumberRow {
            phone_number: "+919876543210".into(),
            total_calls: 45,
            total_duration_minutes: 202.5,
            total_duration_hours: 3.38,
        }];
        let reply = Reply::report(&ReportData::new(&request, rows));
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body.as_deref().unwrap(),
            concat!(
                r#"{"success":true,"message":"Calls by phone number fetched successfully","data":{"#,
                r#""phone_numbers":[{"phone_number":"+919876543210","total_calls":45,"#,
                r#""total_duration_minutes":202.5,"total_duration_hours":3.38}],"#,
                r#""start_date":"2026-10-02T00:00:00.000Z","end_date":"2026-11-01T00:00:00.000Z","#,
                r#""user_email":"Alice@Example.com"}}"#
            )
        );
    }

    #[test]
    fn errors_use_the_same_envelope_with_null_data() {
        let reply = Reply::error(&ApiError::from(ParamError::InvalidEmail), "r1");
        assert_eq!(reply.status, 400);
        assert_eq!(
            body(&reply),
            serde_json::json!({
                "success": false,
                "message": "Invalid user_email: expected an email address such as alice@example.com (in a URL, write a + in the address as %2B: an unencoded + reads as a space)",
                "data": null
            })
        );
        let reply = Reply::error(&ApiError::from(AuthError::UnknownKey), "r1");
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\"")
        );
    }

    #[test]
    fn escapes_whatever_it_echoes() {
        let reply = Reply::error(&ApiError::Internal("<script>\"\u{7}".into()), "id\"<x>");
        let text = reply.body.unwrap();
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.contains(r#"request id id\"<x>"#), "{text}");
    }

    #[test]
    fn every_response_carries_the_common_headers() {
        let reply = Reply::error(&ApiError::NotFound, "r2").finish("r2", None);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("x-request-id"), Some("r2"));
        assert_eq!(reply.header("vary"), Some("Origin"));
        assert_eq!(reply.header("access-control-allow-origin"), None);
        let reply = Reply::preflight().finish("r3", Some("https://a.io".into()));
        assert_eq!(reply.status, 204);
        assert_eq!(reply.body, None);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://a.io")
        );
        assert_eq!(
            reply.header("access-control-allow-headers"),
            Some("Authorization")
        );
        assert_eq!(
            reply.header("access-control-allow-methods"),
            Some("GET, OPTIONS")
        );
    }
}
