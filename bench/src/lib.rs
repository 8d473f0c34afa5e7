//! What the load generators share: a request with a bearer token, and the demo tenant and its
//! admin's token, found the way a client would (the app config by appid, a password login).

use mm_proto::minimodules::identity::v1 as ipb;
use mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use tonic::transport::Channel;

/// `msg` with `authorization: Bearer {token}`.
pub fn authed<T>(msg: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(req)
}

/// The tenant of the mini-program `appid` ("tenants/{id}") and an access token of its admin.
pub async fn demo_admin(
    ch: &Channel,
    appid: &str,
    login_name: &str,
    password: &str,
) -> anyhow::Result<(String, String)> {
    let tenant = TenantServiceClient::new(ch.clone())
        .get_app_config(tpb::GetAppConfigRequest {
            wechat_appid: appid.to_string(),
        })
        .await?
        .into_inner()
        .app_config
        .ok_or_else(|| anyhow::anyhow!("no app config"))?
        .tenant;
    let token = AuthServiceClient::new(ch.clone())
        .password_login(ipb::PasswordLoginRequest {
            tenant: tenant.clone(),
            login_name: login_name.to_string(),
            password: password.to_string(),
        })
        .await?
        .into_inner()
        .tokens
        .ok_or_else(|| anyhow::anyhow!("no tokens"))?
        .access_token;
    Ok((tenant, token))
}
