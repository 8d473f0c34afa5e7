//! The one place a domain error becomes a gRPC status. Each module has its own `thiserror` enum and
//! implements [`DomainError`] for it; [`to_status`] adds google.rpc ErrorInfo (reason, domain) and
//! BadRequest field violations so clients can show an error next to the field it concerns. Internal
//! errors are logged once with their cause chain and reach the client as "internal error" only.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A field-level validation failure. Clients word it from `reason` and `params` in the user's
/// language (`TOO_LONG {max: 40}` → 最多 40 个字); `description` is English for developers and
/// logs, never shown to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. "tenant.slug" or "config.min_order_fen".
    pub field: String,
    /// What is wrong, in English.
    pub description: String,
    /// Machine-readable, UPPER_SNAKE: REQUIRED, TOO_LONG, TOO_SHORT, BELOW_MINIMUM,
    /// ABOVE_MAXIMUM, INVALID_FORMAT, NOT_ALLOWED, TOO_MANY, TOO_FEW, DUPLICATE, UNKNOWN_FIELD,
    /// WRONG_TYPE, or a module's own (LEAD_TIME_TOO_LONG); INVALID when nothing more is known.
    pub reason: &'static str,
    /// The facts a client's wording needs, e.g. `("max", "40")` or `("format", "time")`.
    pub params: Vec<(&'static str, String)>,
}

impl FieldViolation {
    /// A violation of `field` with no reason more precise than INVALID.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
            reason: "INVALID",
            params: Vec::new(),
        }
    }

    /// The same violation with its reason.
    #[must_use]
    pub fn reason(mut self, reason: &'static str) -> Self {
        self.reason = reason;
        self
    }

    /// The same violation with one more fact for the wording.
    #[must_use]
    pub fn param(mut self, key: &'static str, value: impl ToString) -> Self {
        self.params.push((key, value.to_string()));
        self
    }

    /// `field` is missing or empty.
    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, "is required").reason("REQUIRED")
    }

    /// `field` is longer than `max` characters.
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::new(field, format!("at most {max} characters"))
            .reason("TOO_LONG")
            .param("max", max)
    }

    /// `field` is not written as `format` says (a name clients word: slug, appid, time...).
    pub fn invalid_format(field: impl Into<String>, format: &'static str) -> Self {
        Self::new(field, format!("is not a valid {format}"))
            .reason("INVALID_FORMAT")
            .param("format", format)
    }

    /// `field` is outside `min..=max`.
    pub fn out_of_range(field: impl Into<String>, min: i64, max: i64) -> Self {
        Self::new(field, format!("must be between {min} and {max}"))
            .reason("OUT_OF_RANGE")
            .param("min", min)
            .param("max", max)
    }
}

/// Where a violation's params travel on gRPC: google.rpc.FieldViolation has a reason but no
/// parameters, so they ride in the ErrorInfo metadata as `"{field}#{param}"`.
pub fn param_key(field: &str, param: &str) -> String {
    format!("{field}#{param}")
}

/// Implemented by every module's error enum with an exhaustive match.
pub trait DomainError: std::error::Error {
    /// The gRPC code.
    fn code(&self) -> Code;
    /// A stable UPPER_SNAKE machine-readable reason, e.g. "DUPLICATE_SLUG".
    fn reason(&self) -> &'static str;
    /// The error domain, "<module>.minimodules".
    fn domain(&self) -> &'static str;
    /// Field violations, for INVALID_ARGUMENT errors.
    fn field_violations(&self) -> Vec<FieldViolation> {
        Vec::new()
    }
    /// Extra key/value facts for ErrorInfo (ids, names).
    fn metadata(&self) -> HashMap<String, String> {
        HashMap::new()
    }
    /// When the same request may succeed later (an outage, work still in progress): how long to
    /// wait. Sent as google.rpc.RetryInfo; the BFF turns it into `Retry-After`.
    fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }
}

/// How long a client should wait before retrying after an outage answer.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// An UNAVAILABLE status with a RetryInfo detail (which the BFF turns into `Retry-After`):
/// nothing is wrong with the request, a dependency is down or the server is stopping.
pub fn unavailable(reason: &str, domain: &str, message: impl Into<String>) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, domain, HashMap::new());
    details.set_retry_info(Some(RETRY_AFTER));
    Status::with_error_details(Code::Unavailable, message, details)
}

