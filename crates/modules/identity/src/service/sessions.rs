//! Sessions: password and operator logins, token issue and rotation, logout, password changes.

use super::*;

impl IdentityApp {
    /// Tokens for a session; `ends` fixes when the session ends however often it is renewed
    /// (staff, see [`Self::staff_session_end`]), else each refresh token lives `auth.refresh_ttl`.
    pub(super) async fn issue(
        &self,
        scope: &str,
        principal: Principal,
        session: Option<String>,
        ends: Option<chrono::DateTime<Utc>>,
    ) -> Result<Tokens> {
        let session = session.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let refresh = domain::new_refresh_token(scope);
        let now = Utc::now();
        let sliding = now
            + chrono::Duration::seconds(
                i64::try_from(self.settings.auth.refresh_ttl_secs).unwrap_or(i64::MAX / 2),
            );
        let expires = ends.map_or(sliding, |e| e.min(sliding));
        let ttl = (expires - now).num_seconds().max(0);
        repo::insert_session(
            &self.db,
            scope,
            &domain::hash_token(&refresh),
            &session,
            &principal.subject,
            expires,
        )
        .await?;
        let access = self
            .keys
            .issue(&Principal {
                session: Some(session),
                ..principal
            })
            .map_err(|e| anyhow::anyhow!("Failed to sign a token: {e}"))?;
        Ok(Tokens {
            access_token: access,
            access_expires_in: i64::try_from(self.settings.auth.access_ttl_secs).unwrap_or(900),
            refresh_token: refresh,
            refresh_expires_in: ttl,
        })
    }

    /// When a staff or admin session begun now ends: the shop's 员工登录有效期
    /// (`staff_session_hours`), renewals included, so a shared till's login does not live for a
    /// month. Customers' and operators' sessions slide with each renewal instead (`None`).
    pub(super) async fn staff_session_end(
        &self,
        tenant: TenantId,
        role: &str,
    ) -> Option<chrono::DateTime<Utc>> {
        if !matches!(parse_role(role), Role::Staff | Role::Admin) {
            return None;
        }
        let hours = match self.configs.get(tenant).await {
            Ok(c) => c.staff_session_hours,
            // Off for the shop: the spec's default. Unreadable: the default too, rather than
            // refusing every staff login while the tenant service is away.
            Err(mm_kernel::module_config::ConfigError::Disabled) => {
                IdentityConfig::default().staff_session_hours
            }
            Err(e) => {
                tracing::warn!(error = %e, %tenant, "identity config unreadable; staff sessions get the default length");
                IdentityConfig::default().staff_session_hours
            }
        };
        Some(Utc::now() + chrono::Duration::hours(i64::from(hours.clamp(1, 720))))
    }

    pub(super) async fn end_sessions(
        &self,
        scope: &str,
        subject: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        let ended = repo::revoke_subject_sessions(&self.db, scope, subject, keep).await?;
        let ttl = Duration::from_secs(self.settings.auth.access_ttl_secs + 60);
        for sid in ended {
            self.cache.revoke_session(&sid, ttl).await;
        }
        Ok(())
    }

    /// Checks a password for an account key, with lockout after repeated failures. Unknown
    /// accounts cost the same time and count failures the same way, so neither timing nor the
    /// lockout tells whether an account exists.
    pub(super) async fn check_password(
        &self,
        lock_key: &str,
        stored_hash: Option<String>,
        password: &str,
    ) -> Result<()> {
        let max = self.settings.auth.max_failed_logins;
        let window = Duration::from_secs(self.settings.auth.lockout_secs);
        if self.cache.hits(lock_key).await >= max {
            return Err(IdentityError::Locked {
                retry_after_secs: window.as_secs(),
            });
        }
        let known = stored_hash.is_some();
        let hash = match stored_hash {
            Some(h) => h,
            // Its first use computes an argon2 hash: keep that off the async threads too.
            None => tokio::task::spawn_blocking(|| domain::DUMMY_HASH.clone())
                .await
                .map_err(anyhow::Error::from)?,
        };
        if domain::verify_password(password.to_string(), hash).await && known {
            self.cache.clear_hits(lock_key).await;
            Ok(())
        } else {
            let n = self.cache.hit(lock_key, window).await;
            if n >= max {
                Err(IdentityError::Locked {
                    retry_after_secs: window.as_secs(),
                })
            } else {
                Err(IdentityError::BadCredentials)
            }
        }
    }

