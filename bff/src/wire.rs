//! How resource names and times read in the mini-program's JSON, the same in every module.

/// The last segment of a resource name: the id the mini-program sends back
/// ("tenants/t/orders/o" → "o").
pub fn id_of(name: &str) -> String {
    name.rsplit('/').next().unwrap_or_default().to_string()
}

/// A protobuf time as RFC 3339 in UTC to the second ("2026-12-06T16:57:28Z"); `None` when unset.
pub fn rfc3339(t: Option<prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_times_read_as_the_mini_program_expects() {
        assert_eq!(id_of("tenants/t/orders/o-1"), "o-1");
        assert_eq!(id_of(""), "");
        let t = prost_types::Timestamp {
            seconds: 1_796_576_248,
            nanos: 5,
        };
        assert_eq!(rfc3339(Some(t)).as_deref(), Some("2026-12-06T16:57:28Z"));
        assert_eq!(rfc3339(None), None);
    }
}
