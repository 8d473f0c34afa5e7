//! Page size and page token handling shared by every List RPC (AIP-158): 0 means the default,
//! values are clamped to the maximum, negatives are refused; tokens are opaque to clients but
//! checked here, so a garbled token is a clear INVALID_ARGUMENT rather than a silent first page.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::RequestError;

/// Default page size.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page size.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Validates a requested page size.
pub fn page_size(requested: i32) -> Result<u64, RequestError> {
    match requested {
        n if n < 0 => Err(RequestError::invalid("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as u64).min(MAX_PAGE_SIZE)),
    }
}

/// Encodes a keyset cursor (the last key of a page) under a purpose tag, so a token from one list
/// cannot be replayed against another.
pub fn encode_token(purpose: &str, last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{purpose}\u{1f}{last_key}"))
}

/// Decodes a token made by [`encode_token`]; empty input means the first page.
pub fn decode_token(purpose: &str, token: &str) -> Result<Option<String>, RequestError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || RequestError::invalid("page_token", "malformed page token");
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (p, key) = s.split_once('\u{1f}').ok_or_else(bad)?;
    if p != purpose || key.is_empty() {
        return Err(bad());
    }
    Ok(Some(key.to_string()))
}

/// Finishes a keyset page fetched with `size + 1` rows: keeps `size` and, when there was more,
/// returns the token continuing after the last kept row.
pub fn finish_page<T>(
    mut rows: Vec<T>,
    size: u64,
    purpose: &str,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if rows.len() > size {
        rows.truncate(size);
        let next = rows.last().map(|r| encode_token(purpose, key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_one_row_too_many_continues_after_its_last_row() {
        let (rows, next) = finish_page(vec!["a", "b", "c"], 2, "p", |r| r);
        assert_eq!(rows, vec!["a", "b"]);
        assert_eq!(
            decode_token("p", &next.unwrap()).unwrap().as_deref(),
            Some("b")
        );
        let (rows, next) = finish_page(vec!["a"], 2, "p", |r| r);
        assert_eq!((rows, next), (vec!["a"], None));
    }

    #[test]
    fn clamps_and_defaults_page_sizes() {
        assert_eq!(page_size(0).unwrap(), 20);
        assert_eq!(page_size(5).unwrap(), 5);
        assert_eq!(page_size(1000).unwrap(), 100);
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_list() {
        let t = encode_token("tenants", "abc");
        assert_eq!(decode_token("tenants", &t).unwrap().as_deref(), Some("abc"));
        assert!(decode_token("orders", &t).is_err());
        assert!(decode_token("tenants", "%%%").is_err());
        assert_eq!(decode_token("tenants", "").unwrap(), None);
    }
}