    /// Staff or admin login for one tenant.
    pub async fn password_login(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        login: &str,
        password: &str,
    ) -> Result<(Tokens, users::Model)> {
        self.throttle(ctx)?;
        let t = tenant.to_string();
        let login = login.trim().to_lowercase();
        if login.is_empty() || login.len() > 64 || password.is_empty() || password.len() > 1024 {
            return Err(IdentityError::BadCredentials);
        }
        // The caller has no token yet: the login itself is what names the tenant, so the account
        // is looked up under the platform's login scope narrowed to that tenant.
        let scope = SystemScope::named("identity.login").tenant(tenant);
        let txn = scope.begin(&self.db).await?;
        let row = match repo::find_user_by_login(&txn, &scope, &login).await? {
            Some(r) => Some(r),
            // Staff may log in with their phone instead of a login name.
            None => repo::find_staff_by_phone(&txn, &scope, &login).await?,
        }
        .filter(|r| r.role != "customer");
        txn.commit().await?;
        let lock_key = lock_key(&t, row.as_ref().map(|r| r.user_id.as_str()), &login);
        let result = self
            .check_password(
                &lock_key,
                row.as_ref().and_then(|r| r.password_hash.clone()),
                password,
            )
            .await;
        if let Err(e) = result {
            let action = if matches!(e, IdentityError::Locked { .. }) {
                "auth.login.locked"
            } else {
                "auth.login.failed"
            };
            audit::record(
                &self.db,
                AuditRecord::by(ctx, Some(tenant), action, login.clone()),
            )
            .await?;
            return Err(e);
        }
        let Some(mut row) = row else {
            return Err(IdentityError::BadCredentials);
        };
        if row.disabled {
            audit::record(
                &self.db,
                AuditRecord::by(ctx, Some(tenant), "auth.login.refused_disabled", login),
            )
            .await?;
            return Err(IdentityError::Disabled);
        }
        // After the password, so the answer tells a stranger nothing about the shop.
        self.gate.check_tenant(tenant).await.map_err(|r| match r {
            mm_kernel::gate::Refusal::Ended => IdentityError::TenantArchived,
            mm_kernel::gate::Refusal::Unavailable => IdentityError::SessionUncheckable,
        })?;
        row.last_login_at = Some(Utc::now());
        let txn = scope.begin(&self.db).await?;
        let row = repo::save_user(&txn, &scope, row).await?;
        txn.commit().await?;
        let mut ev = AuditRecord::by(ctx, Some(tenant), "auth.login.succeeded", login);
        ev.actor.clone_from(&row.user_id);
        audit::record(&self.db, ev).await?;
        let ends = self.staff_session_end(tenant, &row.role).await;
        let tokens = self
            .issue(&t, Self::principal_of(tenant, &row), None, ends)
            .await?;
        Ok((tokens, row))
    }

    /// Platform operator login.
    pub async fn operator_login(
        &self,
        ctx: &RequestContext,
        login: &str,
        password: &str,
    ) -> Result<Tokens> {
        self.throttle(ctx)?;
        let login = login.trim().to_lowercase();
        if login.is_empty() || login.len() > 64 || password.is_empty() || password.len() > 1024 {
            return Err(IdentityError::BadCredentials);
        }
        let row = repo::find_operator_by_login(&self.db, &login).await?;
        let lock_key = lock_key(
            PLATFORM,
            row.as_ref().map(|r| r.operator_id.as_str()),
            &login,
        );
        if let Err(e) = self
            .check_password(
                &lock_key,
                row.as_ref().map(|r| r.password_hash.clone()),
                password,
            )
            .await
        {
            audit::record(
                &self.db,
                AuditRecord::by(ctx, None, "auth.operator_login.failed", login),
            )
            .await?;
            return Err(e);
        }
        let Some(row) = row else {
            return Err(IdentityError::BadCredentials);
        };
        if row.disabled {
            return Err(IdentityError::Disabled);
        }
        let mut ev = AuditRecord::by(ctx, None, "auth.operator_login.succeeded", login);
        ev.actor.clone_from(&row.operator_id);
        audit::record(&self.db, ev).await?;
        let principal = Principal {
            subject: row.operator_id,
            role: Role::Operator,
            ..Principal::default()
        };
        self.issue(PLATFORM, principal, None, None).await
    }

