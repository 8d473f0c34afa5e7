//! Users as the shop sees them: the customer's own profile, staff management, the audit log.

use super::*;

impl IdentityApp {
    /// The caller.
    pub async fn me(&self, ctx: &RequestContext) -> Result<users::Model> {
        let p = ctx.principal()?;
        let scope = ctx.authorize_tenant(&tenant_of(ctx)?)?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_user(&txn, &scope, &p.subject).await?;
        txn.commit().await?;
        row.ok_or(IdentityError::SessionEnded)
    }

    /// Updates the caller's own profile.
    pub async fn update_me(
        &self,
        ctx: &RequestContext,
        patch: ProfilePatch,
    ) -> Result<users::Model> {
        let mut v = Vec::new();
        if let Some(n) = &patch.display_name {
            domain::check_display_name("user.display_name", n, &mut v);
        }
        if let Some(n) = &patch.nickname
            && (n.chars().count() > 64 || n.chars().any(char::is_control))
        {
            v.push(FieldViolation::new(
                "user.nickname",
                "at most 64 printable characters",
            ));
        }
        let https_url = |a: &str| {
            a.starts_with("https://") && a.len() <= 2048 && !a.chars().any(char::is_whitespace)
        };
        if let Some(a) = &patch.avatar_url
            && !a.is_empty()
            && !https_url(a)
        {
            v.push(FieldViolation::invalid_format("user.avatar_url", "url"));
        }
        invalid(v)?;
        let scope = ctx.authorize_tenant(&tenant_of(ctx)?)?;
        let mut row = self.me(ctx).await?;
        if let Some(n) = patch.display_name {
            row.display_name = n.trim().to_string();
        }
        if let Some(n) = patch.nickname {
            row.nickname = n.trim().to_string();
        }
        if let Some(a) = patch.avatar_url {
            row.avatar_url = a;
        }
        let txn = scope.begin(&self.db).await?;
        let row = repo::save_user(&txn, &scope, row).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// One user of a tenant.
    pub async fn get_user(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
    ) -> Result<users::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_user(&txn, &scope, user).await?;
        txn.commit().await?;
        row.ok_or_else(|| IdentityError::UserNotFound {
            user: user.to_string(),
        })
    }

