//! What a shop books out: its services, its staff (or rooms) with their weekly hours, and time off.

use super::*;

impl BookingApp {
    // ---- services ----

    /// Creates a service.
    pub async fn create_service(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        input: ServiceInput,
    ) -> Result<services::Model> {
        self.enter(ctx, scope).await?;
        let now = self.clock.now();
        let row = services::Model {
            tenant_id: scope.tenant(),
            service_id: uuid::Uuid::now_v7().to_string(),
            display_name: input.display_name,
            description: input.description,
            duration_minutes: input.duration_minutes,
            price_fen: input.price_fen,
            capacity: input.capacity,
            buffer_minutes: input.buffer_minutes,
            deposit_fen: input.deposit_fen,
            active: input.active,
            created_at: now,
            updated_at: now,
        };
        let txn = scope.begin(&self.db).await?;
        repo::insert_service(&txn, scope, row.clone()).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// One service; customers see active ones only.
    pub async fn get_service(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<services::Model> {
        let (_, actor) = self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_service(&txn, scope, id).await?;
        txn.commit().await?;
        row.filter(|s| s.active || actor == Actor::Staff)
            .ok_or_else(|| not_found("service", id))
    }

    /// A page of services.
    pub async fn list_services(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<services::Model>> {
        let (_, actor) = self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        let rows = repo::list_services(&txn, scope, actor == Actor::Customer, after, limit).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Replaces a service's editable fields.
    pub async fn update_service(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
        input: ServiceInput,
    ) -> Result<services::Model> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin_write(&self.db).await?;
        let old = repo::find_service(&txn, scope, id)
            .await?
            .ok_or_else(|| not_found("service", id))?;
        let row = services::Model {
            display_name: input.display_name,
            description: input.description,
            duration_minutes: input.duration_minutes,
            price_fen: input.price_fen,
            capacity: input.capacity,
            buffer_minutes: input.buffer_minutes,
            deposit_fen: input.deposit_fen,
            active: input.active,
            updated_at: Utc::now(),
            ..old
        };
        if !repo::update_service(&txn, scope, row.clone()).await? {
            return Err(not_found("service", id));
        }
        txn.commit().await?;
        self.resources_changed(scope).await;
        Ok(row)
    }

    /// Deletes a service.
    pub async fn delete_service(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<()> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        if !repo::delete_service(&txn, scope, id).await? {
            return Err(not_found("service", id));
        }
        txn.commit().await?;
        self.resources_changed(scope).await;
        Ok(())
    }

    // ---- staff ----

    /// INVALID_ARGUMENT unless every id is a service of the tenant; in the caller's transaction.
    pub(super) async fn check_services(
        db: &impl ConnectionTrait,
        scope: &TenantScope,
        ids: &[String],
    ) -> Result<()> {
        for id in ids {
            if repo::find_service(db, scope, id).await?.is_none() {
                return Err(
                    RequestError::invalid("staff.services", format!("no service {id}")).into(),
                );
            }
        }
        Ok(())
    }

    /// Creates a resource.
    pub async fn create_staff(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        input: StaffInput,
    ) -> Result<staff::Model> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin_write(&self.db).await?;
        Self::check_services(&txn, scope, &input.service_ids).await?;
        let now = self.clock.now();
        let row = staff::Model {
            tenant_id: scope.tenant(),
            staff_id: uuid::Uuid::now_v7().to_string(),
            display_name: input.display_name,
            kind: input.kind.to_string(),
            service_ids: serde_json::to_string(&input.service_ids).map_err(anyhow::Error::from)?,
            weekly_hours: serde_json::to_string(&input.weekly_hours)
                .map_err(anyhow::Error::from)?,
            active: input.active,
            created_at: now,
            updated_at: now,
        };
        repo::insert_staff(&txn, scope, row.clone()).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// One resource; customers see active ones only.
    pub async fn get_staff(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<staff::Model> {
        let (_, actor) = self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_staff(&txn, scope, id).await?;
        txn.commit().await?;
        row.filter(|s| s.active || actor == Actor::Staff)
            .ok_or_else(|| not_found("staff", id))
    }

    /// A page of resources, optionally only those performing a service.
    pub async fn list_staff(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        service: Option<&str>,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<staff::Model>> {
        let (_, actor) = self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        let mut rows =
            repo::list_staff(&txn, scope, actor == Actor::Customer, after, limit).await?;
        txn.commit().await?;
        if let Some(s) = service {
            // Filtered after paging: a page may come back short, never wrong.
            rows.retain(|r| performs(r, s));
        }
        Ok(rows)
    }

    /// Replaces a resource's editable fields.
    pub async fn update_staff(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
        input: StaffInput,
    ) -> Result<staff::Model> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin_write(&self.db).await?;
        Self::check_services(&txn, scope, &input.service_ids).await?;
        let old = repo::find_staff(&txn, scope, id)
            .await?
            .ok_or_else(|| not_found("staff", id))?;
        let row = staff::Model {
            display_name: input.display_name,
            kind: input.kind.to_string(),
            service_ids: serde_json::to_string(&input.service_ids).map_err(anyhow::Error::from)?,
            weekly_hours: serde_json::to_string(&input.weekly_hours)
                .map_err(anyhow::Error::from)?,
            active: input.active,
            updated_at: Utc::now(),
            ..old
        };
        if !repo::update_staff(&txn, scope, row.clone()).await? {
            return Err(not_found("staff", id));
        }
        txn.commit().await?;
        self.resources_changed(scope).await;
        Ok(row)
    }

    /// Deletes a resource.
    pub async fn delete_staff(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<()> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        if !repo::delete_staff(&txn, scope, id).await? {
            return Err(not_found("staff", id));
        }
        txn.commit().await?;
        self.resources_changed(scope).await;
        Ok(())
    }

    // ---- time off ----

    /// Records a time off.
    pub async fn create_time_off(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        input: TimeOffInput,
    ) -> Result<time_offs::Model> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin_write(&self.db).await?;
        if !input.staff_id.is_empty()
            && repo::find_staff(&txn, scope, &input.staff_id)
                .await?
                .is_none()
        {
            return Err(not_found("staff", &input.staff_id));
        }
        let now = self.clock.now();
        let row = time_offs::Model {
            tenant_id: scope.tenant(),
            time_off_id: uuid::Uuid::now_v7().to_string(),
            staff_id: input.staff_id,
            starts_at: input.period.start,
            ends_at: input.period.end,
            reason: input.reason,
            created_at: now,
            updated_at: now,
        };
        repo::insert_time_off(&txn, scope, row.clone()).await?;
        txn.commit().await?;
        self.resources_changed(scope).await;
        Ok(row)
    }

    /// Time off overlapping a period.
    pub async fn list_time_offs(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        period: Period,
    ) -> Result<Vec<time_offs::Model>> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        let rows = repo::time_offs(&txn, scope, None, period.start, period.end).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Deletes a time off.
    pub async fn delete_time_off(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<()> {
        self.enter(ctx, scope).await?;
        let txn = scope.begin(&self.db).await?;
        if !repo::delete_time_off(&txn, scope, id).await? {
            return Err(not_found("time off", id));
        }
        txn.commit().await?;
        self.resources_changed(scope).await;
        Ok(())
    }

    /// Drops what holds were checked against (a held [`Bookable`]) in every instance, after a
    /// change to a service, a resource or time off has committed. It announces the tenant as
    /// changed, which also drops the tenant's other held answers: these edits are a shop's
    /// rare admin work, and a hold must never be checked against hours or time off that no
    /// longer stand.
    async fn resources_changed(&self, scope: &TenantScope) {
        self.cache.invalidate(&scope.tenant(), &[]).await;
    }
}
