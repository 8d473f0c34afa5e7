//! THE module registry: one line per business module. A module listed with `spec_only` publishes
//! its spec (so tenants can switch it on and configure it) before its service ships.

use mm_kernel::module::ModuleDef;

// Unused while every module has shipped; kept for the next one announced ahead of its service.
#[allow(dead_code)]
const fn spec_only(id: &'static str, spec: &'static str) -> ModuleDef {
    ModuleDef {
        id,
        spec,
        templates: &[],
        mount: None,
        migrations: mm_kernel::module::no_migrations,
        bff: None,
        demo: None,
        config_rules: None,
    }
}

/// Every module of this build.
pub fn all() -> Vec<ModuleDef> {
    vec![
        mm_tenant::module(),
        // Core (always on), so listed where the registry puts it: after tenant.
        mm_payments::module(),
        mm_identity::module(),
        mm_catalog::module(),
        mm_ordering::module(),
        mm_booking::module(),
        mm_marketing::module(),
    ]
}