    /// The openid a customer pays with and the tenant's appid (for WeChat Pay's prepay).
    pub async fn get_payer(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
    ) -> Result<(String, String)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let (openid, app) = self.payer(&scope, user).await?;
        Ok((openid, app.wechat_appid))
    }

    /// The openid a customer of the scope's tenant pays (or is messaged) with, and the tenant's
    /// mini-program credentials.
    pub(super) async fn payer(
        &self,
        scope: &TenantScope,
        user: &str,
    ) -> Result<(String, wechat_apps::Model)> {
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_user(&txn, scope, user).await?.ok_or_else(|| {
            IdentityError::UserNotFound {
                user: user.to_string(),
            }
        })?;
        let openid = row.wechat_openid.ok_or_else(|| {
            IdentityError::NotAllowed("the user has no WeChat identity to pay with".into())
        })?;
        let app =
            repo::find_app(&txn, scope)
                .await?
                .ok_or_else(|| IdentityError::AppNotRegistered {
                    appid: String::new(),
                })?;
        txn.commit().await?;
        Ok((openid, app))
    }

    /// A page of users.
    pub async fn list_users(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        page_size: i32,
        page_token: &str,
        query: &str,
        role: Role,
    ) -> Result<(Vec<users::Model>, Option<String>)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let size = mm_kernel::paging::page_size(page_size)?;
        if query.chars().count() > 64 {
            return Err(IdentityError::invalid("query", "at most 64 characters"));
        }
        let purpose = format!("users:{tenant}");
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let role = (role != Role::Unspecified).then(|| role_str(role));
        let txn = scope.begin(&self.db).await?;
        let rows = repo::list_users(
            &txn,
            &scope,
            before.as_deref(),
            size + 1,
            query.trim(),
            role,
        )
        .await?;
        txn.commit().await?;
        Ok(mm_kernel::paging::finish_page(rows, size, &purpose, |r| {
            &r.user_id
        }))
    }

    /// Creates a staff member or admin.
    pub async fn create_staff(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        s: NewStaff,
    ) -> Result<users::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let login = s.login_name.trim().to_lowercase();
        let mut v = Vec::new();
        if !matches!(s.role, Role::Staff | Role::Admin) {
            v.push(FieldViolation::new(
                "user.role",
                "must be ROLE_STAFF or ROLE_ADMIN",
            ));
        }
        domain::check_display_name("user.display_name", &s.display_name, &mut v);
        domain::check_login("user.login_name", &login, &mut v);
        domain::check_phone("user.phone", &s.phone, &mut v);
        domain::check_password("password", &s.password, &mut v);
        self.check_permissions("user.permissions", &s.permissions, &mut v);
        invalid(v)?;
        let txn = scope.begin(&self.db).await?;
        let taken = repo::find_user_by_login(&txn, &scope, &login)
            .await?
            .is_some();
        txn.commit().await?;
        if taken {
            return Err(IdentityError::DuplicateLogin { login });
        }
        let hash = domain::hash_password(s.password).await?;
        let now = Utc::now();
        let row = users::Model {
            tenant_id: scope.tenant(),
            user_id: uuid::Uuid::now_v7().to_string(),
            role: role_str(s.role).to_string(),
            display_name: s.display_name.trim().to_string(),
            login_name: Some(login.clone()),
            phone: (!s.phone.is_empty()).then_some(s.phone),
            password_hash: Some(hash),
            wechat_openid: None,
            wechat_unionid: None,
            nickname: String::new(),
            avatar_url: String::new(),
            permissions: serde_json::to_string(&s.permissions).map_err(anyhow::Error::from)?,
            disabled: false,
            last_login_at: None,
            created_at: now,
            updated_at: now,
        };
        let txn = scope.begin(&self.db).await?;
        let row = repo::insert_user(&txn, &scope, row)
            .await
            .map_err(|e| match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => IdentityError::DuplicateLogin {
                    login: login.clone(),
                },
                _ => IdentityError::Db(e),
            })?;
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), "identity.staff.created", login)
                .with(json!({"role": row.role, "permissions": s.permissions})),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Updates a user; role and permission changes end their sessions so they apply at once.
    pub async fn update_user(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
        patch: UserPatch,
    ) -> Result<users::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        if let Some(n) = &patch.display_name {
            domain::check_display_name("user.display_name", n, &mut v);
        }
        if let Some(p) = &patch.phone {
            domain::check_phone("user.phone", p, &mut v);
        }
        if let Some(r) = patch.role
            && !matches!(r, Role::Staff | Role::Admin)
        {
            v.push(FieldViolation::new(
                "user.role",
                "must be ROLE_STAFF or ROLE_ADMIN",
            ));
        }
        if let Some(p) = &patch.permissions {
            self.check_permissions("user.permissions", p, &mut v);
        }
        invalid(v)?;
        let mut row = self.find_user(&scope, user).await?;
        let access_changed = patch.role.is_some() || patch.permissions.is_some();
        if access_changed && row.role == "customer" {
            return Err(IdentityError::NotAllowed(
                "customers have no staff role or permissions".into(),
            ));
        }
        if access_changed && ctx.principal()?.subject == row.user_id {
            return Err(IdentityError::NotAllowed(
                "you cannot change your own role or permissions".into(),
            ));
        }
        if let Some(n) = patch.display_name {
            row.display_name = n.trim().to_string();
        }
        if let Some(p) = patch.phone {
            row.phone = (!p.is_empty()).then_some(p);
        }
        if let Some(r) = patch.role {
            row.role = role_str(r).to_string();
        }
        if let Some(p) = &patch.permissions {
            row.permissions = serde_json::to_string(p).map_err(anyhow::Error::from)?;
        }
        let txn = scope.begin(&self.db).await?;
        let row = repo::save_user(&txn, &scope, row).await?;
        if access_changed {
            audit::record(
                &txn,
                AuditRecord::by(
                    ctx,
                    Some(tenant),
                    "identity.role.changed",
                    row.user_id.clone(),
                )
                .with(json!({"role": row.role, "permissions": permissions_of(&row)})),
            )
            .await?;
        }
        txn.commit().await?;
        if access_changed {
            self.end_sessions(&tenant.to_string(), &row.user_id, None)
                .await?;
        }
        Ok(row)
    }

    /// Disables or enables a user; disabling ends their sessions.
    pub async fn set_disabled(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
        disabled: bool,
    ) -> Result<users::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut row = self.find_user(&scope, user).await?;
        if disabled && ctx.principal()?.subject == row.user_id {
            return Err(IdentityError::NotAllowed(
                "you cannot disable yourself".into(),
            ));
        }
        row.disabled = disabled;
        let txn = scope.begin(&self.db).await?;
        let row = repo::save_user(&txn, &scope, row).await?;
        let action = if disabled {
            "identity.user.disabled"
        } else {
            "identity.user.enabled"
        };
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), action, row.user_id.clone()),
        )
        .await?;
        txn.commit().await?;
        if disabled {
            self.end_sessions(&tenant.to_string(), &row.user_id, None)
                .await?;
        }
        Ok(row)
    }

    /// A page of a tenant's audit log.
    pub async fn list_audit(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<audit::AuditEntry>, Option<String>)> {
        // The audit log is a platform table keyed by tenant (outside row-level security): the
        // scope is the caller's right to read this tenant's part of it.
        let scope = ctx.authorize_tenant(&tenant)?;
        let size = mm_kernel::paging::page_size(page_size)?;
        let purpose = format!("audit:{tenant}");
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let rows = audit::list(&self.db, Some(scope.tenant()), before.as_deref(), size + 1).await?;
        Ok(mm_kernel::paging::finish_page(rows, size, &purpose, |r| {
            &r.event_id
        }))
    }

    /// Whether a tenant already has a login name (demo seeding).
    pub async fn has_login(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        login: &str,
    ) -> Result<bool> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_user_by_login(&txn, &scope, login).await?;
        txn.commit().await?;
        Ok(row.is_some())
    }

    /// One user of the scope's tenant, read in a transaction of its own.
    async fn find_user(&self, scope: &TenantScope, user: &str) -> Result<users::Model> {
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_user(&txn, scope, user).await?;
        txn.commit().await?;
        row.ok_or_else(|| IdentityError::UserNotFound {
            user: user.to_string(),
        })
    }
}
