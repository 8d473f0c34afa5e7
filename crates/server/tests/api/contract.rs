//! Every BFF answer keeps the contract: errors, including the framework's own refusals (bad
//! JSON, a wrong content type, a bad query string, an unknown route or method), answer
//! `{code, message, details}` as JSON, with a status the OpenAPI document lists for the
//! operation.

use mm_testkit::spawn_app;
use serde_json::Value;

const APPID: &str = "wx0123456789abcdef";

struct Case {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    /// The operation in the document ("" for paths no operation serves).
    documented_as: (&'static str, &'static str),
    content_type: Option<&'static str>,
    body: &'static str,
    status: u16,
    code: &'static str,
}

#[tokio::test]
async fn framework_refusals_answer_the_error_shape_with_a_documented_status() {
    let app = spawn_app().await;
    let login: Value = app
        .http
        .post(format!("{}/api/v1/auth/dev-login", app.http_url))
        .header("x-wechat-appid", APPID)
        .json(&serde_json::json!({"openid": "contract"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let doc: Value = app
        .http
        .get(format!("{}/api/openapi.json", app.http_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let json = Some("application/json");
    let login_op = ("/api/v1/auth/dev-login", "post");
    let cases = [
        Case {
            what: "a body that is not JSON",
            method: "POST",
            path: "/api/v1/auth/dev-login",
            documented_as: login_op,
            content_type: json,
            body: "{",
            status: 400,
            code: "INVALID_ARGUMENT",
        },
        Case {
            what: "JSON without a required field (axum: 422)",
            method: "POST",
            path: "/api/v1/auth/dev-login",
            documented_as: login_op,
            content_type: json,
            body: r#"{"open": "x"}"#,
            status: 400,
            code: "INVALID_ARGUMENT",
        },
        Case {
            what: "a body that is not declared JSON (axum: 415 in text)",
            method: "POST",
            path: "/api/v1/auth/dev-login",
            documented_as: login_op,
            content_type: Some("text/plain"),
            body: r#"{"openid": "x"}"#,
            status: 415,
            code: "UNSUPPORTED_MEDIA_TYPE",
        },
        Case {
            what: "a query parameter of the wrong type",
            method: "GET",
            path: "/api/v1/orders?page_size=many",
            documented_as: ("/api/v1/orders", "get"),
            content_type: None,
            body: "",
            status: 400,
            code: "INVALID_ARGUMENT",
        },
        Case {
            what: "a required query parameter missing",
            method: "GET",
            path: "/api/v1/booking/services/s1/slots",
            documented_as: ("/api/v1/booking/services/{id}/slots", "get"),
            content_type: None,
            body: "",
            status: 400,
            code: "INVALID_ARGUMENT",
        },
        Case {
            what: "a path segment that is not UTF-8",
            method: "GET",
            path: "/api/v1/orders/%FF%FE",
            documented_as: ("/api/v1/orders/{id}", "get"),
            content_type: None,
            body: "",
            status: 400,
            code: "INVALID_ARGUMENT",
        },
        Case {
            what: "a body on a route whose body is a JSON object, as an array",
            method: "POST",
            path: "/api/v1/orders/quote",
            documented_as: ("/api/v1/orders/quote", "post"),
            content_type: json,
            body: "[]",
            status: 400,
            code: "INVALID_ARGUMENT",
        },
        Case {
            what: "an unknown route",
            method: "GET",
            path: "/api/v1/nothing-here",
            documented_as: ("", ""),
            content_type: None,
            body: "",
            status: 404,
            code: "NOT_FOUND",
        },
        Case {
            what: "a method the route does not serve",
            method: "DELETE",
            path: "/api/v1/menu",
            documented_as: ("", ""),
            content_type: None,
            body: "",
            status: 405,
            code: "METHOD_NOT_ALLOWED",
        },
    ];
    for c in cases {
        let mut req = app
            .http
            .request(
                c.method.parse().unwrap(),
                format!("{}{}", app.http_url, c.path),
            )
            .header("x-wechat-appid", APPID)
            .bearer_auth(&token);
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        if !c.body.is_empty() {
            req = req.body(c.body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        assert_eq!(status, c.status, "{}: {text}", c.what);
        assert_eq!(content_type, "application/json", "{}: {text}", c.what);
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["code"], c.code, "{}: {text}", c.what);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(body["details"].is_object(), "{}: {text}", c.what);
        let (path, method) = c.documented_as;
        if !path.is_empty() {
            let responses = &doc["paths"][path][method]["responses"];
            assert!(
                responses.get(status.to_string()).is_some(),
                "{}: {status} is not documented for {method} {path}: {responses}",
                c.what
            );
        }
    }
}

#[tokio::test]
async fn every_operation_documents_the_errors_any_request_may_meet() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(format!("{}/api/openapi.json", app.http_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for status in ["400", "500", "503"] {
                if status == "400"
                    && op.get("requestBody").is_none()
                    && op.get("parameters").is_none()
                {
                    continue;
                }
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
            let json_body = op["requestBody"]["content"]
                .as_object()
                .is_some_and(|c| c.contains_key("application/json"));
            let notify = path.contains("/notify/");
            if json_body && !notify {
                assert!(responses.contains_key("415"), "{method} {path}: 415");
            }
            if !notify {
                assert!(responses.contains_key("401"), "{method} {path}: 401");
            }
            checked += 1;
        }
    }
    assert!(checked > 25, "only {checked} operations");
}
