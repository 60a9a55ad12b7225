//! The OpenAPI 3.1 document, `public/openapi.json`: a static asset (not compiled into the wasm) that the
//! worker serves at `/openapi.json` with its usual headers. These host tests tie it to the code (parameters,
//! messages, statuses); the end-to-end contract tests tie it to the behaviour.

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::access::limits::Limit;
    use crate::access::{AuthError, Role};
    use crate::http::error::ApiError;
    use crate::http::routing::{dispatch, Dispatch, Route};
    use crate::http::DEAD_LETTERS_REPLAYED;
    use crate::ingest::{self, dead_letters, webhook};
    use crate::report::parameters::{ParamError, ACCEPTED_PARAMETERS};
    use crate::report::SUCCESS_MESSAGE;

    const DOCUMENT: &str = include_str!("../../public/openapi.json");

    /// A key of our keys' shape, for the path that carries one (`/webhooks/end-call/{key}`).
    const SAMPLE_KEY: &str = "cak_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
    /// The request id the document's examples quote.
    const EXAMPLE_REQUEST_ID: &str = "0b8a3c4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("public/openapi.json is JSON")
    }

    /// `value`, or what its local `$ref` (`#/components/...`) points to.
    fn resolved<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str() {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("a local $ref");
                doc.pointer(pointer)
                    .unwrap_or_else(|| panic!("{reference} resolves"))
            }
            None => value,
        }
    }

    /// The statuses an operation documents, in order.
    fn statuses(responses: &Value) -> Vec<u16> {
        responses
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.parse().unwrap())
            .collect()
    }

    fn operation(doc: &Value) -> &Value {
        &doc["paths"]["/admin/analytics/calls/by-phone-number"]["get"]
    }

    /// Asserts that `responses` documents exactly `success` and then one answer per error, in order, each
    /// error's example message being the one the code sends for it; returns the success's example message.
    fn documents_answers(doc: &Value, responses: &Value, success: u16, errors: &[ApiError], context: &str) -> Value {
        let example = |status: u16| {
            resolved(doc, &responses[status.to_string()])["content"]["application/json"]["example"]["message"].clone()
        };
        for error in errors {
            assert_eq!(example(error.status()), error.public_message(EXAMPLE_REQUEST_ID), "{context}: {}", error.status());
        }
        let expected: Vec<u16> = std::iter::once(success).chain(errors.iter().map(ApiError::status)).collect();
        assert_eq!(statuses(responses), expected, "{context}");
        example(success)
    }

    #[test]
    fn is_openapi_3_1_with_bearer_auth() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
            "bearer"
        );
        assert_eq!(doc["security"][0]["bearerAuth"], serde_json::json!([]));
    }

    #[test]
    fn documents_exactly_the_parameters_the_endpoint_takes() {
        let doc = document();
        let names: Vec<&str> = operation(&doc)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ACCEPTED_PARAMETERS);
    }

    #[test]
    fn documents_every_path_the_router_serves() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        let mut routes = Vec::new();
        for (path, item) in paths {
            // The path the router sees: a key where the document has its parameter.
            let concrete = path.replace("{key}", SAMPLE_KEY);
            let methods: Vec<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|m| METHODS.contains(m))
                .collect();
            assert!(!methods.is_empty(), "{path} documents an operation");
            for method in methods {
                let route = match (method, dispatch(&method.to_uppercase(), &concrete, false)) {
                    ("options", Dispatch::Preflight(route)) => route,
                    (method, Dispatch::Handle(route)) if method != "options" => route,
                    (method, other) => panic!("{method} {path} is routed to {other:?}"),
                };
                assert_eq!(
                    route.path(),
                    concrete
                        .strip_suffix(&format!("/{SAMPLE_KEY}"))
                        .unwrap_or(&concrete),
                    "{method} {path}"
                );
                routes.push(route);
            }
        }
        for route in [
            Route::CallsByPhoneNumber,
            Route::EndCall,
            Route::DeadLettersReplay,
            Route::OpenApi,
        ] {
            assert!(routes.contains(&route), "{route:?} is documented");
        }
        let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
        documented.sort_unstable();
        assert_eq!(
            documented,
            [
                "/admin/analytics/calls/by-phone-number",
                "/admin/dead-letters/replay",
                "/openapi.json",
                "/webhooks/end-call",
                "/webhooks/end-call/{key}",
            ]
        );
        assert_eq!(
            dispatch("GET", "/openapi.json", false),
            Dispatch::Handle(Route::OpenApi)
        );
    }

    #[test]
    fn documents_the_webhook_s_answers_with_the_code_s_messages() {
        let doc = document();
        let body_error = webhook::read(r#"{"data":{"room_name":"r"}}"#).unwrap_err();
        for path in ["/webhooks/end-call/{key}", "/webhooks/end-call"] {
            let responses = &doc["paths"][path]["post"]["responses"];
            let errors = [
                ApiError::BadBody(body_error.clone()),
                ApiError::from(AuthError::UnknownKey),
                ApiError::from(AuthError::InsufficientRole(Role::Ingest)),
                ApiError::PayloadTooLarge,
                ApiError::RateLimited(Limit::WebhookKey),
                ApiError::Internal(String::new()),
                ApiError::Unavailable(String::new()),
            ];
            let accepted = documents_answers(&doc, responses, 202, &errors, path);
            assert_eq!(accepted, ingest::ACCEPTED_MESSAGE, "{path}");
            let answer = |status: &str| resolved(&doc, &responses[status]);
            let schema = resolved(&doc, &answer("202")["content"]["application/json"]["schema"]);
            assert_eq!(schema["properties"]["message"]["const"], ingest::ACCEPTED_MESSAGE, "{path}");
            let unavailable = ApiError::Unavailable(String::new()).headers();
            assert_eq!(unavailable[0].0, "Retry-After");
            assert_eq!(
                answer("503")["headers"]["Retry-After"]["schema"]["const"],
                unavailable[0].1.as_str(),
                "{path}"
            );
        }
        // The key in the path is the only credential of that form; the other is the bearer scheme's.
        let in_path = &doc["paths"]["/webhooks/end-call/{key}"]["post"];
        assert_eq!(in_path["security"], serde_json::json!([]));
        assert_eq!(in_path["parameters"][0]["name"], "key");
        assert_eq!(in_path["parameters"][0]["in"], "path");
        assert_eq!(in_path["parameters"][0]["example"], SAMPLE_KEY);
        assert_eq!(
            doc["paths"]["/webhooks/end-call"]["post"]["security"][0]["bearerAuth"],
            serde_json::json!([])
        );
    }

    #[test]
    fn documents_the_replay_with_the_code_s_messages() {
        let doc = document();
        let operation = &doc["paths"]["/admin/dead-letters/replay"]["post"];
        let errors = [
            ApiError::from(AuthError::UnknownKey),
            ApiError::from(AuthError::InsufficientRole(Role::SuperAdmin)),
            ApiError::RateLimited(Limit::ApiKey),
            ApiError::Internal(String::new()),
        ];
        let replayed_message = documents_answers(&doc, &operation["responses"], 200, &errors, "replay");
        assert_eq!(replayed_message, DEAD_LETTERS_REPLAYED);
        let replayed = &doc["components"]["schemas"]["DeadLettersReplayedResponse"]["properties"];
        assert_eq!(replayed["message"]["const"], DEAD_LETTERS_REPLAYED);
        assert_eq!(replayed["data"]["properties"]["replayed"]["maximum"], dead_letters::PAGE);
        assert_eq!(operation["security"][0]["bearerAuth"], serde_json::json!([]));
    }

    #[test]
    fn its_messages_are_the_code_s_messages() {
        let doc = document();
        let errors = [
            ApiError::from(ParamError::InvalidTimestamp("start_date")),
            ApiError::from(AuthError::UnknownKey),
            ApiError::from(AuthError::InsufficientRole(Role::SuperAdmin)),
            ApiError::RateLimited(Limit::ApiKey),
            ApiError::Internal(String::new()),
        ];
        let fetched = documents_answers(&doc, &operation(&doc)["responses"], 200, &errors, "report");
        assert_eq!(fetched, SUCCESS_MESSAGE);
        assert_eq!(fetched, doc["components"]["schemas"]["CallsByPhoneNumberResponse"]["properties"]["message"]["const"]);
    }
}
