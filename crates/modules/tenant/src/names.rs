//! The resource names the tenant module writes and reads: its tenants ("tenants/{tenant}",
//! `mm_kernel::names::tenant_name`), their modules, and the singletons of a tenant and of a
//! tenant's module, each spelled here once.

use mm_kernel::TenantId;
use mm_kernel::error::RequestError;
use mm_kernel::ids::parse_singleton_name;
use mm_kernel::names::{Child, Collection, Singleton};

mm_kernel::collections! {
    /// "tenants/{tenant}/modules/{module}": a module's state for one tenant. Module ids are the
    /// registry's ("booking"), not UUIDs.
    Modules = "modules" (chosen);
}

/// The name of a module of a tenant.
pub type ModuleName = Child<Modules>;

mm_kernel::singletons! {
    /// "tenants/{tenant}/branding": the tenant's theme and logo.
    Branding = "branding";
    /// "tenants/{tenant}/paymentAccount": the tenant's one merchant account.
    PaymentAccount = "paymentAccount";
}

/// The name of a tenant's branding.
pub type BrandingName = Singleton<Branding>;
/// The name of a tenant's merchant account.
pub type PaymentAccountName = Singleton<PaymentAccount>;

const CONFIG: &str = "config";

/// "tenants/{tenant}/modules/{module}/config": the config of a tenant's module.
pub fn config_name(module: &ModuleName) -> String {
    format!("{module}/{CONFIG}")
}

/// The module whose config `name` is; `field` names the request field in the error.
pub fn config_module(name: &str, field: &str) -> Result<ModuleName, RequestError> {
    let v = parse_singleton_name(name, &["tenants", Modules::NAME], CONFIG, field)?;
    Ok(ModuleName::new(TenantId::parse(v[0], field)?, v[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_config_names_round_trip() {
        let t = TenantId::new();
        let m = ModuleName::new(t, "booking");
        assert_eq!(config_name(&m), format!("{m}/config"));
        assert_eq!(config_module(&config_name(&m), "name").unwrap(), m);
        assert!(config_module(&m.to_string(), "name").is_err());
    }
}
