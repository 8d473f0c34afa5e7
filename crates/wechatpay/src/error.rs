use thiserror::Error;

/// Everything that can go wrong talking WeChat Pay v3.
///
/// The variants are split by what the caller should do: `InvalidKey` is a configuration mistake,
/// `Verify` means a message did not come from WeChat (never act on it), `Api` is WeChat's own
/// answer (its `code` decides: e.g. `ORDERPAID` is final, `SYSTEM_ERROR` may be retried), and
/// `Transport` means we do not know whether WeChat acted (query before retrying).
#[derive(Debug, Error)]
pub enum Error {
    /// A merchant key setting is malformed; `field` names the `MerchantKeys::new` argument.
    #[error("invalid WeChat Pay setting `{field}`: {reason}")]
    InvalidKey { field: &'static str, reason: String },

    /// An input the caller passed cannot be sent to WeChat (e.g. an out_trade_no WeChat rejects).
    #[error("invalid WeChat Pay request field `{field}`: {reason}")]
    InvalidRequest { field: &'static str, reason: String },

    /// A response or notification failed signature checks.
    #[error(transparent)]
    Verify(#[from] VerifyError),

    /// An encrypted resource could not be decrypted or was not what it claimed to be.
    #[error("cannot decrypt WeChat Pay resource: {0}")]
    Decrypt(String),

    /// WeChat answered with its error body `{"code", "message"}`.
    #[error("WeChat Pay answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },

    /// WeChat (or something in between) answered in a shape we do not understand.
    #[error("unexpected WeChat Pay response ({status}): {detail}")]
    UnexpectedResponse { status: u16, detail: String },

    /// The request did not complete: WeChat may or may not have acted on it.
    #[error("WeChat Pay transport failure: {0}")]
    Transport(#[source] reqwest::Error),

    /// Signing with the merchant key failed (RSA internals; should not happen with a valid key).
    #[error("cannot sign WeChat Pay message: {0}")]
    Sign(String),
}

/// Why a signed message from WeChat was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    /// A `Wechatpay-*` header is missing or not text.
    #[error("missing or unreadable header {0}")]
    MissingHeader(&'static str),

    /// `Wechatpay-Serial` names a key we were not configured with.
    #[error("unknown WeChat Pay platform key id {serial:?} (expected {expected:?})")]
    UnknownSerial { serial: String, expected: String },

    /// `Wechatpay-Timestamp` is not a number of seconds.
    #[error("malformed Wechatpay-Timestamp {0:?}")]
    BadTimestamp(String),

    /// The timestamp is outside the replay window.
    #[error("Wechatpay-Timestamp {timestamp} is more than {window_secs}s away from now ({now})")]
    StaleTimestamp {
        timestamp: i64,
        now: i64,
        window_secs: i64,
    },

    /// The signature is not valid base64 RSA-SHA256 over the message by the platform key.
    #[error("bad WeChat Pay signature")]
    BadSignature,
}
