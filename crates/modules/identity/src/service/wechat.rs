//! The WeChat side: mini-program credentials, WeChat logins (and the dev stand-in), phone binding
//! and subscribe messages.

use super::*;

impl IdentityApp {
    /// The tenant behind an appid, and its AppSecret. The tenant module's `tenants` table (a
    /// reference table under Citus) is the one place an appid names a tenant; identity keeps the
    /// secret by tenant alone, so none of its rows is unique across tenants. Asking the tenant
    /// module first also shuts out an archived shop and credentials left behind by an appid change.
    ///
    /// A login has no caller token: the tenant the appid names is the one the login may touch,
    /// so the scope returned is the platform's login scope narrowed to it.
    pub(super) async fn app_by_appid(&self, appid: &str) -> Result<(TenantScope, String)> {
        let login = SystemScope::named("identity.login");
        let Some(tenant) = self.shop_of(appid).await? else {
            // No open shop has this appid. Credentials still stored under it belong to a shop
            // that closed or moved to another appid: say so rather than "never registered".
            let txn = login.begin(&self.db).await?;
            let left_behind = repo::app_with_appid_exists(&txn, &login, appid).await?;
            txn.commit().await?;
            return Err(if left_behind {
                IdentityError::ShopUnavailable {
                    appid: appid.to_string(),
                }
            } else {
                IdentityError::AppNotRegistered {
                    appid: appid.to_string(),
                }
            });
        };
        let scope = login.tenant(tenant);
        let txn = scope.begin(&self.db).await?;
        let app = repo::find_app(&txn, &scope).await?;
        txn.commit().await?;
        let app = app.filter(|a| a.wechat_appid == appid).ok_or_else(|| {
            IdentityError::AppNotRegistered {
                appid: appid.to_string(),
            }
        })?;
        let secret = self.secrets.open(&app.secret_enc)?;
        Ok((scope, secret))
    }

