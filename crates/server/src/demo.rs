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
/// AppSecret of the demo mini-program (known only to the local WeChat fake).
pub const DEMO_APP_SECRET: &str = "demoappsecret0123456789";
/// Login name of the demo restaurant's admin.
pub const DEMO_ADMIN_LOGIN: &str = "admin";
/// Password of the demo restaurant's admin: a demo, so it is printed in the README.
pub const DEMO_ADMIN_PASSWORD: &str = "minimodules-demo-1";

/// Creates the demo restaurant unless it exists; returns its tenant id.
pub async fn seed(
    ctx: &ModuleContext,
    wechat_fake: Option<&mm_wechat_fake::FakeWechat>,
) -> anyhow::Result<String> {
    let app = TenantApp::from_context(ctx)?;
    if let Some(fake) = wechat_fake {
        fake.register_app(DEMO_APPID, DEMO_APP_SECRET);
    }
    let tenant_id = match app.find_by_slug(DEMO_SLUG).await? {
        Some(t) => t.tenant_id,
        None => create(&app).await?,
    };
    seed_identity(ctx, &tenant_id).await?;
    Ok(tenant_id)
}

async fn seed_identity(ctx: &ModuleContext, tenant_id: &str) -> anyhow::Result<()> {
    let identity = mm_identity::IdentityApp::from_context(ctx)?;
    let system = RequestContext::system("demo-seed");
    let tenant = mm_kernel::TenantId::parse(tenant_id, "tenant")?;
    identity
        .set_wechat_credentials(&system, tenant, DEMO_APPID, DEMO_APP_SECRET)
        .await?;
    if !identity.has_login(tenant, DEMO_ADMIN_LOGIN).await? {
        identity
            .create_staff(
                &system,
                tenant,
                mm_identity::service::NewStaff {
                    role: mm_kernel::Role::Admin,
                    display_name: "店长".into(),
                    login_name: DEMO_ADMIN_LOGIN.into(),
                    phone: String::new(),
                    permissions: Vec::new(),
                    password: DEMO_ADMIN_PASSWORD.into(),
                },
            )
            .await?;
    }
    Ok(())
}

async fn create(app: &TenantApp) -> anyhow::Result<String> {
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
