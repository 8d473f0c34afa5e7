//! The demo tenant the README's run command shows: a restaurant created from the restaurant
//! template, reachable by a fixed appid. Seeding is idempotent, and safe when several instances
//! start at once on one database: `App::start` runs it under the start-up lock, before it serves,
//! and a row another instance wrote first (a duplicate slug or login) counts as seeded, so an
//! instance never dies because a neighbour was quicker.

use mm_kernel::RequestContext;
use mm_kernel::module::{DemoShop, ModuleContext};
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
    let registration = wechat_fake.map(introduce_to).transpose()?;
    let tenant_id = match app.find_by_slug(DEMO_SLUG).await? {
        Some(t) => t.tenant_id,
        None => match create(&app).await? {
            Some(id) => id,
            // Another instance created it between our look and our write.
            None => app
                .find_by_slug(DEMO_SLUG)
                .await?
                .map(|t| t.tenant_id)
                .ok_or_else(|| {
                    anyhow::anyhow!("the demo appid belongs to a tenant other than the demo's")
                })?,
        },
    };
    let shop = DemoShop {
        tenant: tenant_id,
        appid: DEMO_APPID,
        app_secret: DEMO_APP_SECRET,
        admin_login: DEMO_ADMIN_LOGIN,
        admin_password: DEMO_ADMIN_PASSWORD,
    };
    // Each module's own demo data, in registration order (identity's admin before anything
    // that names staff).
    for m in crate::modules::all() {
        if let Some(demo) = m.demo {
            demo(ctx, &shop)
                .await
                .map_err(|e| e.context(format!("seeding the {} module's demo data", m.id)))?;
        }
    }
    if let Some(reg) = registration {
        seed_wechat_pay(ctx, reg, &tenant_id.to_string()).await?;
    }
    Ok(tenant_id.to_string())
}

/// Tells a WeChat fake the demo mini-program's AppSecret and the demo restaurant's merchant
/// account (the fake forgets both when it stops). A server in dev mode does it for the fake it
/// starts; a test that runs one fake for several processes (the mesh) does it itself.
pub fn introduce_to(
    fake: &mm_wechat_fake::FakeWechat,
) -> anyhow::Result<mm_wechat_fake::MerchantRegistration> {
    fake.register_app(DEMO_APPID, DEMO_APP_SECRET);
    fake.register_merchant(
        DEMO_MCHID,
        DEMO_MERCHANT_SERIAL,
        DEMO_MERCHANT_PUBLIC,
        DEMO_APIV3_KEY,
        &[DEMO_APPID],
    )
    .map_err(|e| anyhow::anyhow!("the WeChat Pay fake refused the demo merchant: {e}"))
}

/// Merchant id of the demo restaurant at the local WeChat Pay fake.
pub const DEMO_MCHID: &str = "1900000109";
// A demo-only merchant key pair, made with openssl for this purpose; never a real merchant's.
const DEMO_MERCHANT_KEY: &str = include_str!("demo_merchant_key.pem");
const DEMO_MERCHANT_PUBLIC: &str = include_str!("demo_merchant_public.pem");
const DEMO_APIV3_KEY: &str = "demoapiv3key0123456789abcdefABCD";
const DEMO_MERCHANT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD00000001";

/// Registers the demo restaurant as a merchant of the local WeChat Pay fake and stores the
/// account, so the demo can pay with WeChat Pay end to end. Dev mode only (the fake exists only
/// there); repeated at every start because the fake forgets.
async fn seed_wechat_pay(
    ctx: &ModuleContext,
    reg: mm_wechat_fake::MerchantRegistration,
    tenant_id: &str,
) -> anyhow::Result<()> {
    let tenants = mm_tenant::TenantApp::from_context(ctx)?;
    let system = RequestContext::system("demo-seed");
    let tenant = mm_kernel::TenantId::parse(tenant_id, "tenant")?;
    // The fake's platform key is fixed, so an account stored by an earlier start still holds;
    // storing it again would only add an audit event per start.
    if tenants
        .get_payment_account(&system, tenant)
        .await
        .map_err(|e| anyhow::anyhow!("Failed to read the demo merchant account: {e}"))?
        .is_some()
    {
        return Ok(());
    }
    tenants
        .update_payment_account(
            &system,
            tenant,
            mm_tenant::payments::AccountInput {
                appid: DEMO_APPID.into(),
                mchid: DEMO_MCHID.into(),
                merchant_serial_no: DEMO_MERCHANT_SERIAL.into(),
                private_key_pem: DEMO_MERCHANT_KEY.into(),
                apiv3_key: DEMO_APIV3_KEY.into(),
                platform_key_id: reg.platform_public_key_id,
                platform_public_key_pem: reg.platform_public_key_pem,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("Failed to store the demo merchant account: {e}"))?;
    Ok(())
}

/// Creates the demo tenant; `None` when its slug or appid turned out to be taken already.
async fn create(app: &TenantApp) -> anyhow::Result<Option<mm_kernel::TenantId>> {
    let operator = RequestContext::system("demo-seed");
    let created = app
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
        .await;
    match created {
        Ok(row) => {
            tracing::info!(tenant = %row.tenant_id, "demo restaurant seeded");
            Ok(Some(row.tenant_id))
        }
        // Either unique key may be the one that catches a concurrent creation.
        Err(
            mm_tenant::error::TenantError::DuplicateSlug { .. }
            | mm_tenant::error::TenantError::DuplicateAppid { .. },
        ) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