    /// The open shop whose mini-program has this appid, asked of the tenant module through its
    /// public contract (the call needs no token: it is what the mini-program boots with).
    pub(super) async fn shop_of(&self, appid: &str) -> Result<Option<TenantId>> {
        let mut tenants = TenantServiceClient::new(self.platform.clone());
        match tenants
            .get_app_config(GetAppConfigRequest {
                wechat_appid: appid.to_string(),
            })
            .await
        {
            Ok(r) => {
                let name = r
                    .into_inner()
                    .app_config
                    .map(|c| c.tenant)
                    .unwrap_or_default();
                let tenant = mm_kernel::ids::tenant_from_name(&name, "tenant")
                    .map_err(|_| anyhow::anyhow!("tenant service named no tenant: {name:?}"))?;
                Ok(Some(tenant))
            }
            // A malformed appid names no shop either.
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::NotFound | tonic::Code::InvalidArgument
                ) =>
            {
                Ok(None)
            }
            Err(s) => Err(anyhow::anyhow!("tenant service: {}", s.message()).into()),
        }
    }

    pub(super) async fn customer_for(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        openid: &str,
        unionid: Option<String>,
    ) -> Result<(users::Model, bool)> {
        let txn = scope.begin(&self.db).await?;
        let found = repo::find_user_by_openid(&txn, scope, openid).await?;
        txn.commit().await?;
        if let Some(mut row) = found {
            if row.disabled {
                return Err(IdentityError::Disabled);
            }
            row.last_login_at = Some(Utc::now());
            if unionid.is_some() {
                row.wechat_unionid = unionid;
            }
            let txn = scope.begin(&self.db).await?;
            let row = repo::save_user(&txn, scope, row).await?;
            txn.commit().await?;
            return Ok((row, false));
        }
        let now = Utc::now();
        let row = users::Model {
            tenant_id: scope.tenant(),
            user_id: uuid::Uuid::now_v7().to_string(),
            role: "customer".into(),
            display_name: "微信用户".into(),
            login_name: None,
            phone: None,
            password_hash: None,
            wechat_openid: Some(openid.to_string()),
            wechat_unionid: unionid,
            nickname: String::new(),
            avatar_url: String::new(),
            permissions: "[]".into(),
            disabled: false,
            last_login_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        let txn = scope.begin(&self.db).await?;
        match repo::insert_user(&txn, scope, row).await {
            Ok(row) => {
                txn.commit().await?;
                let mut ev = AuditRecord::by(
                    ctx,
                    Some(scope.tenant()),
                    "auth.customer.created",
                    row.user_id.clone(),
                );
                ev.actor.clone_from(&row.user_id);
                audit::record(&self.db, ev).await?;
                Ok((row, true))
            }
            // Two first logins of one customer at once: the other one created the row.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                // The failed insert ended its transaction (PostgreSQL refuses anything more in
                // it): roll it back and read in a new one.
                drop(txn);
                let txn = scope.begin(&self.db).await?;
                let row = repo::find_user_by_openid(&txn, scope, openid).await?;
                txn.commit().await?;
                let row = row.ok_or(IdentityError::Db(e))?;
                Ok((row, false))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Customer login with a wx.login code.
    pub async fn wechat_login(
        &self,
        ctx: &RequestContext,
        appid: &str,
        code: &str,
    ) -> Result<(Tokens, users::Model, bool)> {
        self.throttle(ctx)?;
        let mut v = Vec::new();
        if appid.is_empty() || appid.len() > 32 {
            v.push(FieldViolation::required("wechat_appid"));
        }
        if code.is_empty() {
            v.push(FieldViolation::required("code"));
        } else if code.len() > 256 {
            v.push(FieldViolation::too_long("code", 256));
        }
        invalid(v)?;
        let (scope, secret) = self.app_by_appid(appid).await?;
        let session = self.wechat.code2session(appid, &secret, code).await?;
        let (row, created) = self
            .customer_for(ctx, &scope, &session.openid, session.unionid)
            .await?;
        let tenant = scope.tenant();
        let tokens = self
            .issue(
                &tenant.to_string(),
                Self::principal_of(tenant, &row),
                None,
                None,
            )
            .await?;
        Ok((tokens, row, created))
    }

    /// Development login: a customer by made-up openid, only in dev mode.
    pub async fn dev_login(
        &self,
        ctx: &RequestContext,
        appid: &str,
        openid: &str,
    ) -> Result<(Tokens, users::Model)> {
        if self.settings.environment != Environment::Dev {
            return Err(IdentityError::DevLoginDisabled);
        }
        if openid.is_empty() || openid.len() > 128 {
            return Err(IdentityError::invalid(
                "openid",
                "is required, at most 128 characters",
            ));
        }
        let (scope, _) = self.app_by_appid(appid).await?;
        let (row, _) = self
            .customer_for(ctx, &scope, &format!("dev:{openid}"), None)
            .await?;
        let tenant = scope.tenant();
        let tokens = self
            .issue(
                &tenant.to_string(),
                Self::principal_of(tenant, &row),
                None,
                None,
            )
            .await?;
        Ok((tokens, row))
    }

    pub(super) async fn wechat_access_token(
        &self,
        tenant: TenantId,
        appid: &str,
        secret: &str,
        fresh: bool,
    ) -> Result<String> {
        let key = "wechat:access_token";
        if !fresh
            && let Some(b) = self.cache.get(&tenant, key).await
            && let Ok(t) = String::from_utf8(b.to_vec())
        {
            return Ok(t);
        }
        let t = self.wechat.access_token(appid, secret).await?;
        // The cache's own lifetime (minutes) is far below WeChat's two hours, and a refused token
        // is fetched again at once (see bind_phone), so the token is never used past its expiry.
        self.cache
            .set(&tenant, key, t.token.clone().into_bytes().into())
            .await;
        Ok(t.token)
    }

    /// Binds the phone WeChat vouches for to the calling customer.
    pub async fn bind_phone(&self, ctx: &RequestContext, code: &str) -> Result<users::Model> {
        let p = ctx.principal()?.clone();
        let scope = ctx.authorize_tenant(&tenant_of(ctx)?)?;
        let tenant = scope.tenant();
        if code.is_empty() || code.len() > 256 {
            return Err(IdentityError::invalid(
                "code",
                "is required and at most 256 characters",
            ));
        }
        // Read, and the transaction ended, before WeChat is asked.
        let txn = scope.begin(&self.db).await?;
        let app = repo::find_app(&txn, &scope).await?;
        txn.commit().await?;
        let app = app.ok_or_else(|| IdentityError::AppNotRegistered {
            appid: String::new(),
        })?;
        let secret = self.secrets.open(&app.secret_enc)?;
        let mut token = self
            .wechat_access_token(tenant, &app.wechat_appid, &secret, false)
            .await?;
        let mut phone = self.wechat.phone_number(&token, code).await?;
        if phone.is_none() {
            token = self
                .wechat_access_token(tenant, &app.wechat_appid, &secret, true)
                .await?;
            phone = self.wechat.phone_number(&token, code).await?;
        }
        let phone = phone.ok_or(IdentityError::WechatCredentials)?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_user(&txn, &scope, &p.subject).await?;
        txn.commit().await?;
        let mut row = row.ok_or(IdentityError::SessionEnded)?;
        row.phone = Some(phone);
        let txn = scope.begin(&self.db).await?;
        let row = repo::save_user(&txn, &scope, row).await?;
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), "auth.phone.bound", p.subject),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Sends a subscribe message to a customer through WeChat (for modules: booking reminders).
    /// A refused access token is fetched again once, as for phone numbers.
    pub async fn send_subscribe_message(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
        template_id: &str,
        page: &str,
        data: &HashMap<String, String>,
    ) -> Result<()> {
        if template_id.trim().is_empty() || template_id.len() > 128 {
            return Err(IdentityError::invalid(
                "template_id",
                "is required and at most 128 characters",
            ));
        }
        let scope = ctx.authorize_tenant(&tenant)?;
        // The user and the credentials are read, and the transaction ended, before WeChat is asked.
        let (openid, app) = self.payer(&scope, user).await?;
        let secret = self.secrets.open(&app.secret_enc)?;
        for fresh in [false, true] {
            let token = self
                .wechat_access_token(tenant, &app.wechat_appid, &secret, fresh)
                .await?;
            if self
                .wechat
                .send_subscribe_message(&token, &openid, template_id, page, data)
                .await?
            {
                return Ok(());
            }
        }
        Err(IdentityError::WechatCredentials)
    }

    /// The tenant's stored mini-program credentials (the secret stays sealed), if any.
    pub async fn wechat_credentials(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<Option<wechat_apps::Model>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        Ok(repo::find_app(&scope.one(&self.db).await?, &scope).await?)
    }

    /// Stores a tenant's mini-program credentials, the secret encrypted.
    pub async fn set_wechat_credentials(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        appid: &str,
        secret: &str,
    ) -> Result<()> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        if !(appid.len() == 18
            && appid.starts_with("wx")
            && appid[2..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            v.push(FieldViolation::invalid_format("wechat_appid", "appid"));
        }
        if secret.len() < 16
            || secret.len() > 128
            || !secret.chars().all(|c| c.is_ascii_alphanumeric())
        {
            v.push(FieldViolation::invalid_format("app_secret", "app_secret"));
        }
        invalid(v)?;
        if let Some(other) = self.shop_of(appid).await?
            && other != tenant
        {
            return Err(IdentityError::DuplicateAppid {
                appid: appid.to_string(),
            });
        }
        let sealed = self.secrets.seal(secret)?;
        // Begun after the tenant module answered: no transaction is held across that call.
        let txn = scope.begin(&self.db).await?;
        repo::put_app(&txn, &scope, appid, &sealed).await?;
        audit::record(
            &txn,
            AuditRecord::by(
                ctx,
                Some(tenant),
                "identity.wechat.credentials_set",
                appid.to_string(),
            ),
        )
        .await?;
        txn.commit().await?;
        self.cache
            .invalidate(&tenant, &["wechat:access_token"])
            .await;
        Ok(())
    }
}
