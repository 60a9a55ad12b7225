//! The `{success, message, data}` envelope and the headers every response carries.

use serde::Serialize;

use crate::http::cors;
use crate::http::error::ApiError;

/// A response before it meets the runtime: status, headers and an optional body.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// What every API response forbids a browser to do with it: run, embed or frame anything.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

fn json<T: Serialize>(envelope: &Envelope<T>) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string(envelope).unwrap_or_default()
}

impl Reply {
    /// A success: `{"success": true, "message", "data"}`.
    pub fn success<T: Serialize>(message: &str, data: &T) -> Self {
        let body = json(&Envelope {
            success: true,
            message,
            data: Some(data),
        });
        Self {
            status: 200,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// A 202: accepted, the work to follow (`{"success": true, "message", "data"}`).
    pub fn accepted<T: Serialize>(message: &str, data: &T) -> Self {
        Self { status: 202, ..Self::success(message, data) }
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
    pub fn document(json: String) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body: Some(json),
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
    /// a policy that lets nothing run or frame it, and, for an allowed origin, `Access-Control-Allow-Origin`.
    pub fn finish(mut self, request_id: &str, allow_origin: Option<String>) -> Self {
        self.headers.extend([
            ("Content-Type", "application/json".to_owned()),
            ("Cache-Control", "no-store".to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
            (
                "Content-Security-Policy",
                CONTENT_SECURITY_POLICY.to_owned(),
            ),
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

    /// This reply as JSON `{"status", "headers": [[name, value]...], "body"}`, the form in which
    /// `src/worker.mjs` holds a request's prepared answer to a panic.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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
    use crate::access::AuthError;
    use crate::report::parameters::ParamError;

    fn body(reply: &Reply) -> serde_json::Value {
        serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn wraps_data_in_the_envelope() {
        let reply = Reply::success("done", &serde_json::json!({ "n": 1 }));
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body.as_deref().unwrap(),
            r#"{"success":true,"message":"done","data":{"n":1}}"#
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
        assert_eq!(
            reply.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'")
        );
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

    #[test]
    fn serializes_for_the_panic_wrapper() {
        let reply = Reply::error(&ApiError::Internal("x".into()), "r4").finish("r4", None);
        let value: serde_json::Value = serde_json::from_str(&reply.to_json()).unwrap();
        assert_eq!(value["status"], 500);
        assert_eq!(value["headers"][0], serde_json::json!(["Content-Type", "application/json"]));
        assert_eq!(
            value["body"],
            r#"{"success":false,"message":"Internal server error (request id r4)","data":null}"#
        );
    }
}
