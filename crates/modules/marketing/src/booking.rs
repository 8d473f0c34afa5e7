//! Marketing's side of booking's discount contract: a coupon for booking taken off a
//! reservation's deposit (locked with the same conditional update as an order's, under the key
//! `reservation:{id}`, so one coupon serves one order or one reservation, never both), used when
//! the booking is confirmed, given back when it is called off; and points for a completed booking
//! (`reservations/{r}:earn`, once however often booking repeats the event).

use mm_kernel::RequestContext;
use mm_kernel::error::RequestError;
use mm_kernel::names::{Child, name_of};
use mm_proto::minimodules::booking::v1 as bpb;

use crate::domain::{self, BasketLine};
use crate::error::{MarketingError, Result};
use crate::names::{Coupons, Reservations, Users};
use crate::repo;
use crate::service::{MarketingApp, terms_of};

/// The checkout of booking, as templates' `modules` name it.
const BOOKING: &str = "booking";

/// The key a reservation locks coupons under (in the column orders use).
pub fn key(reservation: &str) -> String {
    format!("reservation:{reservation}")
}

/// The reservation id of a lock key, when the key is a reservation's.
pub fn reservation_of(key: &str) -> Option<&str> {
    key.strip_prefix("reservation:")
}

impl MarketingApp {
    /// Locks the best coupon for booking (or the one picked) to a reservation's deposit; the same
    /// reservation again answers what it locked.
    pub async fn lock_deposit(
        &self,
        ctx: &RequestContext,
        r: &bpb::LockDepositDiscountsRequest,
    ) -> Result<Vec<bpb::DepositDiscount>> {
        let (tenant, id) =
            Child::<Reservations>::parse(&r.reservation, "reservation")?.into_parts();
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        let customer = Child::<Users>::id_in(tenant, &r.customer, "customer")?;
        if r.deposit_fen <= 0 {
            return Err(RequestError::invalid("deposit_fen", "must be above 0").into());
        }
        let picked = if r.no_coupon {
            return Ok(Vec::new());
        } else if r.coupon.is_empty() {
            None
        } else {
            Some(Child::<Coupons>::id_in(tenant, &r.coupon, "coupon")?)
        };
        let key = key(&id);
        let now = self.clock.now();
        let txn = scope.one(&self.db).await?;
        let repo::Checkout { locked, usable, .. } =
            repo::for_checkout(&txn, &scope, &customer, &key, now, picked.as_deref()).await?;
        let held = self
            .with_templates(&txn, &scope, locked.into_iter().chain(usable).collect())
            .await?;
        txn.commit().await?;
        let line = [BasketLine {
            product_id: String::new(),
            sku_id: String::new(),
            category_id: String::new(),
            unit_price_fen: r.deposit_fen,
            quantity: 1,
        }];
        let discount = |h: &crate::service::Held, off: i64| {
            let (label_zh, label_en) = domain::label(&terms_of(&h.template));
            bpb::DepositDiscount {
                source: name_of::<Coupons>(tenant, &h.coupon.coupon_id),
                kind: "COUPON".into(),
                label_zh,
                label_en,
                amount_fen: off,
            }
        };
        if let Some(h) = held.iter().find(|h| h.coupon.order_id == key) {
            return Ok(vec![discount(h, h.coupon.discount_fen)]);
        }
        let mut options: Vec<(
            &crate::service::Held,
            std::result::Result<i64, domain::Problem>,
        )> = held
            .iter()
            .map(|h| (h, domain::discount(&terms_of(&h.template), BOOKING, &line)))
            .collect();
        options.sort_by(|a, b| {
            b.1.unwrap_or(0)
                .cmp(&a.1.unwrap_or(0))
                .then(a.0.coupon.valid_until.cmp(&b.0.coupon.valid_until))
        });
        let candidates: Vec<(&crate::service::Held, i64)> = match &picked {
            None => options
                .iter()
                .filter_map(|(h, off)| off.ok().filter(|x| *x > 0).map(|x| (*h, x)))
                .collect(),
            Some(id) => {
                let Some((h, off)) = options.iter().find(|(h, _)| &h.coupon.coupon_id == id) else {
                    return Err(MarketingError::CouponUnavailable);
                };
                match off {
                    Ok(x) if *x > 0 => vec![(*h, *x)],
                    Ok(_) => {
                        return Err(MarketingError::CouponNotApplicable {
                            problem: domain::Problem::NotInScope.as_str(),
                        });
                    }
                    Err(p) => {
                        return Err(MarketingError::CouponNotApplicable {
                            problem: p.as_str(),
                        });
                    }
                }
            }
        };
        for (h, off) in candidates {
            let off = off.min(r.deposit_fen);
            let txn = scope.one(&self.db).await?;
            let won =
                repo::lock(&txn, &scope, &h.coupon.coupon_id, &customer, &key, off, now).await?;
            txn.commit().await?;
            if won {
                return Ok(vec![discount(h, off)]);
            }
            if picked.is_some() {
                return Err(MarketingError::CouponUnavailable);
            }
        }
        Ok(Vec::new())
    }

