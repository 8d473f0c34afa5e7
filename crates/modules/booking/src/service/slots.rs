//! Availability: the bookable range, the slots of a service, and whether one slot can be taken.

use super::*;

impl BookingApp {
    // ---- availability ----

    /// The active service and the active resources performing it (one, when named); read in the
    /// caller's transaction.
    pub(super) async fn bookable(
        db: &impl ConnectionTrait,
        scope: &TenantScope,
        service_id: &str,
        staff_id: Option<&str>,
    ) -> Result<(services::Model, Vec<staff::Model>)> {
        let svc = repo::find_service(db, scope, service_id)
            .await?
            .filter(|s| s.active)
            .ok_or_else(|| not_found("service", service_id))?;
        let staff = match staff_id {
            Some(id) => vec![
                repo::find_staff(db, scope, id)
                    .await?
                    .filter(|s| s.active && performs(s, service_id))
                    .ok_or_else(|| not_found("staff", id))?,
            ],
            None => repo::list_staff(db, scope, true, None, 100)
                .await?
                .into_iter()
                .filter(|s| performs(s, service_id))
                .collect(),
        };
        Ok((svc, staff))
    }

    /// Slots of a service with places left over local dates `from..=to`, optionally for one
    /// resource. Customers get the lead time and horizon; staff see every future slot.
    pub async fn available_slots(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        service_id: &str,
        staff_id: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(Vec<SlotView>, Config)> {
        let (cfg, actor) = self.enter(ctx, scope).await?;
        let days = (to - from).num_days();
        if !(0..MAX_SLOT_DAYS).contains(&days) {
            return Err(RequestError::invalid(
                "end_date",
                format!(
                    "on or after start_date and at most {} days after it",
                    MAX_SLOT_DAYS - 1
                ),
            )
            .into());
        }
        // The service, its resources, their time off and the places taken: one read transaction.
        let txn = scope.begin(&self.db).await?;
        let (svc, staff) = Self::bookable(&txn, scope, service_id, staff_id).await?;
        let now = self.clock.now();
        let range = match actor {
            Actor::Customer => domain::bookable_range(&cfg, now),
            Actor::Staff | Actor::System => Period {
                start: now,
                end: now + Duration::days(3660),
            },
        };
        let offset = cfg.offset();
        let shape = shape(&svc);
        let (Some(p_start), Some(p_end)) = (
            domain::local_to_utc(from, 0, offset),
            to.succ_opt()
                .and_then(|d| domain::local_to_utc(d, 0, offset))
                .map(|t| t + Duration::minutes(shape.occupied_minutes())),
        ) else {
            return Ok((Vec::new(), cfg));
        };
        let ids: Vec<String> = staff.iter().map(|s| s.staff_id.clone()).collect();
        let offs = repo::time_offs(&txn, scope, Some(&ids), p_start, p_end).await?;
        let taken = repo::taken(&txn, scope, &ids, p_start.timestamp(), p_end.timestamp()).await?;
        txn.commit().await?;
        let mut out = Vec::new();
        for s in &staff {
            let starts = domain::slot_starts(
                &hours_of(s),
                &periods(&offs, &s.staff_id),
                shape,
                &cfg,
                from,
                to,
                Some(range),
            );
            for start in starts {
                let cells = Cells::of(start, shape.occupied_minutes(), cfg.slot());
                let used = cells
                    .starts()
                    .map(|c| taken.get(&(s.staff_id.clone(), c)).copied().unwrap_or(0))
                    .max()
                    .unwrap_or(0);
                let remaining = svc.capacity - used;
                if remaining > 0 {
                    out.push(SlotView {
                        service_id: svc.service_id.clone(),
                        staff_id: s.staff_id.clone(),
                        start,
                        end: start + Duration::minutes(shape.duration_minutes),
                        remaining,
                    });
                }
            }
        }
        out.sort_by(|a, b| (a.start, &a.staff_id).cmp(&(b.start, &b.staff_id)));
        Ok((out, cfg))
    }

    /// Whether `start` is a slot the resource offers for the service: on its hours, clear of
    /// breaks and time off, and (customers) inside the lead time and horizon. Time off is read in
    /// the caller's transaction.
    pub(super) async fn check_slot(
        db: &impl ConnectionTrait,
        scope: &TenantScope,
        cfg: &Config,
        svc: &services::Model,
        staff: &staff::Model,
        start: DateTime<Utc>,
        range: Option<Period>,
    ) -> Result<()> {
        let end = start + Duration::minutes(shape(svc).occupied_minutes());
        let offs = repo::time_offs(
            db,
            scope,
            Some(std::slice::from_ref(&staff.staff_id)),
            start,
            end,
        )
        .await?;
        Self::check_slot_against(cfg, svc, staff, &offs, start, range)
    }

    /// [`Self::check_slot`] against time off already read: every one of the resource's (and the
    /// shop's) that overlaps the slot must be among `offs`; others are ignored.
    pub(super) fn check_slot_against(
        cfg: &Config,
        svc: &services::Model,
        staff: &staff::Model,
        offs: &[time_offs::Model],
        start: DateTime<Utc>,
        range: Option<Period>,
    ) -> Result<()> {
        if !domain::on_grid(start, cfg) {
            return Err(BookingError::SlotUnavailable(SlotCause::OffGrid));
        }
        if let Some(r) = range
            && (start < r.start || start > r.end)
        {
            return Err(BookingError::SlotUnavailable(SlotCause::OutsideRange));
        }
        let day = start.with_timezone(&cfg.offset()).date_naive();
        let offered = domain::slot_starts(
            &hours_of(staff),
            &periods(offs, &staff.staff_id),
            shape(svc),
            cfg,
            day,
            day,
            None,
        );
        if !offered.contains(&start) {
            return Err(BookingError::SlotUnavailable(SlotCause::Closed));
        }
        Ok(())
    }

    /// The service and resource a customer's hold checks, with their time off from `now` on:
    /// held in memory (see [`Bookable`]) or read in one transaction and held.
    pub(super) async fn held_bookable(
        &self,
        scope: &TenantScope,
        service_id: &str,
        staff_id: &str,
        now: DateTime<Utc>,
    ) -> Result<std::sync::Arc<Bookable>> {
        let tenant = scope.tenant().to_string();
        let key = format!("{tenant}/{service_id}/{staff_id}");
        if let Some(b) = self.bookable.get(&key)
            && b.from <= now
        {
            return Ok(b);
        }
        let ticket = self.bookable.ticket();
        let txn = scope.begin(&self.db).await?;
        let (service, staff) = Self::bookable(&txn, scope, service_id, Some(staff_id)).await?;
        let Some(staff) = staff.into_iter().next() else {
            return Err(not_found("staff", staff_id));
        };
        let offs = repo::time_offs(
            &txn,
            scope,
            Some(std::slice::from_ref(&staff.staff_id)),
            now,
            now + Duration::days(3660),
        )
        .await?;
        txn.commit().await?;
        let held = std::sync::Arc::new(Bookable {
            service,
            staff,
            offs,
            from: now,
        });
        // A resource with more time off ahead than one read returns is read again per hold.
        if held.offs.len() < BOOKABLE_OFFS {
            self.bookable.fill(ticket, key, tenant, held.clone());
        }
        Ok(held)
    }
}
