//! The only place a gRPC status becomes an HTTP answer: `{code, message, details}` with the HTTP
//! status that matches the gRPC code. `code` is the machine-readable reason from the status's
//! ErrorInfo (e.g. "APP_NOT_FOUND"), so the mini-program can branch on it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;
use tonic_types::StatusExt as _;
use utoipa::ToSchema;

/// A field that failed validation. Clients word it from `reason` and `params`; `description` is
/// English for developers.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDto {
    /// Path of the field.
    pub field: String,
    /// What is wrong, in English.
    pub description: String,
    /// Machine-readable: REQUIRED, TOO_LONG, TOO_SHORT, BELOW_MINIMUM, ABOVE_MAXIMUM,
    /// OUT_OF_RANGE, INVALID_FORMAT, NOT_ALLOWED, TOO_MANY, TOO_FEW, DUPLICATE, UNKNOWN_FIELD,
    /// WRONG_TYPE, a module's own, or INVALID.
    pub reason: String,
    /// Facts for the wording, e.g. `{"max": "40"}` or `{"format": "time"}`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
}

/// Extra facts about an error.
#[derive(Debug, Serialize, ToSchema, Default)]
pub struct ErrorDetailsDto {
    /// Field violations, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorDto>,
    /// Key/value facts (ids, names).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// The error body of every BFF route.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable reason, e.g. "APP_NOT_FOUND", "INVALID_ARGUMENT".
    pub code: String,
    /// English explanation for developers.
    pub message: String,
    /// Field violations and metadata.
    pub details: ErrorDetailsDto,
}

/// An error answered by the BFF.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Seconds for `Retry-After`: on outages (503) and "still working on it" answers.
    retry_after: Option<u64>,
}

impl ApiError {
    /// A client error raised by the BFF itself, before any service is called.
    pub fn bad_request(field: &str, description: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody {
                code: "INVALID_ARGUMENT".into(),
                message: format!("{field}: {description}"),
                details: ErrorDetailsDto {
                    fields: vec![FieldErrorDto {
                        field: field.into(),
                        description: description.into(),
                        reason: "INVALID".into(),
                        params: Default::default(),
                    }],
                    metadata: Default::default(),
                },
            },
            retry_after: None,
        }
    }
}

impl ApiError {
    /// An error the BFF answers without calling a service: the request never got that far.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.into(),
                message: message.into(),
                details: ErrorDetailsDto::default(),
            },
            retry_after: None,
        }
    }

    /// The framework refused the request before a handler ran (see `crate::extract`); its own
    /// status picks ours, and its text (which names what did not parse) becomes the message.
    fn rejected(status: StatusCode, text: String) -> Self {
        match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(status, "UNSUPPORTED_MEDIA_TYPE", text),
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(status, "PAYLOAD_TOO_LARGE", text),
            s if s.is_server_error() => {
                tracing::error!(%status, text, "request extraction failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "internal error",
                )
            }
            // Bad JSON, JSON of the wrong shape (axum says 422), a bad query or path: all are
            // INVALID_ARGUMENT, the one 400 the mini-program already knows.
            _ => Self::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", text),
        }
    }
}

macro_rules! from_rejection {
    ($($rejection:ty),+) => {$(
        impl From<$rejection> for ApiError {
            fn from(r: $rejection) -> Self {
                Self::rejected(r.status(), r.body_text())
            }
        }
    )+};
}

from_rejection!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::QueryRejection,
    axum::extract::rejection::PathRejection,
    axum::extract::rejection::BytesRejection
);

/// Answers a path no route serves.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("no route for {}", uri.path()),
    )
}

/// Answers a method a route does not serve.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not served on {}", uri.path()),
    )
}

