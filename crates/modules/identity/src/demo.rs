//! The demo shop's mini-program credentials and its admin.

use mm_kernel::RequestContext;
use mm_kernel::module::{DemoShop, ModuleContext};

/// Stores the demo mini-program's credentials and creates the admin unless it exists.
pub fn seed<'a>(
    ctx: &'a ModuleContext,
    shop: &'a DemoShop,
) -> futures::future::BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(seed_identity(ctx, shop))
}

async fn seed_identity(ctx: &ModuleContext, shop: &DemoShop) -> anyhow::Result<()> {
    let identity = crate::IdentityApp::from_context(ctx)?;
    let system = RequestContext::system("demo-seed");
    let tenant = shop.tenant;
    identity
        .set_wechat_credentials(&system, tenant, shop.appid, shop.app_secret)
        .await?;
    if !identity
        .has_login(&system, tenant, shop.admin_login)
        .await?
    {
        let created = identity
            .create_staff(
                &system,
                tenant,
                crate::service::NewStaff {
                    role: mm_kernel::Role::Admin,
                    display_name: "店长".into(),
                    login_name: shop.admin_login.into(),
                    phone: String::new(),
                    permissions: Vec::new(),
                    password: shop.admin_password.into(),
                },
            )
            .await;
        match created {
            // Another instance created the admin between our look and our write.
            Ok(_) | Err(crate::error::IdentityError::DuplicateLogin { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
