//! tonic handlers: read the context, parse names, call the use case, convert back.

use mm_kernel::error::RequestError;
use mm_kernel::ids::tenant_from_name;
use mm_kernel::{RequestContext, Role};
use mm_proto::minimodules::identity::v1 as pb;
use pb::auth_service_server::AuthService;
use pb::user_service_server::UserService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::names::{UserName, WechatCredentialsName};
use crate::service::{IdentityApp, NewStaff, ProfilePatch, UserPatch};

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Reply<T> {
    Ok(Response::new(v))
}

fn role(v: i32, field: &str) -> Result<Role, RequestError> {
    Role::try_from(v).map_err(|_| RequestError::invalid(field, "unknown role"))
}

#[tonic::async_trait]
impl AuthService for IdentityApp {
    async fn password_login(
        &self,
        req: Request<pb::PasswordLoginRequest>,
    ) -> Reply<pb::PasswordLoginResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.tenant, "tenant")?;
        let (tokens, user) = self
            .password_login(&ctx, tenant, &r.login_name, &r.password)
            .await?;
        ok(pb::PasswordLoginResponse {
            tokens: Some(convert::tokens(tokens)),
            user: Some(convert::user(&user)),
        })
    }

    async fn operator_login(
        &self,
        req: Request<pb::OperatorLoginRequest>,
    ) -> Reply<pb::OperatorLoginResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tokens = self
            .operator_login(&ctx, &r.login_name, &r.password)
            .await?;
        ok(pb::OperatorLoginResponse {
            tokens: Some(convert::tokens(tokens)),
        })
    }

    async fn wechat_login(
        &self,
        req: Request<pb::WechatLoginRequest>,
    ) -> Reply<pb::WechatLoginResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (tokens, user, created) = self.wechat_login(&ctx, &r.wechat_appid, &r.code).await?;
        ok(pb::WechatLoginResponse {
            tokens: Some(convert::tokens(tokens)),
            user: Some(convert::user(&user)),
            created,
        })
    }

    async fn dev_login(&self, req: Request<pb::DevLoginRequest>) -> Reply<pb::DevLoginResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (tokens, user) = self.dev_login(&ctx, &r.wechat_appid, &r.openid).await?;
        ok(pb::DevLoginResponse {
            tokens: Some(convert::tokens(tokens)),
            user: Some(convert::user(&user)),
        })
    }

    async fn refresh_session(
        &self,
        req: Request<pb::RefreshSessionRequest>,
    ) -> Reply<pb::RefreshSessionResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tokens = self.refresh(&ctx, &req.get_ref().refresh_token).await?;
        ok(pb::RefreshSessionResponse {
            tokens: Some(convert::tokens(tokens)),
        })
    }

    async fn logout(&self, req: Request<pb::LogoutRequest>) -> Reply<pb::LogoutResponse> {
        let ctx = RequestContext::from_request(&req)?;
        self.logout(&ctx).await?;
        ok(pb::LogoutResponse {})
    }

    async fn change_password(
        &self,
        req: Request<pb::ChangePasswordRequest>,
    ) -> Reply<pb::ChangePasswordResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tokens = self
            .change_password(&ctx, &r.current_password, &r.new_password)
            .await?;
        ok(pb::ChangePasswordResponse {
            tokens: Some(convert::tokens(tokens)),
        })
    }

    async fn bind_phone(&self, req: Request<pb::BindPhoneRequest>) -> Reply<pb::BindPhoneResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let user = self.bind_phone(&ctx, &req.get_ref().code).await?;
        ok(pb::BindPhoneResponse {
            user: Some(convert::user(&user)),
        })
    }

    async fn update_me(&self, req: Request<pb::UpdateMeRequest>) -> Reply<pb::UpdateMeResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let u = r.user.unwrap_or_default();
        let mut patch = ProfilePatch::default();
        for p in r.update_mask.map(|m| m.paths).unwrap_or_default() {
            match p.as_str() {
                "display_name" => patch.display_name = Some(u.display_name.clone()),
                "nickname" => patch.nickname = Some(u.nickname.clone()),
                "avatar_url" => patch.avatar_url = Some(u.avatar_url.clone()),
                other => {
                    return Err(RequestError::invalid(
                        "update_mask",
                        format!("unknown or read-only field {other:?}"),
                    )
                    .into());
                }
            }
        }
        let row = self.update_me(&ctx, patch).await?;
        ok(pb::UpdateMeResponse {
            user: Some(convert::user(&row)),
        })
    }

    async fn get_me(&self, req: Request<pb::GetMeRequest>) -> Reply<pb::GetMeResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let user = self.me(&ctx).await?;
        ok(pb::GetMeResponse {
            user: Some(convert::user(&user)),
        })
    }
}