    /// Rotates a refresh token. Reuse of a spent token ends the whole session: a thief and the
    /// rightful owner cannot both keep it.
    pub async fn refresh(&self, ctx: &RequestContext, token: &str) -> Result<Tokens> {
        let (scope, hash) =
            domain::parse_refresh_token(token).ok_or(IdentityError::SessionEnded)?;
        let row = repo::find_session(&self.db, &scope, &hash)
            .await?
            .ok_or(IdentityError::SessionEnded)?;
        if row.revoked_at.is_some() || row.expires_at <= Utc::now() {
            return Err(IdentityError::SessionEnded);
        }
        let tenant = if scope == PLATFORM {
            None
        } else {
            Some(TenantId::parse(&scope, "refresh_token")?)
        };
        // The refresh token (found live above) names the tenant; the caller has no access token.
        let user_scope = tenant.map(|t| SystemScope::named("identity.refresh").tenant(t));
        let txn = match &user_scope {
            Some(s) => s.begin(&self.db).await?,
            None => self.db.begin().await?.into(),
        };
        if !repo::spend_session(&txn, &scope, &hash).await? {
            drop(txn);
            repo::revoke_session(&self.db, &scope, &row.session_id).await?;
            self.cache
                .revoke_session(
                    &row.session_id,
                    Duration::from_secs(self.settings.auth.access_ttl_secs + 60),
                )
                .await;
            let mut ev = AuditRecord::by(ctx, tenant, "auth.refresh.reused", row.subject.clone())
                .with(json!({"session": row.session_id}));
            ev.actor.clone_from(&row.subject);
            audit::record(&self.db, ev).await?;
            tracing::warn!(session = %row.session_id, "refresh token reused; session revoked");
            return Err(IdentityError::SessionEnded);
        }
        // Role, permissions and disabled state are read fresh, so a change applies at the next refresh.
        let principal = match &user_scope {
            Some(s) => {
                let user = repo::find_user(&txn, s, &row.subject)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                if user.disabled {
                    return Err(IdentityError::Disabled);
                }
                Self::principal_of(s.tenant(), &user)
            }
            None => {
                let op = repo::find_operator(&txn, &row.subject)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                if op.disabled {
                    return Err(IdentityError::Disabled);
                }
                Principal {
                    subject: op.operator_id,
                    role: Role::Operator,
                    ..Principal::default()
                }
            }
        };
        // The one place that says whether a session still holds (here: whether its tenant was
        // archived) decides renewals too; refused, the spend rolls back with the transaction.
        self.gate
            .check(&Principal {
                session: Some(row.session_id.clone()),
                ..principal.clone()
            })
            .await?;
        txn.commit().await?;
        // A staff session keeps the end it was given at login.
        let ends = (user_scope.is_some() && matches!(principal.role, Role::Staff | Role::Admin))
            .then_some(row.expires_at);
        self.issue(&scope, principal, Some(row.session_id), ends)
            .await
    }

    /// Ends the caller's session.
    pub async fn logout(&self, ctx: &RequestContext) -> Result<()> {
        let p = ctx.principal()?;
        let scope = p
            .tenant
            .map_or_else(|| PLATFORM.to_string(), |t| t.to_string());
        if let Some(sid) = &p.session {
            repo::revoke_session(&self.db, &scope, sid).await?;
            self.cache
                .revoke_session(
                    sid,
                    Duration::from_secs(self.settings.auth.access_ttl_secs + 60),
                )
                .await;
        }
        audit::record(
            &self.db,
            AuditRecord::by(ctx, p.tenant, "auth.logout", p.subject.clone()),
        )
        .await?;
        Ok(())
    }

