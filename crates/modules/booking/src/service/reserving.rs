//! Reservations: holding a slot, confirming, cancelling, moving, and the steps between.

use super::*;

impl BookingApp {
    /// Holds a place for the calling customer (or, `manual`, books a walk-in for staff).
    pub async fn book(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        b: Booking,
        manual: bool,
    ) -> Result<reservations::Model> {
        let (cfg, actor) = self.enter(ctx, scope).await?;
        let (_, customer) = self::actor(ctx)?;
        let subject = ctx.principal()?.subject.clone();
        let mut v = Vec::new();
        if manual {
            if actor != Actor::Staff {
                return Err(RequestError::PermissionDenied("staff book walk-ins".into()).into());
            }
            if !b.request_id.is_empty() {
                check_request_id(&b.request_id, &mut v);
            }
            if b.contact_name.trim().is_empty() || b.contact_name.chars().count() > 64 {
                v.push(FieldViolation::new("contact_name", "1 to 64 characters"));
            }
            if b.contact_phone.chars().count() > 32 {
                v.push(FieldViolation::too_long("contact_phone", 32));
            }
        } else {
            if actor != Actor::Customer {
                return Err(RequestError::PermissionDenied("only customers hold".into()).into());
            }
            check_request_id(&b.request_id, &mut v);
        }
        if b.note.chars().count() > 200 {
            v.push(FieldViolation::too_long("note", 200));
        }
        invalid(v)?;
        // Customers and staff members keep separate idempotency keys.
        let booked_by = match &customer {
            Some(c) => c.clone(),
            None => format!("staff:{subject}"),
        };
        let request_id = if b.request_id.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            b.request_id.clone()
        };
        // No look-up of the key first: a new key (nearly every request) would pay a round trip
        // for nothing. A replay is found when its insert conflicts, or, when the slot it holds
        // is now full or closed, when the attempt fails.
        let (coupon, no_coupon) = (b.coupon.clone(), b.no_coupon);
        match self
            .book_new(scope, &cfg, b, manual, customer, &booked_by, &request_id)
            .await
        {
            // A customer's fresh hold with a deposit may take a discount (none asked of a shop
            // without discounters); its refusals are this request's own, not a replay's.
            Ok((row, true)) => {
                let row = if !manual
                    && row.deposit_fen > 0
                    && !no_coupon
                    && !row.customer_id.is_empty()
                {
                    self.discount_deposit(scope, row, &coupon).await?
                } else {
                    row
                };
                // Announced once settled: a hold refused for its coupon is never seen.
                self.publish(&row, pb::ReservationEventKind::Created).await;
                Ok(row)
            }
            Ok((row, false)) => Ok(row),
            Err(e) if !matches!(e, BookingError::Request(_)) => {
                match self.find_twin(scope, &booked_by, &request_id).await {
                    Ok(Some(twin)) => Ok(twin),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The reservation made with an idempotency key by one booker, read in one statement.
    async fn find_twin(
        &self,
        scope: &TenantScope,
        booked_by: &str,
        request_id: &str,
    ) -> Result<Option<reservations::Model>, sea_orm::DbErr> {
        let txn = scope.one(&self.db).await?;
        let row = repo::find_by_request(&txn, scope, booked_by, request_id).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Writes a new reservation and takes its places; true with it when this call made it,
    /// false when it is the twin an earlier call with the same key made.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn book_new(
        &self,
        scope: &TenantScope,
        cfg: &Config,
        b: Booking,
        manual: bool,
        customer: Option<String>,
        booked_by: &str,
        request_id: &str,
    ) -> Result<(reservations::Model, bool)> {
        let now = self.clock.now();
        let (svc, staff) = if manual {
            // What the slot is checked against, read in one transaction before the one that
            // writes (a walk-in may start before now, before what a held one carries).
            let txn = scope.begin(&self.db).await?;
            let (svc, staff) =
                Self::bookable(&txn, scope, &b.service_id, Some(&b.staff_id)).await?;
            let Some(staff) = staff.into_iter().next() else {
                return Err(not_found("staff", &b.staff_id));
            };
            if b.start < now - Duration::hours(12) {
                return Err(BookingError::SlotUnavailable(SlotCause::LongPast));
            }
            Self::check_slot(&txn, scope, cfg, &svc, &staff, b.start, None).await?;
            txn.commit().await?;
            (svc, staff)
        } else {
            let held = self
                .held_bookable(scope, &b.service_id, &b.staff_id, now)
                .await?;
            let range = domain::bookable_range(cfg, now);
            if held.offs.len() < BOOKABLE_OFFS {
                // Held time off ends after the moment it was read, which is before now and so
                // before any start a customer may hold: every one that could overlap is there.
                Self::check_slot_against(
                    cfg,
                    &held.service,
                    &held.staff,
                    &held.offs,
                    b.start,
                    Some(range),
                )?;
            } else {
                let txn = scope.begin(&self.db).await?;
                let (svc, staff) = (&held.service, &held.staff);
                Self::check_slot(&txn, scope, cfg, svc, staff, b.start, Some(range)).await?;
                txn.commit().await?;
            }
            (held.service.clone(), held.staff.clone())
        };
        let shape = shape(&svc);
        let cells = Cells::of(b.start, shape.occupied_minutes(), cfg.slot());
        let row = reservations::Model {
            tenant_id: scope.tenant(),
            reservation_id: uuid::Uuid::now_v7().to_string(),
            service_id: svc.service_id.clone(),
            staff_id: staff.staff_id.clone(),
            customer_id: customer.unwrap_or_default(),
            booked_by: booked_by.to_string(),
            status: if manual {
                Status::Confirmed
            } else {
                Status::Held
            }
            .as_str()
            .into(),
            starts_at: b.start,
            ends_at: b.start + Duration::minutes(shape.duration_minutes),
            cell_start: cells.start,
            cell_count: i32::try_from(cells.count).unwrap_or(i32::MAX),
            cell_minutes: i32::try_from(cells.minutes).unwrap_or(i32::MAX),
            price_fen: svc.price_fen,
            deposit_fen: svc.deposit_fen,
            request_id: request_id.to_string(),
            contact_name: b.contact_name,
            contact_phone: b.contact_phone,
            note: b.note,
            cancel_reason: String::new(),
            expires_at: if manual {
                b.start
            } else {
                now + Duration::minutes(cfg.hold_minutes)
            },
            // Walk-ins and phone bookings settle at the shop.
            deposit_status: if svc.deposit_fen > 0 && !manual {
                Deposit::Unpaid
            } else {
                Deposit::None
            }
            .as_str()
            .into(),
            prepay_id: None,
            transaction_id: None,
            remind: b.remind && !manual,
            discount_fen: 0,
            discounts: "[]".into(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        // Written with the shop's other holds of the moment, in a writer's transaction (on
        // SQLite it takes the writer in this process's queue of writers).
        let input = (
            *scope,
            row.clone(),
            staff.staff_id.clone(),
            cells,
            svc.capacity,
        );
        let held = mm_kernel::db::retry_conflicts(|| {
            self.holds.run(
                &self.db,
                scope,
                input.clone(),
                |txn, (scope, row, staff, cells, capacity)| {
                    Box::pin(hold_in(txn, scope, row, staff, *cells, *capacity))
                },
            )
        })
        .await?;
        match held {
            Held::Made => {}
            Held::Full => return Err(BookingError::SlotFull),
            // The same request raced us.
            Held::Replay => {
                return self
                    .find_twin(scope, booked_by, request_id)
                    .await?
                    .map(|twin| (twin, false))
                    .ok_or_else(|| {
                        BookingError::Unavailable("the same booking is being made".into())
                    });
            }
        }
        mm_kernel::fault::point("booking.hold.committed");
        tracing::info!(reservation = %row.reservation_id, staff = %row.staff_id, start = %row.starts_at, "reservation made");
        Ok((row, true))
    }

    /// Loads a reservation the caller may see: customers only their own (others' are "not found").
    pub(crate) async fn visible(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<(reservations::Model, Actor, Config)> {
        let (cfg, actor) = self.enter(ctx, scope).await?;
        let (_, customer) = self::actor(ctx)?;
        let row = self.reload(scope, id).await?;
        if customer.is_some_and(|c| c != row.customer_id) {
            return Err(not_found("reservation", id));
        }
        Ok((row, actor, cfg))
    }

    /// A reservation as it stands now, read in one statement; NOT_FOUND when gone.
    pub(crate) async fn reload(
        &self,
        scope: &TenantScope,
        id: &str,
    ) -> Result<reservations::Model> {
        let txn = scope.one(&self.db).await?;
        let row = repo::find_reservation(&txn, scope, id).await?;
        txn.commit().await?;
        row.ok_or_else(|| not_found("reservation", id))
    }

    /// One reservation.
    pub async fn get_reservation(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<reservations::Model> {
        Ok(self.visible(ctx, scope, id).await?.0)
    }

    /// A page of reservations: customers their own, staff all.
    pub async fn list_reservations(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        mut filter: repo::ReservationFilter<'_>,
        after: Option<(DateTime<Utc>, String)>,
        limit: u64,
    ) -> Result<Vec<reservations::Model>> {
        self.enter(ctx, scope).await?;
        let (_, customer) = self::actor(ctx)?;
        filter.customer = customer.as_deref();
        let txn = scope.one(&self.db).await?;
        let rows = repo::list_reservations(&txn, scope, &filter, after, limit).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Confirms, cancels, completes or marks a no-show, by the caller's role and the policy.
    pub async fn advance(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
        action: Action,
    ) -> Result<reservations::Model> {
        let (row, actor, cfg) = self.visible(ctx, scope, id).await?;
        let now = self.clock.now();
        let from = status_of(&row)?;
        // A hold past its deadline is as good as expired, whether or not the sweep got to it.
        if from == Status::Held && row.expires_at <= now && action != Action::Cancel {
            return Err(BookingError::InvalidTransition {
                from: Status::Expired,
                action: action.as_str(),
            });
        }
        domain::check_policy(from, action, actor, row.starts_at, now, &cfg).map_err(refusal)?;
        if action == Action::Confirm && actor == Actor::Customer && row.deposit_fen > 0 {
            return Err(BookingError::DepositRequired {
                deposit_fen: row.deposit_fen,
            });
        }
        let reason = match actor {
            Actor::Customer => "customer",
            Actor::Staff | Actor::System => "shop",
        };
        self.step(scope, row, action, actor, reason).await
    }

    /// Applies one status change with a conditional update, giving the places back in the same
    /// transaction when the reservation stops holding them.
    pub(crate) async fn step(
        &self,
        scope: &TenantScope,
        row: reservations::Model,
        action: Action,
        actor: Actor,
        reason: &str,
    ) -> Result<reservations::Model> {
        let from = status_of(&row)?;
        let to =
            domain::transition(from, action, actor).ok_or(BookingError::InvalidTransition {
                from,
                action: action.as_str(),
            })?;
        let mut extra = Vec::new();
        if to == Status::Cancelled {
            extra.push((
                reservations::Column::CancelReason,
                Expr::value(reason.to_string()),
            ));
        }
        // Read before the transaction: no module call while holding the database's writer.
        let reminders = if to == Status::Confirmed {
            Some(self.upstream.config(scope.tenant()).await?)
        } else {
            None
        };
        // A completed booking is told to the shop's discounters (points); unknown for now (the
        // tenant service unreachable), it is told anyway and the sender finds them.
        let rewards = to == Status::Completed
            && self
                .upstream
                .discounters(scope.tenant())
                .await
                .map_or(true, |d| !d.is_empty());
        let event = discounts::event_of(from, to, &row, rewards);
        let txn = scope.begin(&self.db).await?;
        if !repo::move_reservation(&txn, scope, &row, to.as_str(), extra).await? {
            drop(txn);
            let now = self.reload(scope, &row.reservation_id).await?;
            return Err(BookingError::InvalidTransition {
                from: status_of(&now)?,
                action: action.as_str(),
            });
        }
        if from.holds_place()
            && !to.holds_place()
            && matches!(to, Status::Cancelled | Status::Expired)
        {
            repo::release_cells(&txn, scope, &row.staff_id, cells_of(&row)).await?;
        }
        let refund = matches!(to, Status::Cancelled | Status::Expired)
            && Self::mark_refund(&txn, scope, &row).await?;
        if let Some(cfg) = &reminders {
            outbox::schedule(&txn, scope, &row, cfg).await?;
        } else if !to.holds_place() {
            outbox::withdraw(&txn, scope, &row.reservation_id).await?;
        }
        if let Some(kind) = event {
            discounts::record(&txn, scope, &row.reservation_id, kind).await?;
        }
        txn.commit().await?;
        if event.is_some() {
            self.tell_discounters(scope, &row.reservation_id).await;
        }
        mm_kernel::fault::point_of(&["booking", "step", to.as_str(), "committed"]);
        if refund {
            self.refund_after_cancel(scope, &row.reservation_id).await;
        }
        if matches!(to, Status::Cancelled | Status::Expired) {
            // An unpaid deposit's transaction is closed so it can no longer be paid.
            self.close_quietly(scope.tenant(), &row).await;
        }
        let now = self.reload(scope, &row.reservation_id).await?;
        self.publish(&now, pb::ReservationEventKind::Updated).await;
        Ok(now)
    }

    /// Moves a reservation to another slot of the same service: the old places are given back and
    /// the new ones taken in one transaction (cells in both kept as they are), so a failed move
    /// leaves everything as it was.
    pub async fn reschedule(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
        start: DateTime<Utc>,
        staff_id: Option<&str>,
    ) -> Result<reservations::Model> {
        let (row, actor, cfg) = self.visible(ctx, scope, id).await?;
        let now = self.clock.now();
        let from = status_of(&row)?;
        if domain::transition(from, Action::Reschedule, actor).is_none()
            || (from == Status::Held && row.expires_at <= now)
        {
            return Err(BookingError::InvalidTransition {
                from,
                action: Action::Reschedule.as_str(),
            });
        }
        domain::check_policy(from, Action::Reschedule, actor, row.starts_at, now, &cfg)
            .map_err(refusal)?;
        let staff_id = staff_id.unwrap_or(&row.staff_id).to_string();
        // What the new slot is checked against, read in one transaction before the one that writes.
        let txn = scope.begin(&self.db).await?;
        let (svc, staff) = Self::bookable(&txn, scope, &row.service_id, Some(&staff_id)).await?;
        let Some(staff) = staff.into_iter().next() else {
            return Err(not_found("staff", &staff_id));
        };
        let range = match actor {
            Actor::Customer => Some(domain::bookable_range(&cfg, now)),
            Actor::Staff | Actor::System => None,
        };
        Self::check_slot(&txn, scope, &cfg, &svc, &staff, start, range).await?;
        txn.commit().await?;
        let shape = shape(&svc);
        let cells = Cells::of(start, shape.occupied_minutes(), cfg.slot());
        let txn = scope.begin(&self.db).await?;
        let moved = repo::move_reservation(
            &txn,
            scope,
            &row,
            &row.status,
            vec![
                (
                    reservations::Column::StaffId,
                    Expr::value(staff.staff_id.clone()),
                ),
                (reservations::Column::StartsAt, Expr::value(start)),
                (
                    reservations::Column::EndsAt,
                    Expr::value(start + Duration::minutes(shape.duration_minutes)),
                ),
                (reservations::Column::CellStart, Expr::value(cells.start)),
                (
                    reservations::Column::CellCount,
                    Expr::value(i32::try_from(cells.count).unwrap_or(i32::MAX)),
                ),
                (
                    reservations::Column::CellMinutes,
                    Expr::value(i32::try_from(cells.minutes).unwrap_or(i32::MAX)),
                ),
            ],
        )
        .await?;
        if !moved {
            drop(txn);
            let now = self.reload(scope, id).await?;
            return Err(BookingError::InvalidTransition {
                from: status_of(&now)?,
                action: Action::Reschedule.as_str(),
            });
        }
        if !repo::move_cells(
            &txn,
            scope,
            &row.staff_id,
            cells_of(&row),
            &staff.staff_id,
            cells,
            svc.capacity,
        )
        .await?
        {
            drop(txn);
            return Err(BookingError::SlotFull);
        }
        if from == Status::Confirmed {
            let moved = reservations::Model {
                starts_at: start,
                ..row.clone()
            };
            outbox::schedule(&txn, scope, &moved, &cfg).await?;
        }
        txn.commit().await?;
        let now = self.reload(scope, id).await?;
        self.publish(&now, pb::ReservationEventKind::Updated).await;
        Ok(now)
    }
}

/// What a hold's write found.
enum Held {
    Made,
    /// Its idempotency key was taken: nothing written.
    Replay,
    /// Its first cell was full: nothing written.
    Full,
}

/// A hold's write in its transaction: the reservation, then its places, cell by cell. A cell
/// found full after others were taken is an error, which rolls back what the hold wrote.
async fn hold_in(
    txn: &mm_kernel::ScopedTxn,
    scope: &TenantScope,
    row: &reservations::Model,
    staff: &str,
    cells: Cells,
    capacity: i32,
) -> Result<Held> {
    if !repo::insert_reservation(txn, scope, row.clone()).await? {
        return Ok(Held::Replay);
    }
    match repo::take_cells_counted(txn, scope, staff, cells, capacity).await? {
        n if n == cells.count => Ok(Held::Made),
        0 => {
            repo::unwrite_reservation(txn, scope, &row.reservation_id).await?;
            Ok(Held::Full)
        }
        _ => Err(BookingError::SlotFull),
    }
}
