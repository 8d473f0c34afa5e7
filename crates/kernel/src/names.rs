//! Typed resource names. A tenant's resources are named "tenants/{tenant}/{collection}/{id}" on
//! every contract (AIP-122); [`Child`] is such a name with its collection in the type, so a
//! handler cannot parse an order's name as a product's, a response cannot spell a name by hand
//! with a typo in its collection, and the tenant in the name is a [`TenantId`] from the start.
//!
//! A module declares its collections once, next to its entities:
//!
//! ```
//! mm_kernel::collections! {
//!     /// "tenants/{tenant}/orders/{order}"
//!     Orders = "orders";
//! }
//! pub type OrderName = mm_kernel::names::Child<Orders>;
//! # let t = mm_kernel::TenantId::new();
//! let name = OrderName::new(t, "0193a1c2-0000-7000-8000-000000000000");
//! assert_eq!(OrderName::parse(&name.to_string(), "name").unwrap(), name);
//! ```

use std::fmt;
use std::marker::PhantomData;

use crate::error::RequestError;
use crate::ids::{TenantId, parse_name};

/// A collection of a tenant's resources.
pub trait Collection {
    /// Its segment in names ("orders").
    const NAME: &'static str;
    /// Whether its ids are UUIDs (checked when a name is parsed); false for chosen ids such as
    /// module ids.
    const UUID_IDS: bool = true;
}

/// "tenants/{tenant}/{C::NAME}/{id}".
pub struct Child<C> {
    tenant: TenantId,
    id: String,
    kind: PhantomData<fn() -> C>,
}

impl<C: Collection> Child<C> {
    /// The name of `id` in the tenant's collection.
    pub fn new(tenant: TenantId, id: impl Into<String>) -> Self {
        Self {
            tenant,
            id: id.into(),
            kind: PhantomData,
        }
    }

    /// Parses a name of this collection; `field` names the request field in the error.
    pub fn parse(name: &str, field: &str) -> Result<Self, RequestError> {
        let v = parse_name(name, &["tenants", C::NAME], field)?;
        let tenant = TenantId::parse(v[0], field)?;
        if C::UUID_IDS && uuid::Uuid::try_parse(v[1]).is_err() {
            return Err(RequestError::invalid(field, "malformed id"));
        }
        Ok(Self::new(tenant, v[1]))
    }

    /// The id of a name that must be of `tenant` (a reference inside a request already
    /// authorized for it): another tenant's name is refused as invalid.
    pub fn id_in(tenant: TenantId, name: &str, field: &str) -> Result<String, RequestError> {
        let n = Self::parse(name, field)?;
        if n.tenant != tenant {
            return Err(RequestError::invalid(field, "belongs to another tenant"));
        }
        Ok(n.id)
    }

    /// As [`Child::id_in`] for an optional reference: empty means none.
    pub fn opt_id_in(
        tenant: TenantId,
        name: &str,
        field: &str,
    ) -> Result<Option<String>, RequestError> {
        if name.is_empty() {
            return Ok(None);
        }
        Self::id_in(tenant, name, field).map(Some)
    }

    /// The tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The id within the collection.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The tenant and the id.
    pub fn into_parts(self) -> (TenantId, String) {
        (self.tenant, self.id)
    }
}

/// `Child::new(tenant, id).to_string()`: the name of `id` in the tenant's collection `C`.
pub fn name_of<C: Collection>(tenant: TenantId, id: &str) -> String {
    Child::<C>::new(tenant, id).to_string()
}

impl<C: Collection> fmt::Display for Child<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenants/{}/{}/{}", self.tenant, C::NAME, self.id)
    }
}

impl<C> fmt::Debug for Child<C>
where
    C: Collection,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl<C> Clone for Child<C> {
    fn clone(&self) -> Self {
        Self {
            tenant: self.tenant,
            id: self.id.clone(),
            kind: PhantomData,
        }
    }
}

impl<C> PartialEq for Child<C> {
    fn eq(&self, other: &Self) -> bool {
        self.tenant == other.tenant && self.id == other.id
    }
}

impl<C> Eq for Child<C> {}

/// A kind of singleton a tenant has one of ("tenants/{tenant}/branding").
pub trait SingletonKind {
    /// Its last segment ("branding").
    const NAME: &'static str;
}

