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
    use crate::report::parameters::{ParamError, ACCEPTED_PARAMETERS};
    use crate::report::SUCCESS_MESSAGE;

    const DOCUMENT: &str = include_str!("../../public/openapi.json");

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("public/openapi.json is JSON")
    }

    fn operation(doc: &Value) -> &Value {
        &doc["paths"]["/admin/analytics/calls/by-phone-number"]["get"]
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
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        for path in &paths {
            assert!(
                matches!(dispatch("GET", path, false), Dispatch::Handle(_)),
                "{path} is routed"
            );
        }
        assert_eq!(paths.len(), 2);
        assert_eq!(
            dispatch("GET", "/openapi.json", false),
            Dispatch::Handle(Route::OpenApi)
        );
    }

    #[test]
    fn its_messages_are_the_code_s_messages() {
        let doc = document();
        let responses = &operation(&doc)["responses"];
        let example = |status: &str| {
            responses[status]["content"]["application/json"]["example"]["message"].clone()
        };
        assert_eq!(example("200"), SUCCESS_MESSAGE);
        assert_eq!(
            responses["200"]["content"]["application/json"]["example"]["message"],
            doc["components"]["schemas"]["CallsByPhoneNumberResponse"]["properties"]["message"]
                ["const"]
        );
        assert_eq!(
            example("400"),
            ParamError::InvalidTimestamp("start_date").to_string()
        );
        assert_eq!(example("401"), AuthError::UnknownKey.to_string());
        assert_eq!(example("403"), AuthError::InsufficientRole(Role::SuperAdmin).to_string());
        assert_eq!(example("429"), Limit::ApiKey.message());
        let statuses: Vec<u16> = [
            ApiError::from(ParamError::EmptyRange),
            ApiError::from(AuthError::MissingCredentials),
            ApiError::from(AuthError::InsufficientRole(Role::SuperAdmin)),
            ApiError::RateLimited(Limit::ClientIp),
            ApiError::Internal(String::new()),
        ]
        .iter()
        .map(ApiError::status)
        .collect();
        let documented: Vec<u16> = responses
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.parse().unwrap())
            .collect();
        assert_eq!(documented, [vec![200], statuses].concat());
    }
}
