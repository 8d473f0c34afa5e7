//! The demo tenant the README's run command shows: a restaurant created from the restaurant
//! template, reachable by a fixed appid. Seeding is idempotent.

use mm_kernel::RequestContext;
use mm_kernel::module::ModuleContext;
use mm_tenant::TenantApp;
use mm_tenant::service::NewTenant;

/// Slug of the demo tenant.
pub const DEMO_SLUG: &str = "demo-restaurant";
/// Appid of the demo mini-program.
pub const DEMO_APPID: &str = "wx0123456789abcdef";

/// Creates the demo restaurant unless it exists; returns its tenant id.
pub async fn seed(ctx: &ModuleContext) -> anyhow::Result<String> {
    let app = TenantApp::from_context(ctx)?;
    if let Some(t) = app.find_by_slug(DEMO_SLUG).await? {
        return Ok(t.tenant_id);
    }
    let operator = RequestContext::system("demo-seed");
    let row = app
        .create_tenant(
            &operator,
            NewTenant {
                slug: DEMO_SLUG.into(),
                display_name_zh: "小模块示例餐厅".into(),
                display_name_en: "MiniModules Demo Bistro".into(),
                industry: "restaurant".into(),
                wechat_appid: DEMO_APPID.into(),
            },
            "restaurant",
        )
        .await?;
    tracing::info!(tenant = %row.tenant_id, "demo restaurant seeded");
    Ok(row.tenant_id)
}
