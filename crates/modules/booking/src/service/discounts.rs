//! Discounts on deposits and rewards for bookings, through booking's discount contract
//! (`discounts.proto`), which booking owns and which modules serve (marketing: coupons, points).
//!
//! A hold with a deposit asks the tenant's discounters (none: no call) to lock their discounts
//! to the reservation once its places are taken, and the deposit left to pay is written back;
//! a coupon picked that cannot be used gives the places back and refuses the hold. What then
//! becomes of the booking (confirmed, called off while held, cancelled once confirmed,
//! completed) is written to the outbox in the transaction that changes the booking, tried at
//! once, and retried by the sender until the discounters have it (their events are idempotent,
//! so unlike a reminder a repeat is harmless).

use super::*;

use crate::domain::DepositDiscount;
use crate::names::{Reservations, Services, Users};
use crate::upstream::SendError;
use mm_kernel::names::name_of;

/// Outbox kinds of discount events start with this.
pub const EVENT: &str = "disc:";

/// What a status change tells the discounters, if anything. `rewards`: the tenant has
/// discounters (a completed booking earns points even without a discount).
pub fn event_of(
    from: Status,
    to: Status,
    row: &reservations::Model,
    rewards: bool,
) -> Option<pb::ReservationDiscountEventKind> {
    use pb::ReservationDiscountEventKind as K;
    let discounted = row.discount_fen > 0;
    match (from, to) {
        (Status::Held, Status::Confirmed) if discounted => Some(K::Confirmed),
        (Status::Held, Status::Cancelled | Status::Expired) if discounted => Some(K::Released),
        (Status::Confirmed, Status::Cancelled) if discounted => Some(K::Returned),
        (_, Status::Completed) if rewards && !row.customer_id.is_empty() => Some(K::Completed),
        _ => None,
    }
}

fn kind_name(k: pb::ReservationDiscountEventKind) -> String {
    let s = k.as_str_name();
    format!(
        "{EVENT}{}",
        s.trim_start_matches("RESERVATION_DISCOUNT_EVENT_KIND_")
            .to_lowercase()
    )
}

fn kind_of(name: &str) -> Option<pb::ReservationDiscountEventKind> {
    let k = name.strip_prefix(EVENT)?.to_uppercase();
    pb::ReservationDiscountEventKind::from_str_name(&format!("RESERVATION_DISCOUNT_EVENT_KIND_{k}"))
}

/// Writes the event into the outbox inside the transaction changing the booking (once per
/// reservation and kind).
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    scope: &TenantScope,
    reservation: &str,
    kind: pb::ReservationDiscountEventKind,
) -> std::result::Result<(), sea_orm::DbErr> {
    outbox::enqueue_now(txn, scope, reservation, &kind_name(kind)).await
}