#[tonic::async_trait]
impl UserService for IdentityApp {
    async fn get_user(&self, req: Request<pb::GetUserRequest>) -> Reply<pb::GetUserResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, user) = UserName::parse(&req.get_ref().name, "name")?.into_parts();
        let row = self.get_user(&ctx, tenant, &user).await?;
        ok(pb::GetUserResponse {
            user: Some(convert::user(&row)),
        })
    }

    async fn list_users(&self, req: Request<pb::ListUsersRequest>) -> Reply<pb::ListUsersResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let (rows, next) = self
            .list_users(
                &ctx,
                tenant,
                r.page_size,
                &r.page_token,
                &r.query,
                role(r.role, "role")?,
            )
            .await?;
        ok(pb::ListUsersResponse {
            users: rows.iter().map(convert::user).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn create_staff(
        &self,
        req: Request<pb::CreateStaffRequest>,
    ) -> Reply<pb::CreateStaffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let u = r
            .user
            .ok_or_else(|| RequestError::invalid("user", "is required"))?;
        let staff = NewStaff {
            role: role(u.role, "user.role")?,
            display_name: u.display_name,
            login_name: u.login_name,
            phone: u.phone,
            permissions: u.permissions,
            password: r.password,
        };
        let row = self.create_staff(&ctx, tenant, staff).await?;
        ok(pb::CreateStaffResponse {
            user: Some(convert::user(&row)),
        })
    }

    async fn update_user(
        &self,
        req: Request<pb::UpdateUserRequest>,
    ) -> Reply<pb::UpdateUserResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let u = r
            .user
            .ok_or_else(|| RequestError::invalid("user", "is required"))?;
        let (tenant, user) = UserName::parse(&u.name, "user.name")?.into_parts();
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(RequestError::invalid("update_mask", "name the fields to change").into());
        }
        let mut patch = UserPatch::default();
        for p in paths {
            match p.as_str() {
                "display_name" => patch.display_name = Some(u.display_name.clone()),
                "phone" => patch.phone = Some(u.phone.clone()),
                "role" => patch.role = Some(role(u.role, "user.role")?),
                "permissions" => patch.permissions = Some(u.permissions.clone()),
                other => {
                    return Err(RequestError::invalid(
                        "update_mask",
                        format!("unknown or read-only field {other:?}"),
                    )
                    .into());
                }
            }
        }
        let row = self.update_user(&ctx, tenant, &user, patch).await?;
        ok(pb::UpdateUserResponse {
            user: Some(convert::user(&row)),
        })
    }

    async fn disable_user(
        &self,
        req: Request<pb::DisableUserRequest>,
    ) -> Reply<pb::DisableUserResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, user) = UserName::parse(&req.get_ref().name, "name")?.into_parts();
        let row = self.set_disabled(&ctx, tenant, &user, true).await?;
        ok(pb::DisableUserResponse {
            user: Some(convert::user(&row)),
        })
    }

    async fn enable_user(
        &self,
        req: Request<pb::EnableUserRequest>,
    ) -> Reply<pb::EnableUserResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, user) = UserName::parse(&req.get_ref().name, "name")?.into_parts();
        let row = self.set_disabled(&ctx, tenant, &user, false).await?;
        ok(pb::EnableUserResponse {
            user: Some(convert::user(&row)),
        })
    }

    async fn get_wechat_credentials(
        &self,
        req: Request<pb::GetWechatCredentialsRequest>,
    ) -> Reply<pb::GetWechatCredentialsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let name = &req.get_ref().name;
        let tenant = WechatCredentialsName::tenant_of(name, "name")?;
        let row = self.wechat_credentials(&ctx, tenant).await?;
        ok(pb::GetWechatCredentialsResponse {
            wechat_credentials: Some(pb::WechatCredentials {
                name: WechatCredentialsName::name(tenant),
                wechat_appid: row
                    .as_ref()
                    .map(|r| r.wechat_appid.clone())
                    .unwrap_or_default(),
                app_secret_set: row.as_ref().is_some_and(|r| !r.secret_enc.is_empty()),
                update_time: row.map(|r| mm_kernel::json::timestamp(r.updated_at)),
            }),
        })
    }

    async fn set_wechat_credentials(
        &self,
        req: Request<pb::SetWechatCredentialsRequest>,
    ) -> Reply<pb::SetWechatCredentialsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        self.set_wechat_credentials(&ctx, tenant, &r.wechat_appid, &r.app_secret)
            .await?;
        ok(pb::SetWechatCredentialsResponse {
            wechat_appid: r.wechat_appid.clone(),
        })
    }

    async fn get_payer(&self, req: Request<pb::GetPayerRequest>) -> Reply<pb::GetPayerResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, user) = UserName::parse(&req.get_ref().name, "name")?.into_parts();
        let (openid, appid) = self.get_payer(&ctx, tenant, &user).await?;
        ok(pb::GetPayerResponse { openid, appid })
    }

    async fn send_subscribe_message(
        &self,
        req: Request<pb::SendSubscribeMessageRequest>,
    ) -> Reply<pb::SendSubscribeMessageResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let (tenant, user) = UserName::parse(&r.name, "name")?.into_parts();
        self.send_subscribe_message(&ctx, tenant, &user, &r.template_id, &r.page, &r.data)
            .await?;
        ok(pb::SendSubscribeMessageResponse {})
    }

    async fn list_audit_events(
        &self,
        req: Request<pb::ListAuditEventsRequest>,
    ) -> Reply<pb::ListAuditEventsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let (rows, next) = self
            .list_audit(&ctx, tenant, r.page_size, &r.page_token)
            .await?;
        ok(pb::ListAuditEventsResponse {
            events: rows
                .iter()
                .map(|e| convert::audit_event(tenant, e))
                .collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }
}
