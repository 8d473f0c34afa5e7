//! Shared assertions.

use tonic::Code;
use tonic_types::StatusExt as _;

/// Asserts a call failed with `code` and, when given, the ErrorInfo reason.
pub fn assert_status<T: std::fmt::Debug>(
    res: Result<T, tonic::Status>,
    code: Code,
    reason: Option<&str>,
) -> tonic::Status {
    let status = res.expect_err("call should fail");
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    if let Some(r) = reason {
        let details = status.get_error_details();
        assert_eq!(
            details.error_info().map(|i| i.reason.as_str()),
            Some(r),
            "{status:?}"
        );
    }
    status
}

/// The fields of a status's BadRequest violations.
pub fn violation_fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}