/// gRPC code to HTTP status.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // A call cut off with its connection (a recycled or closed HTTP/2 connection, a pod going
        // away) did not fail on its merits: the client may try again, as after UNAVAILABLE.
        Code::Unavailable | Code::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<tonic::Status> for ApiError {
    fn from(s: tonic::Status) -> Self {
        let details = s.get_error_details();
        let info = details.error_info();
        let code = info
            .map(|i| i.reason.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| format!("{:?}", s.code()).to_uppercase());
        let mut metadata: std::collections::BTreeMap<String, String> = info
            .map(|i| i.metadata.clone().into_iter().collect())
            .unwrap_or_default();
        let fields = details
            .bad_request()
            .map(|b| {
                b.field_violations
                    .iter()
                    .map(|v| {
                        // A violation's params ride in the ErrorInfo as "{field}#{param}"
                        // (mm_kernel::error::param_key); here they return to their field.
                        let prefix = format!("{}#", v.field);
                        let params = metadata
                            .iter()
                            .filter_map(|(k, val)| {
                                k.strip_prefix(&prefix)
                                    .map(|p| (p.to_string(), val.clone()))
                            })
                            .collect();
                        FieldErrorDto {
                            field: v.field.clone(),
                            description: v.description.clone(),
                            reason: if v.reason.is_empty() {
                                "INVALID".into()
                            } else {
                                v.reason.clone()
                            },
                            params,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        metadata.retain(|k, _| !k.contains('#'));
        // Transport failures carry tonic's internal wording; clients get a stable message.
        let message = if matches!(
            s.code(),
            Code::Unavailable | Code::Cancelled | Code::Unknown
        ) {
            "the service is unavailable, retry later".to_string()
        } else {
            s.message().to_string()
        };
        if matches!(
            s.code(),
            Code::Unavailable | Code::Cancelled | Code::Unknown | Code::Internal
        ) {
            tracing::warn!(code = ?s.code(), message = s.message(), "upstream call failed");
        }
        // A service's own hint wins; an outage without one (a module that could not be reached
        // at all) still tells the client when to come back.
        let retry_after = details
            .retry_info()
            .and_then(|r| r.retry_delay)
            .map(|d| d.as_secs().max(1))
            .or_else(|| matches!(s.code(), Code::Unavailable | Code::Cancelled).then_some(1));
        Self {
            status: http_status(s.code()),
            body: ErrorBody {
                code,
                message,
                details: ErrorDetailsDto { fields, metadata },
            },
            retry_after,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

/// The answer WeChat Pay expects when a notification was not handled: a 4xx/5xx with
/// `{"code": "FAIL", "message": ...}` (WeChat retries later). Its consumer is WeChat, not the
/// mini-program, hence its own shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct WechatPayFailureBody {
    /// Always "FAIL".
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// A service's refusal of a WeChat Pay notification, in WeChat's failure format.
pub fn wechat_pay_failure(s: &tonic::Status) -> Response {
    tracing::warn!(code = ?s.code(), message = s.message(), "WeChat Pay notification refused");
    wechat_pay_refusal(http_status(s.code()), s.message())
}

/// `status` with WeChat's failure body; server errors say no more than that.
pub fn wechat_pay_refusal(status: StatusCode, message: &str) -> Response {
    let message = if status.is_server_error() {
        "temporarily unavailable".to_string()
    } else {
        message.to_string()
    };
    (
        status,
        Json(WechatPayFailureBody {
            code: "FAIL".into(),
            message,
        }),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_code_the_way_the_contract_says() {
        let rows = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
            (Code::Cancelled, 503),
            (Code::Internal, 500),
        ];
        for (code, http) in rows {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn a_call_cut_off_with_its_connection_asks_the_client_to_retry() {
        for status in [
            tonic::Status::cancelled("h2 protocol error: connection reset"),
            tonic::Status::unavailable("connection refused"),
        ] {
            let res = ApiError::from(status).into_response();
            assert_eq!(res.status().as_u16(), 503);
            assert_eq!(
                res.headers()
                    .get(axum::http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
                Some("1")
            );
        }
    }
}