/// "tenants/{tenant}/{S::NAME}": a tenant's one resource of a kind.
pub struct Singleton<S>(PhantomData<fn() -> S>);

impl<S: SingletonKind> Singleton<S> {
    /// The tenant's singleton's name.
    pub fn name(tenant: TenantId) -> String {
        format!("tenants/{tenant}/{}", S::NAME)
    }

    /// The tenant whose singleton `name` is; `field` names the request field in the error.
    pub fn tenant_of(name: &str, field: &str) -> Result<TenantId, RequestError> {
        let v = crate::ids::parse_singleton_name(name, &["tenants"], S::NAME, field)?;
        TenantId::parse(v[0], field)
    }
}

/// Declares kinds of a tenant's singletons: `Branding = "branding";`.
#[macro_export]
macro_rules! singletons {
    ($($(#[$meta:meta])* $name:ident = $segment:literal;)+) => {
        $($(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {}
        impl $crate::names::SingletonKind for $name {
            const NAME: &'static str = $segment;
        })+
    };
}

/// "tenants/{tenant}": the name of the tenant itself, the parent of its collections.
pub fn tenant_name(tenant: TenantId) -> String {
    format!("tenants/{tenant}")
}

/// Declares collections of a tenant's resources (see the module docs): `Name = "segment";` for
/// UUID ids, `Name = "segment" (chosen);` for ids the client chooses.
#[macro_export]
macro_rules! collections {
    (@uuid chosen) => { false };
    ($($(#[$meta:meta])* $name:ident = $segment:literal $(($chosen:ident))?;)+) => {
        $($(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {}
        impl $crate::names::Collection for $name {
            const NAME: &'static str = $segment;
            $(const UUID_IDS: bool = $crate::collections!(@uuid $chosen);)?
        })+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::collections! {
        Orders = "orders";
        Modules = "modules" (chosen);
    }

    #[test]
    fn names_round_trip_and_keep_their_collection() {
        let t = TenantId::new();
        let id = uuid::Uuid::now_v7().to_string();
        let n = Child::<Orders>::new(t, id.clone());
        assert_eq!(n.to_string(), format!("tenants/{t}/orders/{id}"));
        assert_eq!(name_of::<Orders>(t, &id), n.to_string());
        assert_eq!(Child::<Orders>::parse(&n.to_string(), "name").unwrap(), n);
        // The same name is not a module's: the collection is part of the type.
        assert!(Child::<Modules>::parse(&n.to_string(), "name").is_err());
        assert!(Child::<Orders>::parse(&format!("tenants/{t}/orders/x"), "name").is_err());
        assert!(Child::<Orders>::parse(&format!("tenants/x/orders/{id}"), "name").is_err());
        let m = Child::<Modules>::parse(&format!("tenants/{t}/modules/booking"), "name").unwrap();
        assert_eq!((m.tenant(), m.id()), (t, "booking"));
    }

    crate::singletons! {
        Branding = "branding";
        Account = "paymentAccount";
    }

    #[test]
    fn singletons_round_trip_and_keep_their_kind() {
        let t = TenantId::new();
        let n = Singleton::<Branding>::name(t);
        assert_eq!(n, format!("tenants/{t}/branding"));
        assert_eq!(Singleton::<Branding>::tenant_of(&n, "name").unwrap(), t);
        assert!(Singleton::<Account>::tenant_of(&n, "name").is_err());
        assert!(Singleton::<Branding>::tenant_of(&tenant_name(t), "name").is_err());
    }

    #[test]
    fn references_must_be_of_the_request_tenant() {
        use crate::error::DomainError as _;
        let (a, b) = (TenantId::new(), TenantId::new());
        let id = uuid::Uuid::now_v7().to_string();
        let of_b = name_of::<Orders>(b, &id);
        assert_eq!(Child::<Orders>::id_in(b, &of_b, "order").unwrap(), id);
        let e = Child::<Orders>::id_in(a, &of_b, "order").unwrap_err();
        assert_eq!(e.field_violations()[0].field, "order");
        assert_eq!(Child::<Orders>::opt_id_in(a, "", "order").unwrap(), None);
    }
}