impl BookingApp {
    /// Locks the deposit's discounts to a fresh hold and writes back what is left to pay;
    /// refuses the hold (its places given back) when the coupon picked cannot be used.
    pub(super) async fn discount_deposit(
        &self,
        scope: &TenantScope,
        row: reservations::Model,
        coupon: &str,
    ) -> Result<reservations::Model> {
        let t = scope.tenant();
        let services = match self.upstream.discounters(t).await {
            Ok(s) => s,
            Err(e) => {
                self.abandon_hold(scope, &row).await?;
                return Err(e);
            }
        };
        if services.is_empty() {
            return Ok(row);
        }
        let mut taken: Vec<DepositDiscount> = Vec::new();
        for service in &services {
            let req = pb::LockDepositDiscountsRequest {
                reservation: name_of::<Reservations>(t, &row.reservation_id),
                customer: name_of::<Users>(t, &row.customer_id),
                service: name_of::<Services>(t, &row.service_id),
                price_fen: row.price_fen,
                deposit_fen: row.deposit_fen,
                coupon: coupon.to_string(),
                no_coupon: false,
            };
            match self.upstream.lock_deposit(t, service, req).await {
                Ok(d) => taken.extend(d.into_iter().map(|d| DepositDiscount {
                    service: service.clone(),
                    source: d.source,
                    kind: d.kind,
                    label_zh: d.label_zh,
                    label_en: d.label_en,
                    amount_fen: d.amount_fen.max(0),
                })),
                Err(e) => {
                    self.abandon_hold(scope, &row).await?;
                    return Err(e);
                }
            }
        }
        let off = taken
            .iter()
            .map(|d| d.amount_fen)
            .fold(0, i64::saturating_add)
            .min(row.deposit_fen);
        if off <= 0 {
            return Ok(row);
        }
        let left = row.deposit_fen - off;
        let txn = scope.begin(&self.db).await?;
        scope
            .update_many::<reservations::Entity>()
            .col_expr(reservations::Column::DepositFen, Expr::value(left))
            .col_expr(reservations::Column::DiscountFen, Expr::value(off))
            .col_expr(
                reservations::Column::Discounts,
                Expr::value(serde_json::to_string(&taken).map_err(anyhow::Error::from)?),
            )
            .col_expr(
                reservations::Column::DepositStatus,
                Expr::value(if left > 0 {
                    Deposit::Unpaid.as_str()
                } else {
                    Deposit::None.as_str()
                }),
            )
            .filter(reservations::Column::ReservationId.eq(row.reservation_id.clone()))
            .filter(reservations::Column::DepositStatus.eq(Deposit::Unpaid.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.reload(scope, &row.reservation_id).await
    }

    /// Drops a hold whose discounts could not be settled, as if it was never made (the customer
    /// was refused; it is no booking of theirs): its places go back and whatever a discounter
    /// may have locked under it is released (a no-op when nothing was).
    async fn abandon_hold(&self, scope: &TenantScope, row: &reservations::Model) -> Result<()> {
        let txn = scope.begin(&self.db).await?;
        let gone = scope
            .delete_many::<reservations::Entity>()
            .filter(reservations::Column::ReservationId.eq(row.reservation_id.clone()))
            .filter(reservations::Column::Status.eq(Status::Held.as_str()))
            .filter(reservations::Column::Version.eq(row.version))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if gone {
            repo::release_cells(&txn, scope, &row.staff_id, cells_of(row)).await?;
            record(
                &txn,
                scope,
                &row.reservation_id,
                pb::ReservationDiscountEventKind::Released,
            )
            .await?;
        }
        txn.commit().await?;
        self.tell_discounters(scope, &row.reservation_id).await;
        Ok(())
    }

    /// Tries the reservation's owed discount events now; what fails stays for the sender.
    pub(crate) async fn tell_discounters(&self, scope: &TenantScope, reservation: &str) {
        if let Err(e) = outbox::deliver_pending(self, scope, reservation, EVENT).await {
            tracing::warn!(%reservation, error = %e, "discount events not told yet; the sender retries");
        }
    }

    /// Tells the discounters one event of the outbox; `Ok(false)` when it is not one.
    pub(crate) async fn send_discount_event(
        &self,
        scope: &TenantScope,
        kind: &str,
        reservation: &str,
    ) -> std::result::Result<bool, SendError> {
        let Some(kind) = kind_of(kind) else {
            return Ok(false);
        };
        let retry = |e: &dyn std::fmt::Display| SendError::Retry(e.to_string());
        let t = scope.tenant();
        // A hold dropped before it was made (its discounts refused) is gone: what it may have
        // locked is released by reservation alone.
        let row = match self.reload(scope, reservation).await {
            Ok(row) => Some(row),
            Err(BookingError::NotFound { .. }) => None,
            Err(e) => return Err(retry(&e)),
        };
        // The modules that granted the deposit's discounts, and every one the shop has now (a
        // completed booking earns points).
        let mut services = self.upstream.discounters(t).await.map_err(|e| retry(&e))?;
        let stored: Vec<DepositDiscount> = row
            .as_ref()
            .map(|r| serde_json::from_str(&r.discounts).unwrap_or_default())
            .unwrap_or_default();
        services.extend(stored.into_iter().map(|d| d.service));
        let (customer, amount) = row.as_ref().map_or((String::new(), 0), |r| {
            (
                if r.customer_id.is_empty() {
                    String::new()
                } else {
                    name_of::<Users>(t, &r.customer_id)
                },
                (r.price_fen - r.discount_fen).max(0),
            )
        });
        services.sort();
        services.dedup();
        for service in services {
            let applied = self
                .upstream
                .reservation_event(
                    t,
                    &service,
                    pb::OnReservationDiscountEventRequest {
                        reservation: name_of::<Reservations>(t, reservation),
                        kind: kind as i32,
                        customer: customer.clone(),
                        amount_fen: amount,
                    },
                )
                .await?;
            tracing::info!(%reservation, %service, ?kind, applied, "discounts told");
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_read_back_from_their_outbox_names() {
        use pb::ReservationDiscountEventKind as K;
        for k in [K::Confirmed, K::Released, K::Returned, K::Completed] {
            let name = kind_name(k);
            assert!(name.len() <= 16, "{name} fits the outbox's kind");
            assert_eq!(kind_of(&name), Some(k));
        }
        assert_eq!(kind_of("reminder"), None);
    }
}
