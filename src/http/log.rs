//! The one structured log line per request. It never holds a key, an `Authorization` header or the query
//! string (which may hold an email): a key appears only as the fingerprint of its hash.

use serde::Serialize;

use crate::access::AccessFacts;

/// What a request did that its log line reports, gathered while it runs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LogFacts {
    /// The key's fingerprint and the KV reads of the access check.
    pub access: AccessFacts,
    pub d1_rows_read: u64,
}

#[derive(Debug, Serialize)]
pub struct RequestLog<'a> {
    pub level: &'static str,
    pub request_id: &'a str,
    pub method: &'a str,
    /// The path only: the query string stays out of the log.
    pub path: &'a str,
    pub status: u16,
    pub duration_ms: f64,
    pub d1_rows_read: u64,
    pub kv_reads: u32,
    pub key: Option<&'a str>,
    /// Which rate limit refused the request (`client_ip` or `api_key`), for a 429.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

impl RequestLog<'_> {
    pub fn level_for(status: u16) -> &'static str {
        match status {
            500.. => "error",
            _ => "info",
        }
    }

    pub fn is_error(&self) -> bool {
        self.level == "error"
    }

    pub fn to_line(&self) -> String {
        // Plain strings and numbers: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_one_json_line() {
        let line = RequestLog {
            level: RequestLog::level_for(500),
            request_id: "r1",
            method: "GET",
            path: "/admin/analytics/calls/by-phone-number",
            status: 500,
            duration_ms: 12.0,
            d1_rows_read: 0,
            kv_reads: 1,
            key: Some("ba7816bf8f01"),
            rate_limited: None,
            error: Some("D1 query failed:\nno such table"),
        }
        .to_line();
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["level"], "error");
        assert_eq!(value["key"], "ba7816bf8f01");
        assert_eq!(value["kv_reads"], 1);
        assert_eq!(value["error"], "D1 query failed:\nno such table");
        assert!(value.get("rate_limited").is_none());
        assert_eq!(RequestLog::level_for(401), "info");
    }
}