    /// Applies what became of a reservation; false when nothing changed (a repeat, no coupon,
    /// no points).
    pub async fn on_reservation_event(
        &self,
        ctx: &RequestContext,
        r: &bpb::OnReservationDiscountEventRequest,
    ) -> Result<bool> {
        let (tenant, id) =
            Child::<Reservations>::parse(&r.reservation, "reservation")?.into_parts();
        let scope = ctx.authorize_tenant(&tenant)?;
        let customer = Child::<Users>::opt_id_in(tenant, &r.customer, "customer")?;
        let key = key(&id);
        let now = self.clock.now();
        let kind = bpb::ReservationDiscountEventKind::try_from(r.kind)
            .unwrap_or(bpb::ReservationDiscountEventKind::Unspecified);
        if kind == bpb::ReservationDiscountEventKind::Completed {
            let Some(customer) = customer else {
                return Ok(false);
            };
            return match self.config(tenant).await {
                Ok(config) => {
                    self.earn_for_booking(&scope, &config, &customer, &id, r.amount_fen)
                        .await
                }
                // Switched off since: no points.
                Err(MarketingError::ModuleDisabled) => Ok(false),
                Err(e) => Err(e),
            };
        }
        let (from, to) = match kind {
            bpb::ReservationDiscountEventKind::Confirmed => (repo::LOCKED, repo::USED),
            bpb::ReservationDiscountEventKind::Released => (repo::LOCKED, repo::AVAILABLE),
            bpb::ReservationDiscountEventKind::Returned => (repo::USED, repo::AVAILABLE),
            _ => return Err(RequestError::invalid("kind", "is required").into()),
        };
        let txn = scope.begin_write(&self.db).await?;
        let moved =
            repo::move_order_coupons(&txn, &scope, &key, from, to, r.amount_fen, now).await?;
        for c in &moved {
            match kind {
                bpb::ReservationDiscountEventKind::Confirmed => {
                    repo::count_use(&txn, &scope, &c.template_id, 1, r.amount_fen).await?;
                }
                bpb::ReservationDiscountEventKind::Returned => {
                    repo::count_use(&txn, &scope, &c.template_id, -1, c.order_total_fen).await?;
                }
                _ => {}
            }
        }
        // Cancelled after confirmation before its confirmation was heard of here.
        let unlocked = if kind == bpb::ReservationDiscountEventKind::Returned {
            repo::move_order_coupons(&txn, &scope, &key, repo::LOCKED, repo::AVAILABLE, 0, now)
                .await?
        } else {
            Vec::new()
        };
        txn.commit().await?;
        let mut given_back: Vec<&str> = moved
            .iter()
            .chain(&unlocked)
            .filter(|_| to == repo::AVAILABLE)
            .map(|c| c.customer_id.as_str())
            .collect();
        given_back.dedup();
        for c in given_back {
            self.memo.changed(tenant, c).await;
        }
        Ok(!moved.is_empty() || !unlocked.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_key_reads_back_and_an_order_id_is_no_reservation() {
        assert_eq!(reservation_of(&key("r1")), Some("r1"));
        assert_eq!(reservation_of("0190aaaa-order"), None);
    }
}