    /// Changes the caller's password and ends their other sessions.
    pub async fn change_password(
        &self,
        ctx: &RequestContext,
        current: &str,
        new: &str,
    ) -> Result<Tokens> {
        let p = ctx.principal()?.clone();
        let mut v = Vec::new();
        domain::check_password("new_password", new, &mut v);
        if current == new {
            v.push(FieldViolation::new(
                "new_password",
                "must differ from the current password",
            ));
        }
        invalid(v)?;
        let scope = p
            .tenant
            .map_or_else(|| PLATFORM.to_string(), |t| t.to_string());
        let lock_key = format!("password:{scope}:{}", p.subject);
        let hash = domain::hash_password(new.to_string()).await?;
        match p.tenant {
            Some(t) => {
                let user_scope = ctx.authorize_tenant(&t)?;
                let txn = user_scope.begin(&self.db).await?;
                let row = repo::find_user(&txn, &user_scope, &p.subject).await?;
                txn.commit().await?;
                let mut row = row.ok_or(IdentityError::SessionEnded)?;
                self.check_password(&lock_key, row.password_hash.clone(), current)
                    .await?;
                row.password_hash = Some(hash);
                let txn = user_scope.begin(&self.db).await?;
                repo::save_user(&txn, &user_scope, row).await?;
                audit::record(
                    &txn,
                    AuditRecord::by(ctx, Some(t), "auth.password.changed", p.subject.clone()),
                )
                .await?;
                txn.commit().await?;
            }
            None => {
                let mut row = repo::find_operator(&self.db, &p.subject)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                self.check_password(&lock_key, Some(row.password_hash.clone()), current)
                    .await?;
                row.password_hash = hash;
                let txn = self.db.begin().await?;
                repo::save_operator(&txn, row).await?;
                audit::record(
                    &txn,
                    AuditRecord::by(ctx, None, "auth.password.changed", p.subject.clone()),
                )
                .await?;
                txn.commit().await?;
            }
        }
        self.end_sessions(&scope, &p.subject, None).await?;
        let ends = match p.tenant {
            Some(t) => {
                self.staff_session_end(t, mm_kernel::auth::role_name(p.role))
                    .await
            }
            None => None,
        };
        self.issue(&scope, Principal { session: None, ..p }, None, ends)
            .await
    }

    /// Creates a platform operator (the CLI's bootstrap).
    pub async fn create_operator(
        &self,
        login: &str,
        display_name: &str,
        password: &str,
    ) -> Result<operators::Model> {
        let login = login.trim().to_lowercase();
        let mut v = Vec::new();
        domain::check_login("login", &login, &mut v);
        domain::check_password("password", password, &mut v);
        invalid(v)?;
        if repo::find_operator_by_login(&self.db, &login)
            .await?
            .is_some()
        {
            return Err(IdentityError::DuplicateLogin { login });
        }
        let now = Utc::now();
        let row = operators::Model {
            operator_id: format!("op_{}", uuid::Uuid::now_v7().simple()),
            login_name: login,
            display_name: display_name.to_string(),
            password_hash: domain::hash_password(password.to_string()).await?,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        Ok(repo::insert_operator(&self.db, row).await?)
    }

    /// A token for an operator (the CLI prints it), valid `ttl_secs`, in a session of its own
    /// like a login's, so Logout (or disabling the operator's sessions) ends it at once. The
    /// session's refresh token is not handed out: the printed token cannot be renewed.
    pub async fn operator_token(
        &self,
        operator: &operators::Model,
        ttl_secs: u64,
    ) -> Result<String> {
        let session = uuid::Uuid::now_v7().to_string();
        let unused_refresh = domain::new_refresh_token(PLATFORM);
        let expires =
            Utc::now() + chrono::Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2));
        repo::insert_session(
            &self.db,
            PLATFORM,
            &domain::hash_token(&unused_refresh),
            &session,
            &operator.operator_id,
            expires,
        )
        .await?;
        self.keys
            .issue_with_ttl(
                &Principal {
                    subject: operator.operator_id.clone(),
                    role: Role::Operator,
                    session: Some(session),
                    ..Principal::default()
                },
                ttl_secs,
            )
            .map_err(|e| anyhow::anyhow!("Failed to sign a token: {e}").into())
    }
}