/// The ErrorInfo reason a module put on `status` (see [`to_status`]), for callers that tell a
/// contract's failures apart; None when it carries none.
pub fn reason_of(status: &Status) -> Option<String> {
    use tonic_types::StatusExt as _;
    status
        .get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
}

/// One fact of the ErrorInfo of a status another module answered (its `metadata`), if any.
pub fn metadata_of(status: &Status, key: &str) -> Option<String> {
    use tonic_types::StatusExt as _;
    status
        .get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get(key).cloned())
}

/// Builds the status for a domain error. The only Status builder for domain errors.
///
/// A database that cannot be reached (or a transaction that kept losing lock races after its
/// bounded retries) is an outage, not a bug: whatever module variant carries it, the caller gets
/// UNAVAILABLE with a retry hint, never INTERNAL.
pub fn to_status<E: DomainError + 'static>(err: &E) -> Status {
    let code = err.code();
    if matches!(code, Code::Internal | Code::Unknown | Code::Aborted)
        && let Some(db) = crate::db::find_db_error(err)
        && crate::db::classify(db) != crate::db::Failure::Other
    {
        tracing::warn!(error = %db, reason = err.reason(), "database unavailable");
        return unavailable(
            "DATABASE_UNAVAILABLE",
            err.domain(),
            "the database is unavailable; retry shortly",
        );
    }
    if code == Code::Internal || code == Code::Unknown {
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %chain, reason = err.reason(), "internal error");
        let mut details = ErrorDetails::new();
        details.set_error_info(err.reason(), err.domain(), HashMap::new());
        return Status::with_error_details(code, "internal error", details);
    }
    let mut details = ErrorDetails::new();
    let violations = err.field_violations();
    let mut metadata = err.metadata();
    for v in &violations {
        for (k, value) in &v.params {
            metadata.insert(param_key(&v.field, k), value.clone());
        }
    }
    details.set_error_info(err.reason(), err.domain(), metadata);
    if let Some(wait) = err.retry_after() {
        details.set_retry_info(Some(wait));
    }
    if !violations.is_empty() {
        details.set_bad_request(
            violations
                .into_iter()
                .map(|v| {
                    let mut f = tonic_types::FieldViolation::new(v.field, v.description);
                    f.reason = v.reason.to_string();
                    f
                })
                .collect::<Vec<_>>(),
        );
    }
    Status::with_error_details(code, err.to_string(), details)
}

/// Errors in the shape of a request that are not specific to a module: malformed names, page
/// tokens, sizes. Modules wrap it with `#[from]`.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// One or more fields are invalid.
    #[error("invalid argument: {}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    /// The caller may not act on this tenant or resource.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// No authenticated principal where one is required.
    #[error("authentication required")]
    Unauthenticated,
}

fn describe(v: &[FieldViolation]) -> String {
    v.iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl RequestError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, description)])
    }
}

impl DomainError for RequestError {
    fn code(&self) -> Code {
        match self {
            Self::Invalid(_) => Code::InvalidArgument,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::Unauthenticated => Code::Unauthenticated,
        }
    }
    fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "INVALID_ARGUMENT",
            Self::PermissionDenied(_) => "PERMISSION_DENIED",
            Self::Unauthenticated => "UNAUTHENTICATED",
        }
    }
    fn domain(&self) -> &'static str {
        "kernel.minimodules"
    }
    fn field_violations(&self) -> Vec<FieldViolation> {
        match self {
            Self::Invalid(v) => v.clone(),
            Self::PermissionDenied(_) | Self::Unauthenticated => Vec::new(),
        }
    }
}

impl From<RequestError> for Status {
    fn from(e: RequestError) -> Self {
        to_status(&e)
    }
}

/// Checks a client-chosen idempotency key (an order's, a booking's): 8 to 64 letters, digits,
/// `-` and `_`.
pub fn check_request_id(id: &str, v: &mut Vec<FieldViolation>) {
    if !(8..=64).contains(&id.len())
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        v.push(FieldViolation::new(
            "request_id",
            "8 to 64 characters of letters, digits, '-' and '_'",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_field_violations() {
        let status = to_status(&RequestError::invalid("tenant.slug", "too short"));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request details");
        assert_eq!(bad.field_violations[0].field, "tenant.slug");
        assert_eq!(details.error_info().unwrap().reason, "INVALID_ARGUMENT");
    }
}
