//! Typed identifiers. A tenant id is a UUID (v7, so ids sort by creation time) and is never taken from
//! a client-chosen field without parsing.

use std::fmt;

use crate::error::RequestError;

/// The id of a tenant. Stored as its hyphenated text in every tenant-owned table's `tenant_id`
/// column, which entities declare with this type, so a row's tenant is never a loose string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub struct TenantId(uuid::Uuid);

impl std::str::FromStr for TenantId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::try_parse(s).map(Self)
    }
}

// Composite primary keys lead with the tenant; sea-orm asks every key part for this conversion,
// which only auto-increment keys use.
impl sea_orm::TryFromU64 for TenantId {
    fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
        Err(sea_orm::DbErr::ConvertFromU64("TenantId"))
    }
}

impl TenantId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// Parses the id part of a resource name; `field` names the request field for the error.
    pub fn parse(s: &str, field: &str) -> Result<Self, RequestError> {
        uuid::Uuid::try_parse(s)
            .map(Self)
            .map_err(|_| RequestError::invalid(field, format!("{s:?} is not a valid tenant id")))
    }

    /// The UUID.
    pub fn uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for TenantId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Splits a resource name like "tenants/{t}/modules/{m}" against a pattern of literal collection
/// segments, returning the variable segments. `field` is used in the error.
pub fn parse_name<'a>(
    name: &'a str,
    collections: &[&str],
    field: &str,
) -> Result<Vec<&'a str>, RequestError> {
    let pattern = collections
        .iter()
        .map(|c| format!("{c}/{{id}}"))
        .collect::<Vec<_>>()
        .join("/");
    let bad = || RequestError::invalid(field, format!("expected a name like {pattern:?}"));
    if name.len() > 512 {
        return Err(RequestError::invalid(
            field,
            "name is longer than 512 bytes",
        ));
    }
    let mut parts = name.split('/');
    let mut vars = Vec::with_capacity(collections.len());
    for c in collections {
        if parts.next() != Some(*c) {
            return Err(bad());
        }
        match parts.next() {
            Some(v) if !v.is_empty() => vars.push(v),
            _ => return Err(bad()),
        }
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(vars)
}

/// Like [`parse_name`] for singletons: "tenants/{t}/branding" with suffix "branding".
pub fn parse_singleton_name<'a>(
    name: &'a str,
    collections: &[&str],
    suffix: &str,
    field: &str,
) -> Result<Vec<&'a str>, RequestError> {
    let base = name
        .strip_suffix(suffix)
        .and_then(|b| b.strip_suffix('/'))
        .ok_or_else(|| RequestError::invalid(field, format!("name must end with \"/{suffix}\"")))?;
    parse_name(base, collections, field)
}

/// The tenant of a "tenants/{tenant}" name.
pub fn tenant_from_name(name: &str, field: &str) -> Result<TenantId, RequestError> {
    let v = parse_name(name, &["tenants"], field)?;
    TenantId::parse(v[0], field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_names() {
        let v = parse_name(
            "tenants/abc/modules/ordering",
            &["tenants", "modules"],
            "name",
        )
        .unwrap();
        assert_eq!(v, vec!["abc", "ordering"]);
    }

    #[test]
    fn rejects_wrong_collection_and_trailing_segments() {
        assert!(parse_name("tenant/abc", &["tenants"], "name").is_err());
        assert!(parse_name("tenants/abc/x", &["tenants"], "name").is_err());
        assert!(parse_name("tenants/", &["tenants"], "name").is_err());
    }

    #[test]
    fn parses_singletons() {
        let v =
            parse_singleton_name("tenants/t1/branding", &["tenants"], "branding", "name").unwrap();
        assert_eq!(v, vec!["t1"]);
        assert!(parse_singleton_name("tenants/t1", &["tenants"], "branding", "name").is_err());
    }

    #[test]
    fn rejects_malformed_tenant_ids() {
        assert!(TenantId::parse("not-a-uuid", "name").is_err());
        let id = TenantId::new();
        assert_eq!(TenantId::parse(&id.to_string(), "name").unwrap(), id);
    }
}
